"""The whole pipeline on LocalDagRunner with SQLite MLMD and Beam, then the pushed model served and called."""
import json
import os
import subprocess
import sys
import textwrap
import urllib.request

import pytest

from tests import ROOT, browser, report_page
from tests.generated_data import sentiment_rows, write_csv

pytestmark = pytest.mark.e2e

TINY = ["model.preset=tiny", "model.hidden_dim=32", "model.intermediate_dim=64", "tokenizer.vocab_size=200",
        "tokenizer.max_seq_length=16", "training.epochs=4", "training.batch_size=16", "training.learning_rate=3e-3",
        "serving.model_name=sentiment"]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    from components.core import config as config_lib
    from pipeline import local_runner

    root = tmp_path_factory.mktemp("e2e")
    data = write_csv(root / "reviews.csv", sentiment_rows(400, seed=1, label_noise=0.05))
    overrides = TINY + [f"data.input_path={data}"]
    report, paths = local_runner.run(config_lib.load(None, overrides), str(root / "work"))
    return report, paths, overrides, root


def _pushed_versions(paths):
    model_dir = os.path.join(paths.serving_root, "sentiment")
    return sorted(int(v) for v in os.listdir(model_dir) if v.isdigit()) if os.path.isdir(model_dir) else []


def test_every_component_ran_and_the_model_was_blessed_and_pushed(first_run):
    report, paths, _, _ = first_run
    states = {c.component_id: c.state for c in report.components}
    assert states == {name: "COMPLETE" for name in [
        "CsvExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "AnomaliesGate", "Transform", "Trainer",
        "latest_blessed_model_resolver", "Evaluator", "Pusher"]}
    assert report.blessed is True
    versions = _pushed_versions(paths)
    assert len(versions) == 1 and str(versions[0]) == report.pushed_version
    assert os.path.isfile(os.path.join(paths.serving_root, "sentiment", str(versions[0]), "saved_model.pb"))


