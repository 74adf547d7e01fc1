"""What every pipeline benchmark does around its own data and scoring: run the real pipeline once, time it, and
find the version the Pusher wrote."""
import dataclasses
import os
import tempfile
import time
from typing import Sequence


@dataclasses.dataclass(frozen=True)
class PipelineRun:
    config: object  # pipeline.config.Config
    report: object  # pipeline.run_report.RunReport
    wall_seconds: float
    trainer_seconds: float  # the Trainer execution, export included (from ML Metadata)
    pushed_dir: str  # <serving_root>/<model_name>/<latest version>


def workdir(given: str, prefix: str) -> str:
    return given or tempfile.mkdtemp(prefix=prefix)


def run_pipeline(overrides: Sequence[str], workdir_path: str) -> PipelineRun:
    """Runs the pipeline with `overrides` on the defaults, prints its per-component report."""
    from components.core import config as config_lib
    from pipeline import console, local_runner

    console.setup()
    config = config_lib.load(None, overrides)
    start = time.perf_counter()
    report, paths = local_runner.run(config, workdir_path)
    wall = time.perf_counter() - start
    print("\n".join(report.lines()), flush=True)
    model_dir = os.path.join(paths.serving_root, config.serving.model_name)
    version = max(int(v) for v in os.listdir(model_dir) if v.isdigit())
    trainer = next(c.seconds for c in report.components if c.component_id == "Trainer")
    return PipelineRun(config, report, wall, trainer, os.path.join(model_dir, str(version)))
