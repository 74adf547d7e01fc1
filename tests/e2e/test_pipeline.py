"""The whole pipeline on LocalDagRunner with SQLite MLMD and Beam, then the pushed model served and called."""
import json
import os
import subprocess
import sys
import textwrap
import urllib.request

import pytest

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


def test_rerun_is_cached_and_a_failing_threshold_pushes_nothing(first_run):
    from components.core import config as config_lib
    from pipeline import local_runner

    _, paths, overrides, root = first_run
    before = _pushed_versions(paths)
    report, _ = local_runner.run(config_lib.load(None, overrides + ["evaluation.min_accuracy=1.0"]),
                                 str(root / "work"))
    states = {c.component_id: c.state for c in report.components}
    for cached in ("CsvExampleGen", "StatisticsGen", "SchemaGen", "Transform", "Trainer"):
        assert states[cached] == "CACHED", states
    assert states["Evaluator"] == "COMPLETE"
    assert report.blessed is False and report.pushed_version is None
    assert _pushed_versions(paths) == before
