"""Scheduled retraining on this machine: at each cron firing, run the pipeline if a new span has landed.

"New" compares the newest span on disk with the newest span a finished run (its Pusher ran) recorded in ML Metadata,
so a run that failed is retried at the next firing. A lock file (fcntl.flock) makes a firing that meets a run still in
progress, from this scheduler or another one, skip instead of running twice against one metadata store. Missed
firings are not caught up: after a long run the next firing is the next one from now, as Kubeflow's no_catchup.
"""
import contextlib
import dataclasses
import datetime
import fcntl
import os
import time
from typing import Callable, Iterator, List, Optional

from croniter import croniter
from tfx import v1 as tfx

from components import tasks
from components.core.config import SPAN, Config
from components.core.errors import UserError
from components.core.layout import Workdir
from components.core.log import progress as log
from components.text import readers
from pipeline import beam_options, local_runner, spans
from pipeline.pipeline import PipelinePaths, create_pipeline
from pipeline.report import build
from pipeline.run_report import RunReport, all_runs

_FINISHED = ("COMPLETE", "CACHED")


@dataclasses.dataclass(frozen=True)
class Firing:
    at: datetime.datetime
    outcome: str  # "ran", "no new span", "locked"
    span: Optional[int] = None  # the newest span on disk, when looked at
    report: Optional[RunReport] = None  # when the pipeline ran


def run(config: Config, workdir: str, max_runs: Optional[int] = None,
        now: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.timezone.utc),
        sleep: Callable[[float], None] = time.sleep,
        on_firing: Callable[[Firing], None] = lambda firing: None) -> List[Firing]:
    """Waits for each firing of schedule.cron and handles it, then calls `on_firing` with it (the CLI prints its run
    summary there); stops after `max_runs` firings (None: never)."""
    _require_spans(config)
    firings: List[Firing] = []
    while max_runs is None or len(firings) < max_runs:
        due = croniter(config.schedule.cron, now()).get_next(datetime.datetime)
        log.info("next firing of %r at %s", config.schedule.cron, due.isoformat())
        sleep(max(0.0, (due - now()).total_seconds()))
        firings.append(fire(config, workdir, due))
        log.info("firing %s: %s", due.isoformat(), firings[-1].outcome)
        on_firing(firings[-1])
    return firings


def fire(config: Config, workdir: str, at: datetime.datetime) -> Firing:
    """One firing: under the lock, run the pipeline on the newest span if no finished run has seen it, and write
    that run's report."""
    _require_spans(config)
    layout = Workdir(workdir)
    with _locked(layout) as held:
        if not held:
            return Firing(at, "locked")
        input_format = readers.FORMATS[tasks.get(config.task).input_format]
        newest = spans.find_spans(config.data.input_path, input_format.directory_pattern)[-1]
        done = newest_finished_span(layout.metadata_path, config.pipeline_name)
        if done is not None and newest.number <= done:
            return Firing(at, "no new span", newest.number)
        num_classes = local_runner.check_inputs(config.data, newest.path, input_format)
        paths = span_paths(config, layout, newest, input_format.directory_pattern)
        beam_args = beam_options.local_args(config.beam, [newest.path])
        tfx.orchestration.LocalDagRunner().run(create_pipeline(config, paths, num_classes, beam_args))
        report = all_runs(paths.metadata_path, config.pipeline_name)[-1]
        build.write_after_run(config, workdir, report)
        return Firing(at, "ran", newest.number, report)


def newest_finished_span(metadata_path: str, pipeline_name: str) -> Optional[int]:
    """The newest span of a run whose Pusher ran (pushed or not); None before the first such run."""
    if not os.path.exists(metadata_path):
        return None
    finished = [r.span for r in all_runs(metadata_path, pipeline_name)
                if r.span is not None and any(c.component_id == "Pusher" and c.state in _FINISHED
                                              for c in r.components)]
    return max(finished, default=None)


def span_paths(config: Config, layout: Workdir, newest: spans.Span, directory_pattern: str) -> PipelinePaths:
    """The local runner's work directory layout; ExampleGen reads the {SPAN} pattern (and the fixed eval set)."""
    data = config.data
    base, train, evaluation = spans.example_gen_inputs(
        os.path.abspath(data.input_path), os.path.abspath(data.eval_path) if data.eval_path else "", directory_pattern)
    paths = local_runner.workdir_paths(layout, newest.path, data, directory_pattern)
    return dataclasses.replace(paths, input_base=base, train_pattern=train, eval_pattern=evaluation)


def _require_spans(config: Config) -> None:
    if SPAN not in config.data.input_path:
        raise UserError(f"schedule retrains when a new span lands, but data.input_path={config.data.input_path!r} "
                        f"holds no {SPAN}",
                        hint=f"e.g. --set 'data.input_path=data/span-{SPAN}' with data/span-1/, data/span-2/, ...")


@contextlib.contextmanager
def _locked(layout: Workdir) -> Iterator[bool]:
    """Yields whether this process holds the work directory's schedule lock; the OS frees it if the process dies."""
    os.makedirs(layout.root, exist_ok=True)
    with open(layout.schedule_lock, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            f.truncate(0)
            f.write(f"{os.getpid()}\n")
            f.flush()
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
