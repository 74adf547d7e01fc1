"""Writes a run's HTML report beside the run (Workdir.report_path), built from ML Metadata (the run's components,
times and artifacts) and what the components wrote: TFDV statistics, the Trainer's TensorBoard event files, TFMA's
metrics and plots, and the model the run trained, asked a few eval examples. `report` rewrites it for any past run."""
import os
from typing import List, Optional

import tensorflow_transform as tft
from tfx.utils import path_utils

from components import tasks
from components.core import features
from components.core.config import Config
from components.core.errors import UserError
from components.core.layout import Workdir
from components.core.log import progress as log
from components.text import readers
from pipeline.report import data, evaluation, html, samples, summary, training
from pipeline.run_report import RunReport, all_runs

SAMPLES = 5  # eval examples served for the report


def find_run(config: Config, workdir: str, run_id: Optional[str]) -> RunReport:
    """`run_id`, or the latest run; a UserError naming the known runs when there is no such run."""
    layout = Workdir(workdir)
    runs = all_runs(layout.metadata_path, config.pipeline_name) if os.path.exists(layout.metadata_path) else []
    if not runs:
        raise UserError(f"pipeline {config.pipeline_name!r} has no runs in {layout.root}",
                        hint="run it first (`python -m pipeline.cli run`), or pass the --workdir and --config it ran "
                             "with")
    if run_id is None:
        return runs[-1]
    found = [run for run in runs if run.run_id == run_id]
    if not found:
        raise UserError(f"pipeline {config.pipeline_name!r} has no run {run_id!r} in {layout.root}; its runs are: "
                        f"{', '.join(run.run_id for run in runs)}",
                        hint="--run=<one of them>, or no --run for the latest")
    return found[0]


def write(config: Config, workdir: str, run: RunReport) -> str:
    """Writes the report of `run` (a run of config.pipeline_name) and returns its path."""
    layout = Workdir(workdir)
    task = tasks.get(config.task)
    log.info("run report: reading the statistics, the training logs and the evaluation of run %s", run.run_id)
    label_feature = readers.FORMATS[task.input_format].label_feature(config.data)
    data_view = data.read(run.outputs, label_feature)
    curves = training.read(run.outputs.get(summary.MODEL_RUN))
    result = evaluation.read(run.evaluation_uri)
    path = layout.report_path(run.run_id)
    body = [f"<h1>Run {html.escape(run.run_id)}</h1>",
            html.paragraph(f"pipeline {config.pipeline_name}, task kind {config.task}", "muted"),
            html.raw_paragraph(_verdict(run)),
            html.code("\n".join(summary.lines(run, task.headline, path))),
            html.section("Data", data.render(data_view), "data"),
            html.section("Training", training.render(curves, summary.tensorboard_command(
                run.outputs.get(summary.MODEL_RUN, ""))), "training"),
            html.section("Evaluation", evaluation.render(result, task.headline.name, _class_names(run)), "evaluation"),
            html.section("Served examples", _samples(config, task, run, label_feature), "samples"),
            html.section("Components and versions", _components(config, workdir, run), "components")]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(html.document(f"Run {run.run_id} of {config.pipeline_name}", body))
    log.info("run report: wrote %s", path)
    return path


def write_after_run(config: Config, workdir: str, run: RunReport) -> Optional[str]:
    """`write` at the end of a run: the run has succeeded (and pushed) by then, so a report that cannot be written is
    a warning with the command that retries, not a failed run. Returns the path, or None."""
    try:
        return write(config, workdir, run)
    except Exception as exc:  # noqa: BLE001
        log.warning("the run report could not be written (%s: %s); retry with `python -m pipeline.cli report "
                    "--run=%s`", type(exc).__name__, exc, run.run_id)
        return None


def _verdict(run: RunReport) -> str:
    if run.blessed is None:
        return html.verdict("not evaluated", False)
    pushed = f"pushed as version {run.pushed_version}" if run.pushed_version else "nothing pushed"
    return html.verdict("BLESSED" if run.blessed else "NOT blessed", bool(run.blessed)) + " " + html.escape(pushed)


def _class_names(run: RunReport) -> List[str]:
    """The label vocabulary Transform wrote (class id order), when the task kind has one."""
    uri = run.outputs.get("Transform/transform_graph")
    output = tft.TFTransformOutput(uri) if uri else None
    if output is None or output.vocabulary_file_by_name(features.LABEL_VOCAB) is None:
        return []
    return [name.decode("utf-8", "replace") for name in output.vocabulary_by_name(features.LABEL_VOCAB)]


def _samples(config: Config, task, run: RunReport, label_feature: Optional[str]) -> List[str]:
    model = run.outputs.get("Trainer/model")
    if not model:
        return [html.paragraph("No model was trained in this run.", "muted")]
    served_by = (f"the pushed model (version {run.pushed_version})" if run.pushed_version else
                 "this run's candidate model (it was not pushed)")
    log.info("run report: serving %d eval examples with %s", SAMPLES, served_by)
    found = samples.serve(path_utils.serving_model_path(model), run.inputs.get("Evaluator/examples"),
                          task.request_text, task.request(config), config, SAMPLES, label_feature)
    return samples.render(found, served_by)


def _components(config: Config, workdir: str, run: RunReport) -> List[str]:
    rows = [[html.cell(c.component_id), html.cell(c.state), html.cell(f"{c.seconds:.1f}", c.seconds)]
            for c in run.components]
    pushed = [(r.run_id, r.pushed_version) for r in all_runs(Workdir(workdir).metadata_path, config.pipeline_name)
              if r.pushed_version]
    versions = [[html.cell(version + (" (this run)" if run_id == run.run_id else "")), html.cell(run_id)]
                for run_id, version in pushed]
    return [html.table(["component", "state", "seconds"], rows),
            html.heading("versions pushed by this pipeline (the highest is served)"),
            html.table(["version", "run"], versions) if versions else html.paragraph("none yet")]
