"""Beam's pipeline options for a local run, chosen by input size.

Beam's DirectRunner runs in this process (`in_memory`: no start-up cost, one core for the Python work) or in worker
processes (`multi_processing`: each worker imports TensorFlow first, then every core works). Measured on 2 cores
(bench/data_scale.py, BUILD.md), two workers never paid for themselves: at 1M rows Transform took as long either
way, and below that in-memory won. So `auto` starts workers only where there are cores to gain (MIN_CORES) and
input large enough to amortize their start (MULTI_PROCESSING_BYTES). `beam.args` replaces all of this with the
user's own options (Flink, Spark, Dataflow).
"""
import glob
import os
import shlex
from typing import Iterable, List

from components.core.config import SPAN, BeamConfig

MULTI_PROCESSING_BYTES = 32 * 2**20  # ~300k short rows: workers start in ~10 s, which in-memory spends on ~80k rows
MIN_CORES = 4
IN_MEMORY = ("--direct_running_mode=in_memory", "--direct_num_workers=1")


def local_args(beam: BeamConfig, input_paths: Iterable[str]) -> List[str]:
    """The beam_pipeline_args of a local run reading `input_paths` (files, directories or globs)."""
    if beam.args:
        return shlex.split(beam.args)
    mode, cores = beam.mode, os.cpu_count() or 1
    if mode == "auto":
        large = cores >= MIN_CORES and input_bytes(input_paths) >= MULTI_PROCESSING_BYTES
        mode = "multi_processing" if large else "in_memory"
    if mode == "in_memory":
        return list(IN_MEMORY)
    return [f"--direct_running_mode={mode}", f"--direct_num_workers={beam.workers or cores}"]


def input_bytes(paths: Iterable[str]) -> int:
    """Bytes in the files under `paths` (a directory counts every file below it; a glob, what it matches; a {SPAN}
    pattern, every span)."""
    total = 0
    for path in paths:
        for match in glob.glob(path.replace(SPAN, "*")):
            if os.path.isdir(match):
                total += sum(os.path.getsize(os.path.join(root, name))
                             for root, _, names in os.walk(match) for name in names)
            elif os.path.isfile(match):
                total += os.path.getsize(match)
    return total
