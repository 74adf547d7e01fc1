"""Scheduled retraining: span discovery, the cron loop, the lock, and three spans through the real pipeline."""
import dataclasses
import datetime
import fcntl
import os

import pytest

from components.core import config as config_lib
from components.core.errors import UserError
from components.core.layout import Workdir
from pipeline import schedule, spans, status
from tests.generated_data import sentiment_rows, write_csv

TINY = ["model.preset=tiny", "model.hidden_dim=32", "model.intermediate_dim=64", "tokenizer.vocab_size=200",
        "tokenizer.max_seq_length=16", "training.epochs=4", "training.batch_size=16", "training.learning_rate=3e-3",
        "serving.model_name=sentiment"]
HOUR_START = datetime.datetime(2026, 11, 30, 10, 20, tzinfo=datetime.timezone.utc)


def _span_dir(root, number, rows):
    os.makedirs(root / f"span-{number}", exist_ok=True)
    return write_csv(root / f"span-{number}" / "part-0.csv", rows)


def test_find_spans_reads_numbered_directories_and_files(tmp_path):
    for n in (10, 2, 1):
        _span_dir(tmp_path, n, [("a", "b")])
    os.makedirs(tmp_path / "span-11")  # still being copied: no CSV yet
    (tmp_path / "notes.txt").write_text("x")
    found = spans.find_spans(str(tmp_path / "span-{SPAN}"), "*.csv")
    assert [(s.number, os.path.basename(s.path)) for s in found] == [(1, "span-1"), (2, "span-2"), (10, "span-10")]
    write_csv(tmp_path / "day-7.csv", [("a", "b")])
    assert [s.number for s in spans.find_spans(str(tmp_path / "day-{SPAN}.csv"), "*.csv")] == [7]


def test_find_spans_names_what_is_wrong(tmp_path):
    with pytest.raises(UserError, match="no spans found"):
        spans.find_spans(str(tmp_path / "span-{SPAN}"), "*.csv")
    _span_dir(tmp_path, "latest", [("a", "b")])
    with pytest.raises(UserError, match="'latest' is not a span number"):
        spans.find_spans(str(tmp_path / "span-{SPAN}"), "*.csv")


def test_example_gen_reads_the_span_pattern_and_the_eval_set_under_one_base():
    assert spans.example_gen_inputs("gs://b/data/span-{SPAN}", "gs://b/holdout/eval.csv", "*.csv") == (
        "gs://b", "data/span-{SPAN}/*.csv", "holdout/eval.csv")
    assert spans.example_gen_inputs("/d/reviews-{SPAN}.csv", "", "*.csv") == ("/d", "reviews-{SPAN}.csv", None)


def test_the_span_window_keeps_the_newest_spans_and_the_latest_copy_of_each():
    from tfx.types import standard_artifacts

    def examples(artifact_id, span):
        artifact = standard_artifacts.Examples()
        artifact.id = artifact_id
        artifact.set_int_custom_property("span", span)
        return artifact

    ingested = [examples(1, 1), examples(2, 2), examples(3, 3), examples(4, 2)]  # span 2 ingested again (id 4)
    resolved = spans.LatestSpans(num_spans=2).resolve_artifacts(None, {"examples": ingested})
    assert [a.id for a in resolved["examples"]] == [4, 3]
    assert spans.LatestSpans(num_spans=2).resolve_artifacts(None, {"examples": []}) is None


@pytest.mark.parametrize("override, message", [
    ("schedule.cron=0 3 * *", "not a cron expression of 5 fields"),
    ("schedule.cron=0 25 * * *", "not a cron expression"),
    ("schedule.cron=@daily", "not a cron expression"),
    ("data.input_path=data/{SPAN}/part.csv", "in its last part"),
    ("data.eval_path=holdout-{SPAN}.csv", "fixed evaluation set"),
    ("data.train_spans=2", "needs {SPAN}"),
])
def test_bad_schedule_config_is_refused(override, message):
    with pytest.raises(UserError, match=message):
        config_lib.load(None, [override])


