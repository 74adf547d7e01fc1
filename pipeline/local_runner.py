"""Runs the pipeline on this machine: LocalDagRunner, SQLite ML Metadata, Beam DirectRunner.

The runner owns the environment: where the work directory is, which data is read, checking that data up front.
"""
import os
from typing import Optional, Tuple

from tfx import v1 as tfx
from tfx.orchestration.pipeline import RunOptions

from components import tasks
from components.core.config import Config, DataConfig
from components.core.errors import UserError
from components.core.layout import Workdir
from components.core.log import progress as log
from components.text import readers
from pipeline import beam_options, demo_data
from pipeline.pipeline import PipelinePaths, create_pipeline
from pipeline.report import build
from pipeline.run_report import RunReport, latest_run


def run(config: Config, workdir: str, until: Optional[str] = None) -> Tuple[RunReport, PipelinePaths]:
    """Checks the data, runs every component (cached ones are skipped), writes the run's HTML report
    (Workdir.report_path) and returns what happened. `until` names the last component to run (with what it
    needs; no report): e.g. "Transform" for the data half alone."""
    layout = Workdir(workdir)
    format_name = tasks.get(config.task).input_format
    input_format = readers.FORMATS[format_name]
    if not config.data.input_path and format_name != readers.CSV:
        raise UserError(f"task {config.task!r} reads {format_name} files and has no demo data",
                        hint="pass --set data.input_path=<your data>")
    train_path = config.data.input_path or demo_data.ensure_demo_csv(layout.data_dir)
    num_classes = check_inputs(config.data, train_path, input_format)
    paths = workdir_paths(layout, train_path, config.data, input_format.directory_pattern)
    os.makedirs(layout.root, exist_ok=True)
    beam_args = beam_options.local_args(config.beam, filter(None, (train_path, config.data.eval_path)))
    log.info("Beam: %s", " ".join(beam_args))
    tfx.orchestration.LocalDagRunner().run(
        create_pipeline(config, paths, num_classes, beam_args),
        run_options=RunOptions(to_nodes=[until]) if until else None)
    report = latest_run(paths.metadata_path, config.pipeline_name)
    if not until:
        build.write_after_run(config, workdir, report)
    return report, paths


def check_inputs(data: DataConfig, train_path: str, input_format: readers.InputFormat) -> int:
    """Fails fast with a readable message on bad input files; returns the number of labels."""
    check = readers.load(input_format.check)
    summaries = []
    for path in filter(None, (train_path, data.eval_path)):
        summaries.append(check(path, data))
        log.info("input %s: %s", path, summaries[-1].describe())
    seen, evaluated = summaries[0].label_counts, summaries[-1].label_counts
    unseen = {label: count for label, count in sorted(evaluated.items()) if label not in seen}
    if unseen:  # the label vocabulary is learned from the training split only
        log.warning("labels in %s that %s lacks, so no model can predict them (label: rows or words): %s. They map "
                    "to id -1; a token classifier neither trains nor scores the words they tag",
                    data.eval_path, train_path, unseen)
    return len(summaries[0].label_counts)


def workdir_paths(layout: Workdir, train_path: str, data: DataConfig, directory_pattern: str) -> PipelinePaths:
    """Everything a run writes lives under `workdir`; the data may live anywhere."""
    base, train_pattern = _split_input(train_path, directory_pattern)
    eval_pattern = None
    if data.eval_path:  # ExampleGen reads one directory: both splits become patterns under a common one
        eval_base, eval_pattern = _split_input(data.eval_path, directory_pattern)
        common = os.path.commonpath([base, eval_base])
        train_pattern = os.path.relpath(os.path.join(base, train_pattern), common)
        eval_pattern = os.path.relpath(os.path.join(eval_base, eval_pattern), common)
        base = common
    return PipelinePaths(
        pipeline_root=layout.pipeline_root,
        metadata_path=layout.metadata_path,
        serving_root=layout.serving_root,
        input_base=base,
        train_pattern=train_pattern,
        eval_pattern=eval_pattern,
        schema_path=os.path.abspath(data.schema_path) if data.schema_path else None,
    )


def _split_input(path: str, directory_pattern: str) -> Tuple[str, str]:
    path = os.path.abspath(path)
    if os.path.isdir(path):
        return path, directory_pattern
    return os.path.dirname(path), os.path.basename(path)
