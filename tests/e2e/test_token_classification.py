"""NER end to end: CoNLL files through the real pipeline (CRF head, word shapes), then entities with offsets served
over REST."""
import json
import os
import threading
import urllib.request

import pytest

from tests import report_page
from tests.generated_data import entity_sentences, write_conll

pytestmark = pytest.mark.e2e

TINY = ["task=token_classification", "pipeline_name=ner-e2e", "model.preset=tiny", "model.hidden_dim=32",
        "model.intermediate_dim=64", "model.head=crf", "model.bio_constraints=true", "model.word_shapes=true",
        "tokenizer.vocab_size=200", "tokenizer.max_seq_length=24", "tokenizer.min_word_count=1", "training.epochs=6",
        "training.batch_size=16", "training.learning_rate=5e-3", "training.early_stopping_monitor=val_entity_f1",
        "evaluation.min_entity_f1=0.8", "serving.model_name=ner"]
SENTENCE = "Yesterday Zoë flew to São Paulo with José Ruiz."


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from components.core import config as config_lib
    from pipeline import local_runner

    root = tmp_path_factory.mktemp("ner")
    os.makedirs(root / "data")
    train = write_conll(root / "data" / "train.conll", entity_sentences(400, seed=1))
    dev = write_conll(root / "data" / "dev.conll", entity_sentences(80, seed=2))
    config = config_lib.load(None, TINY + [f"data.input_path={train}", f"data.eval_path={dev}"])
    return local_runner.run(config, str(root / "work")) + (config,)


def test_the_pipeline_blesses_and_pushes_the_tagger(run):
    report, paths, _ = run
    states = {c.component_id: c.state for c in report.components}
    assert states == {name: "COMPLETE" for name in [
        "FileBasedExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "AnomaliesGate", "Transform",
        "Trainer", "latest_blessed_model_resolver", "Evaluator", "Pusher"]}
    assert report.blessed is True and report.pushed_version is not None
    assert os.path.isfile(os.path.join(paths.serving_root, "ner", report.pushed_version, "saved_model.pb"))


def test_the_evaluator_reports_entity_scores_per_type(run):
    import tensorflow_model_analysis as tfma

    report, _, _ = run
    metrics = {entry.key.name: entry.value.double_value.value
               for by_slice in tfma.load_metrics(report.evaluation_uri)
               for entry in by_slice.metric_keys_and_values if not entry.key.is_diff}
    assert metrics["entity_f1"] >= 0.8
    assert {"entity_precision", "entity_recall", "entity_f1/PER", "entity_f1/LOC", "entity_recall/LOC"} <= set(metrics)


def test_served_model_returns_entities_with_offsets_into_the_raw_text(run):
    from serving import server

    _, paths, _ = run
    srv = server.make_server(paths.serving_root, "ner", port=0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{srv.port}/v1/models/ner:predict",
            data=json.dumps({"instances": [SENTENCE, ""]}).encode(), headers={"Content-Type": "application/json"})
        predictions = json.load(urllib.request.urlopen(request, timeout=120))["predictions"]
    finally:
        srv.shutdown()
    found, empty = (json.loads(p) for p in predictions)
    assert [(e["text"], e["type"], e["start"], e["end"]) for e in found] == [
        ("Zoë", "PER", 10, 13), ("São Paulo", "LOC", 22, 31), ("José Ruiz", "PER", 37, 46)]
    assert all(SENTENCE[e["start"]:e["end"]] == e["text"] and 0.0 < e["score"] <= 1.0 for e in found)
    assert empty == []


def test_the_report_summary_and_status_show_entity_scores(run):
    from components import tasks
    from components.core.layout import Workdir
    from pipeline import status
    from pipeline.report import summary

    report, paths, config = run
    workdir = os.path.dirname(paths.pipeline_root)
    page = report_page.read(Workdir(workdir).report_path(report.run_id))
    written = report_page.assert_holds_tfma_metrics(page, report.evaluation_uri)
    assert {("entity_f1", "", ""), ("entity_f1/PER", "", ""), ("entity_recall/LOC", "", "")} <= set(written)
    report_page.assert_valid_pngs(page, "per type", "tags per split", "word pieces per example", "entity_f1 per epoch")
    tags = {c["label"] for c in page.cells if "label" in c}
    assert {"O", "B-PER", "I-PER", "B-LOC", "I-LOC"} <= tags
    f1 = written[("entity_f1", "", "")]
    assert f"  entity_f1 {f1:.3f} (no baseline yet, needs >= 0.8) -> BLESSED" in summary.lines(
        report, tasks.get("token_classification").headline, None)
    (line,) = [line for line in status.lines(config, workdir) if report.run_id in line]
    assert f"entity_f1 {f1:.3f}" in line and "BLESSED" in line
