"""`status`: what retraining has done, read back from ML Metadata and the serving directory.

One line per run (span, the candidate's value of the task kind's headline metric as the Evaluator measured it,
blessing, pushed version), the spans waiting on disk, and the version TF Serving's default policy (and `serve`)
answers with: the highest pushed one.
"""
import os
from typing import List, Optional

from components import tasks
from components.core.config import SPAN, Config
from components.core.errors import UserError
from components.core.layout import Workdir
from components.text import readers
from pipeline import spans
from pipeline.report import evaluation
from pipeline.run_report import RunReport, all_runs


def lines(config: Config, workdir: str) -> List[str]:
    layout = Workdir(workdir)
    metadata_path = layout.metadata_path
    runs = all_runs(metadata_path, config.pipeline_name) if os.path.exists(metadata_path) else []
    out = [f"pipeline {config.pipeline_name!r}, work directory {layout.root}: {len(runs)} run(s)"]
    headline = tasks.get(config.task).headline.name
    out += [_run_line(run, headline) for run in runs]
    if SPAN in config.data.input_path:
        out.append(_spans_line(config, runs))
    out.append(_serving_line(layout.model_dir(config.serving.model_name)))
    return out


def metric(evaluation_uri: Optional[str], name: str) -> Optional[float]:
    """The candidate model's overall value of metric `name` from the Evaluator's output (None when it wrote none)."""
    result = evaluation.read(evaluation_uri)
    found = result.get(name) if result else None
    return found.candidate if found else None


def _run_line(run: RunReport, headline: str) -> str:
    value = metric(run.evaluation_uri, headline)
    verdict = {None: "not evaluated", True: "BLESSED", False: "NOT blessed"}[run.blessed]
    return (f"  {run.run_id}  span {'-' if run.span is None else run.span:>4}  "
            f"{headline} {evaluation.number(value):>5}  {verdict:<13}  "
            f"{'pushed as ' + run.pushed_version if run.pushed_version else 'not pushed'}")


def _spans_line(config: Config, runs: List[RunReport]) -> str:
    pattern = readers.FORMATS[tasks.get(config.task).input_format].directory_pattern
    try:
        numbers = [s.number for s in spans.find_spans(config.data.input_path, pattern)]
    except UserError:
        numbers = []
    seen = max((r.span for r in runs if r.span is not None), default=None)
    waiting = [n for n in numbers if seen is None or n > seen]
    return (f"spans on disk: {numbers or 'none'}; newest span a run ingested: {'-' if seen is None else seen}; "
            f"waiting: {waiting or 'none'}")


def _serving_line(model_dir: str) -> str:
    versions = sorted(int(v) for v in os.listdir(model_dir) if v.isdigit()) if os.path.isdir(model_dir) else []
    if not versions:
        return f"served: nothing pushed under {model_dir}"
    return f"served: version {versions[-1]} (highest of {len(versions)} pushed under {model_dir})"