def test_schedule_needs_spans():
    with pytest.raises(UserError, match="holds no {SPAN}"):
        schedule.run(config_lib.load(None, ["data.input_path=reviews.csv"]), "unused", max_runs=1)


def test_a_firing_skips_while_another_run_holds_the_lock(tmp_path):
    config = config_lib.load(None, [f"data.input_path={tmp_path}/span-{{SPAN}}"])
    work = tmp_path / "work"
    os.makedirs(work)
    with open(Workdir(work).schedule_lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        firing = schedule.fire(config, str(work), HOUR_START)
    assert firing.outcome == "locked"
    assert not os.path.exists(Workdir(work).metadata_path)


def test_the_loop_sleeps_until_each_firing_and_stops_after_max_runs(tmp_path):
    config = config_lib.load(None, [f"data.input_path={tmp_path}/span-{{SPAN}}", "schedule.cron=*/15 * * * *"])
    after_a_long_run = HOUR_START + datetime.timedelta(minutes=50)
    times = iter([HOUR_START, HOUR_START, after_a_long_run, after_a_long_run])
    sleeps = []
    os.makedirs(tmp_path / "work")
    with open(Workdir(tmp_path / "work").schedule_lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # every firing finds a run in progress
        firings = schedule.run(config, str(tmp_path / "work"), max_runs=2, now=lambda: next(times),
                               sleep=sleeps.append)
    assert sleeps == [10 * 60.0, 5 * 60.0]  # 10:20 -> 10:30; then 11:10 -> 11:15: 10:45 and 11:00 are skipped
    assert [(f.at.hour, f.at.minute, f.outcome) for f in firings] == [(10, 30, "locked"), (11, 15, "locked")]


@pytest.fixture(scope="module")
def three_spans(tmp_path_factory):
    """Span 1 clean, span 2 with every label flipped (a broken labelling job), span 3 clean, each run at a firing.

    Training takes one span (data.train_spans=1) so that span 2's model really regresses; it is judged on a fixed
    clean holdout set. min_accuracy is 0 so that only the change threshold against span 1's model can stop it.
    """
    root = tmp_path_factory.mktemp("schedule")
    holdout = write_csv(root / "holdout.csv", sentiment_rows(200, seed=99))
    config = config_lib.load(None, TINY + [
        f"data.input_path={root}/spans/span-{{SPAN}}", f"data.eval_path={holdout}", "schedule.cron=0 * * * *",
        "schedule.warm_start=true", "evaluation.min_accuracy=0.0", "evaluation.max_accuracy_drop=0.2"])
    work = str(root / "work")
    clock = iter([HOUR_START + datetime.timedelta(hours=h) for h in range(3) for _ in range(2)])
    firings, handed = [], []
    for number, label_noise in ((1, 0.0), (2, 1.0), (3, 0.0)):
        _span_dir(root / "spans", number, sentiment_rows(300, seed=number, label_noise=label_noise))
        firings += schedule.run(config, work, max_runs=1, now=lambda: next(clock), sleep=lambda _: None,
                                on_firing=handed.append)
    assert handed == firings  # as each firing ends: the CLI prints its run summary there
    return config, work, firings


def _versions(work):
    model_dir = Workdir(work).model_dir("sentiment")
    return sorted(int(v) for v in os.listdir(model_dir) if v.isdigit())


@pytest.mark.e2e
def test_a_regressed_span_is_not_pushed_and_the_next_clean_one_is(three_spans):
    _, work, firings = three_spans
    assert [(f.outcome, f.span, f.report.span) for f in firings] == [("ran", n, n) for n in (1, 2, 3)]
    first, regressed, clean = (f.report for f in firings)
    assert first.blessed is True and first.pushed_version
    assert regressed.blessed is False and regressed.pushed_version is None
    assert clean.blessed is True and clean.pushed_version
    assert _versions(work) == sorted(int(r.pushed_version) for r in (first, clean))
    evaluated = {"HoldoutExampleGen", "Evaluator"}
    assert all(evaluated <= {c.component_id for c in f.report.components} for f in firings)
    assert all(os.path.isfile(Workdir(work).report_path(f.report.run_id)) for f in firings)  # each run's report


@pytest.mark.e2e
def test_regression_is_the_accuracy_drop_against_the_blessed_model(three_spans):
    _, _, firings = three_spans
    first, regressed, clean = (status.metric(f.report.evaluation_uri, "accuracy") for f in firings)
    assert first > 0.9 and clean > first - 0.2
    assert regressed < first - 0.2  # below the change threshold; min_accuracy (0) let it through


@pytest.mark.e2e
def test_warm_start_trains_from_the_latest_blessed_model(three_spans):
    config, work, firings = three_spans
    base_models = _trainer_base_models(Workdir(work).metadata_path)
    first_model = base_models[firings[0].report.run_id]
    assert first_model is None  # nothing blessed yet
    assert base_models[firings[1].report.run_id] == base_models[firings[2].report.run_id] != None  # noqa: E711
    assert "Trainer" in base_models[firings[2].report.run_id]  # span 1's model: span 2's was not blessed


@pytest.mark.e2e
def test_no_new_span_means_no_run_and_status_tells_the_story(three_spans):
    config, work, firings = three_spans
    clock = iter([HOUR_START + datetime.timedelta(hours=5)] * 2)
    (firing,) = schedule.run(config, work, max_runs=1, now=lambda: next(clock), sleep=lambda _: None)
    assert (firing.outcome, firing.span, firing.report) == ("no new span", 3, None)
    lines = status.lines(config, work)
    assert len(lines) == 1 + 3 + 2 and "3 run(s)" in lines[0]
    assert "NOT blessed" in lines[2] and "not pushed" in lines[2]
    assert f"pushed as {firings[2].report.pushed_version}" in lines[3]
    assert "spans on disk: [1, 2, 3]" in lines[4] and "waiting: none" in lines[4]
    assert lines[5].startswith(f"served: version {firings[2].report.pushed_version}")


@pytest.mark.e2e
def test_the_span_window_resolves_the_newest_spans_from_ml_metadata(three_spans):
    """data.train_spans=2 resolved by TFX's own input resolution against the three runs' ML Metadata."""
    from tfx.dsl.compiler import compiler
    from tfx.orchestration import metadata
    from tfx.orchestration.portable import inputs_utils

    from pipeline.pipeline import create_pipeline

    config, work, _ = three_spans
    config = dataclasses.replace(config, data=dataclasses.replace(config.data, train_spans=2))
    newest = spans.find_spans(config.data.input_path, "*.csv")[-1]
    paths = schedule.span_paths(config, Workdir(work), newest, "*.csv")
    compiled = compiler.Compiler().compile(create_pipeline(config, paths, num_classes=2))
    (window,) = [n.pipeline_node for n in compiled.nodes if n.pipeline_node.node_info.id == "span_window_resolver"]
    with metadata.Metadata(metadata.sqlite_metadata_connection_config(paths.metadata_path)) as store:
        (resolved,) = inputs_utils.resolve_input_artifacts(pipeline_node=window, metadata_handle=store)
    assert [a.get_int_custom_property("span") for a in resolved["examples"]] == [2, 3]


def _trainer_base_models(metadata_path):
    """run id -> URI of the Model the Trainer got as base_model (None without one)."""
    import ml_metadata as mlmd
    from ml_metadata.proto import metadata_store_pb2

    connection = metadata_store_pb2.ConnectionConfig()
    connection.sqlite.filename_uri = metadata_path
    store = mlmd.MetadataStore(connection)
    found = {}
    for run in store.get_contexts_by_type("pipeline_run"):
        for execution in store.get_executions_by_context(run.id):
            nodes = [c.name for c in store.get_contexts_by_execution(execution.id) if c.type == "node"]
            if not nodes or not nodes[0].endswith(".Trainer"):
                continue
            events = store.get_events_by_execution_ids([execution.id])
            ids = [e.artifact_id for e in events if e.type == metadata_store_pb2.Event.INPUT
                   and e.path.steps[0].key == "base_model"]
            found[run.name] = store.get_artifacts_by_id(ids)[0].uri if ids else None
    return found
