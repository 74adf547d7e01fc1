"""Beam's pipeline options for a local run, chosen by input size.

Beam's DirectRunner runs in this process (`in_memory`: no start-up cost, one core for the Python work) or in worker
processes (`multi_processing`: each worker imports TensorFlow first, a few seconds, then every core works). The
data components run once per input size class, so `auto` picks in_memory below MULTI_PROCESSING_BYTES of input and
one worker per core above it. `beam.args` replaces all of this with the user's own options (Flink, Spark, Dataflow).
"""
import glob
import os
import shlex
from typing import Iterable, List

from components.core.config import SPAN, BeamConfig

# At and above this much input, worker processes pay for their start-up (measured: bench/data_scale.py, BUILD.md).
MULTI_PROCESSING_BYTES = 32 * 2**20


def local_args(beam: BeamConfig, input_paths: Iterable[str]) -> List[str]:
    """The beam_pipeline_args of a local run reading `input_paths` (files, directories or globs)."""
    if beam.args:
        return shlex.split(beam.args)
    mode = beam.mode
    if mode == "auto":
        mode = "multi_processing" if input_bytes(input_paths) >= MULTI_PROCESSING_BYTES else "in_memory"
    workers = 1 if mode == "in_memory" else beam.workers or os.cpu_count() or 1
    return [f"--direct_running_mode={mode}", f"--direct_num_workers={workers}"]


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