def test_export_loads_in_a_new_process_on_raw_text_and_tf_examples(first_run):
    _, paths, _, _ = first_run
    version_dir = os.path.join(paths.serving_root, "sentiment", str(_pushed_versions(paths)[0]))
    script = textwrap.dedent(f"""
        import json, tensorflow as tf, tensorflow_text
        model = tf.saved_model.load({version_dir!r})
        texts = ["A wonderful and moving film!", "Awful, boring plot."]
        by_text = model.signatures["serving_default"](text=tf.constant(texts))
        examples = [tf.train.Example(features=tf.train.Features(feature={{"text": tf.train.Feature(
            bytes_list=tf.train.BytesList(value=[t.encode()]))}})).SerializeToString() for t in texts]
        by_example = model.signatures["serving_examples"](examples=tf.constant(examples))
        print(json.dumps({{"text": [l.decode() for l in by_text["label"].numpy()],
                          "example": [l.decode() for l in by_example["label"].numpy()],
                          "probabilities": by_text["probabilities"].numpy().tolist()}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["text"] == result["example"] == ["positive", "negative"]
    assert all(abs(sum(p) - 1.0) < 1e-5 and len(p) == 2 for p in result["probabilities"])


def test_pushed_model_answers_raw_text_over_rest(first_run):
    from serving import server

    _, paths, _, _ = first_run
    srv = server.make_server(paths.serving_root, "sentiment", port=0)
    import threading
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{srv.port}/v1/models/sentiment:predict",
            data=json.dumps({"instances": ["What a brilliant, delightful story", "Tedious and clumsy"]}).encode(),
            headers={"Content-Type": "application/json"})
        predictions = json.load(urllib.request.urlopen(request, timeout=60))["predictions"]
    finally:
        srv.shutdown()
    assert [p["label"] for p in predictions] == ["positive", "negative"]


def _report_path(first_run, run_id):
    from components.core.layout import Workdir

    return Workdir(str(first_run[3] / "work")).report_path(run_id)


def test_the_run_summary_says_what_blessed_the_model_and_where_to_look(first_run):
    from components import tasks
    from components.core import config as config_lib
    from pipeline.report import evaluation, summary

    report, _, overrides, _ = first_run
    accuracy = evaluation.read(report.evaluation_uri).get("accuracy").candidate
    gate = config_lib.load(None, overrides).evaluation.min_accuracy
    lines = summary.lines(report, tasks.get("classification").headline, _report_path(first_run, report.run_id))
    assert f"  accuracy {accuracy:.3f} (no baseline yet, needs >= {gate:g}) -> BLESSED" in lines
    assert lines[-3].startswith("  model BLESSED; pushed as version ")
    assert lines[-2] == f"  report: {_report_path(first_run, report.run_id)}"
    assert lines[-1].endswith(f"tensorboard --logdir {report.outputs['Trainer/model_run']}")


def test_the_run_report_holds_what_tfma_the_statistics_and_the_model_say(first_run):
    report, _, _, _ = first_run
    page = report_page.read(_report_path(first_run, report.run_id))
    written = report_page.assert_holds_tfma_metrics(page, report.evaluation_uri)
    assert {("accuracy", "", ""), ("f1_score", "", "macro_average"), ("auc", "1", "")} <= set(written)
    assert {(name, c, "") for name in ("precision", "recall", "f1_score") for c in "01"} <= set(written)
    report_page.assert_valid_pngs(page, "confusion matrix", "label per split", "word pieces per example",
                                  "loss per epoch", "accuracy per epoch")
    counts = {(c["split"], c["label"]): float(c["value"]) for c in page.cells if "label" in c}
    assert sum(counts.values()) == 400 and set(counts) == {(s, v) for s in ("train", "eval")
                                                            for v in ("negative", "positive")}
    assert "cut by max_seq_length: 0 of 400 examples" in page.text and "pushed model (version" in page.text
    assert page.text.count('"label": "') >= 5  # served examples: the pushed model's answers


def test_the_report_opens_in_headless_chromium_without_errors(first_run, tmp_path):
    from PIL import Image

    binary = browser.find()
    if binary is None:
        pytest.skip(browser.SKIP_REASON)
    report, _, _, _ = first_run
    errors, images, screenshot = browser.load(binary, "file://" + _report_path(first_run, report.run_id))
    assert errors == [] and images["images"] >= 6 and images["broken"] == [], (errors, images)
    (tmp_path / "report.png").write_bytes(screenshot)
    low, high = Image.open(tmp_path / "report.png").convert("L").getextrema()
    assert high - low > 100  # text and plots, not a blank page


def test_rerun_is_cached_and_a_failing_threshold_pushes_nothing(first_run):
    from components import tasks
    from components.core import config as config_lib
    from pipeline import local_runner, status
    from pipeline.report import summary

    first, paths, overrides, root = first_run
    before = _pushed_versions(paths)
    config = config_lib.load(None, overrides + ["evaluation.min_accuracy=1.0"])
    report, _ = local_runner.run(config, str(root / "work"))
    states = {c.component_id: c.state for c in report.components}
    for cached in ("CsvExampleGen", "StatisticsGen", "SchemaGen", "Transform", "Trainer"):
        assert states[cached] == "CACHED", states
    assert states["Evaluator"] == "COMPLETE"
    assert report.blessed is False and report.pushed_version is None
    assert _pushed_versions(paths) == before
    accuracy = status.metric(report.evaluation_uri, "accuracy")
    assert f"  accuracy {accuracy:.3f} (baseline {accuracy:.3f}, needs >= 1 and >= baseline - 0.02) -> NOT blessed: " \
           "fails" in summary.lines(report, tasks.get("classification").headline, None)
    page = report_page.read(_report_path(first_run, report.run_id))
    report_page.assert_holds_tfma_metrics(page, report.evaluation_uri)
    assert report_page.metric_cells(page, "baseline")[("accuracy", "", "")] == pytest.approx(accuracy)
    lines = status.lines(config, str(root / "work"))
    assert any(first.run_id in line and "accuracy" in line and "BLESSED" in line for line in lines), lines
    assert any(report.run_id in line and f"accuracy {accuracy:.3f}" in line and "NOT blessed" in line
               for line in lines), lines


def test_report_rewrites_a_past_run_and_names_the_known_runs_for_an_unknown_one(first_run):
    report, _, overrides, root = first_run
    path = _report_path(first_run, report.run_id)
    os.remove(path)
    cli = [sys.executable, "-m", "pipeline.cli", "report", f"--workdir={root / 'work'}"] + [
        f"--set={override}" for override in overrides]
    env = {**os.environ, "PYTHONPATH": ROOT}
    rewritten = subprocess.run(cli + [f"--run={report.run_id}"], capture_output=True, text=True, timeout=600, env=env)
    assert rewritten.returncode == 0 and f"wrote {path}" in rewritten.stdout, rewritten.stderr[-2000:]
    assert os.path.isfile(path)
    unknown = subprocess.run(cli + ["--run=2020-01-01T00:00:00"], capture_output=True, text=True, timeout=600, env=env)
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr, unknown.stderr[-2000:]
    error = unknown.stderr[unknown.stderr.index("error: "):]
    assert "no run '2020-01-01T00:00:00'" in error and report.run_id in error
