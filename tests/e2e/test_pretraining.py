"""Masked-LM pretraining through the whole pipeline, then a classifier and a CRF tagger fine-tuned from its blessed
model through pipelines of their own on the same workdir (ML Metadata resolves the base model), all pushed; and a
masked LM continued from it on a second corpus."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from pipeline import status
from tests import report_page
from tests.generated_data import (entity_sentences, review_documents, sentiment_rows, write_conll, write_csv,
                                  write_documents)
from tests.mlmd_outputs import output_uri

pytestmark = pytest.mark.e2e

SMALL = ["model.preset=tiny", "model.hidden_dim=32", "model.intermediate_dim=64", "tokenizer.vocab_size=200",
         "tokenizer.max_seq_length=24", "training.batch_size=16", "training.learning_rate=3e-3"]
PRETRAIN = SMALL + ["task=masked_lm", "pipeline_name=pretrain", "serving.model_name=mlm", "training.epochs=3",
                    "pretraining.nsp=true", "pretraining.whole_word_masking=true",
                    "pretraining.max_predictions_per_seq=4", "data.document_split=blank_line",
                    "evaluation.max_perplexity=150"]
FINETUNE = SMALL + ["pipeline_name=finetune", "serving.model_name=sentiment", "training.epochs=3",
                    "base_model.source=pipeline", "base_model.pipeline_name=pretrain",
                    "training.freeze_backbone_steps=5",
                    # the push gate is tested in test_e2e_pipeline; here a tiny model must not flake on it
                    "evaluation.min_accuracy=0.0", "evaluation.max_accuracy_drop=1.0"]
NER = SMALL + ["task=token_classification", "pipeline_name=ner-finetune", "serving.model_name=ner", "training.epochs=2",
               "model.head=crf", "model.bio_constraints=true", "model.word_shapes=true", "base_model.source=pipeline",
               "base_model.pipeline_name=pretrain", "evaluation.min_entity_f1=0.0", "evaluation.max_entity_f1_drop=1.0"]
CONTINUE = SMALL + ["task=masked_lm", "pipeline_name=mlm-continued", "serving.model_name=mlm_continued",
                    "training.epochs=1", "base_model.source=pipeline", "base_model.pipeline_name=pretrain",
                    "model.hidden_dim=16",  # the base's shape wins
                    "pretraining.max_predictions_per_seq=4", "data.document_split=blank_line"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from components.core import config as config_lib
    from pipeline import local_runner

    root = tmp_path_factory.mktemp("pretraining_e2e")
    corpus = write_documents(root / "reviews.txt", review_documents(150, seed=3))
    labelled = write_csv(root / "reviews.csv", sentiment_rows(300, seed=1, label_noise=0.05))
    workdir = str(root / "work")
    pretrained = local_runner.run(config_lib.load(None, PRETRAIN + [f"data.input_path={corpus}"]), workdir)
    finetuned = local_runner.run(config_lib.load(None, FINETUNE + [f"data.input_path={labelled}"]), workdir)
    tagged = write_conll(root / "entities.conll", entity_sentences(200, seed=4))
    tagger = local_runner.run(config_lib.load(None, NER + [f"data.input_path={tagged}"]), workdir)
    more = write_documents(root / "more_reviews.txt", review_documents(100, seed=5))
    continued = local_runner.run(config_lib.load(None, CONTINUE + [f"data.input_path={more}"]), workdir)
    return pretrained, finetuned, tagger, corpus, labelled, continued


def _pushed(paths, model_name, version):
    return os.path.join(paths.serving_root, model_name, version)


def test_pretraining_is_gated_on_perplexity_and_exports_its_backbone_as_a_preset(runs):
    (report, paths), *_ = runs
    assert {c.component_id: c.state for c in report.components}["Trainer"] == "COMPLETE"
    assert report.blessed is True and report.pushed_version
    pushed = _pushed(paths, "mlm", report.pushed_version)
    assert os.path.isfile(os.path.join(pushed, "assets.extra", "backbone", "config.json"))
    perplexity, accuracy = (status.metric(report.evaluation_uri, name) for name in ("perplexity", "token_accuracy"))
    assert 1.0 < perplexity < 150 and 0.0 < accuracy <= 1.0


@pytest.mark.parametrize("run, pipeline_name", [(1, "finetune"), (2, "ner-finetune")], ids=["classifier", "crf_tagger"])
def test_each_kind_is_fine_tuned_from_the_blessed_pretrained_model_and_its_vocabulary(runs, run, pipeline_name):
    (pretrain_report, pretrain_paths), (report, paths) = runs[0], runs[run]
    states = {c.component_id: c.state for c in report.components}
    assert states["base_model_resolver"] == "COMPLETE" and states["Trainer"] == "COMPLETE", states
    assert report.blessed is True and report.pushed_version
    transform_graph = output_uri(paths.metadata_path, pipeline_name, "Transform", "transform_graph")
    with open(os.path.join(transform_graph, "transform_fn", "assets", "wordpiece_vocab")) as f:
        # not learned from the reviews or the sentences: the base model's
        assert f.read().split("\n")[:-1] == _base_vocabulary(pretrain_paths, pretrain_report)


def test_pretraining_score_signature_runs_in_a_new_process(runs):
    (report, paths), *_ = runs
    script = textwrap.dedent(f"""
        import json, tensorflow as tf, tensorflow_text
        model = tf.saved_model.load({_pushed(paths, "mlm", report.pushed_version)!r})
        texts = tf.constant(["the film was a great and moving story with a superb cast", ""])
        scores = model.signatures["serving_default"](text=texts)
        print(json.dumps({{k: v.numpy().tolist() for k, v in scores.items()}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    scores = json.loads(out.stdout.strip().splitlines()[-1])
    assert scores["token_count"][0] >= 1 and scores["token_count"][1] == 0
    assert scores["loss_sum"][0] > 0 and 0 <= scores["correct_count"][0] <= scores["token_count"][0]


def _base_vocabulary(paths, report):
    base = _pushed(paths, "mlm", report.pushed_version)
    with open(os.path.join(base, "assets.extra", "backbone", "assets", "tokenizer", "vocabulary.txt")) as f:
        return f.read().split("\n")[:-1]


def test_reports_and_status_show_each_pipelines_headline_metric(runs):
    from components import tasks
    from components.core import config as config_lib
    from components.core.layout import Workdir
    from pipeline.report import summary

    (pretrained, paths), (finetuned, _), _, corpus, labelled, _ = runs
    workdir = os.path.dirname(paths.pipeline_root)
    page = report_page.read(Workdir(workdir).report_path(pretrained.run_id))
    written = report_page.assert_holds_tfma_metrics(page, pretrained.evaluation_uri)
    perplexity, accuracy = written[("perplexity", "", "")], written[("token_accuracy", "", "")]
    report_page.assert_valid_pngs(page, "loss per epoch", "mlm_perplexity per epoch", "word pieces per example")
    lines = summary.lines(pretrained, tasks.get("masked_lm").headline, None)
    assert lines.index(f"  perplexity {perplexity:.3f} (no baseline yet, needs <= 150) -> BLESSED") + 1 == \
        lines.index(f"  token_accuracy {accuracy:.3f} (no baseline yet, needs >= 0) -> BLESSED")
    pretrain_status = status.lines(config_lib.load(None, PRETRAIN + [f"data.input_path={corpus}"]), workdir)
    assert any(pretrained.run_id in line and f"perplexity {perplexity:.3f}" in line for line in pretrain_status)
    finetune_status = status.lines(config_lib.load(None, FINETUNE + [f"data.input_path={labelled}"]), workdir)
    accuracy = status.metric(finetuned.evaluation_uri, "accuracy")
    assert any(finetuned.run_id in line and f"accuracy {accuracy:.3f}" in line for line in finetune_status)
    report_page.assert_holds_tfma_metrics(report_page.read(Workdir(workdir).report_path(finetuned.run_id)),
                                          finetuned.evaluation_uri)


def test_a_masked_lm_continues_from_the_blessed_pretrained_model_its_vocabulary_shape_and_weights(runs):
    import keras_hub

    from pipeline.report import training

    (base_report, base_paths), (report, paths) = runs[0], runs[5]
    states = {c.component_id: c.state for c in report.components}
    assert states["base_model_resolver"] == "COMPLETE" and report.blessed is True and report.pushed_version, states
    transform_graph = output_uri(paths.metadata_path, "mlm-continued", "Transform", "transform_graph")
    with open(os.path.join(transform_graph, "transform_fn", "assets", "wordpiece_vocab")) as f:
        assert f.read().split("\n")[:-1] == _base_vocabulary(base_paths, base_report)
    base, continued = (keras_hub.models.BertBackbone.from_preset(os.path.join(_pushed(p, name, r.pushed_version),
                                                                              "assets.extra", "backbone"))
                       for p, name, r in ((base_paths, "mlm", base_report), (paths, "mlm_continued", report)))
    assert continued.hidden_dim == base.hidden_dim == 32  # not model.hidden_dim=16
    embeddings = [b.token_embedding.embeddings.numpy().ravel() for b in (base, continued)]
    assert np.corrcoef(*embeddings)[0, 1] > 0.9  # one epoch moved the base's weights a little (0.99); fresh ones ~0
    first_epoch = [training.read(output_uri(p.metadata_path, name, "Trainer", "model_run")).evaluation[
        "mlm_perplexity"][0] for p, name in ((base_paths, "pretrain"), (paths, "mlm-continued"))]
    assert first_epoch[1] < first_epoch[0], first_epoch  # below the base's first epoch on more documents (~0.7x)
