"""Translation through the whole pipeline on a tiny generated parallel corpus, then the pushed model translating over
REST and gRPC; its greedy and beam-search decodes (a decoder cache, in the graph) equal a reference decode in Python
that recomputes every prefix of the same model. A tiny model translates badly: this checks wiring and equality."""
import os
import threading

import numpy as np
import pytest

from tests.components.tasks.translation import reference
from tests.generated_data import message_pairs, write_tsv

pytestmark = pytest.mark.e2e

TINY = ["task=translation", "pipeline_name=messages", "model.preset=tiny", "model.num_layers=1",
        "model.hidden_dim=32", "model.intermediate_dim=64", "model.dropout=0.0", "model.shared_embeddings=true",
        "tokenizer.vocab_size=150", "tokenizer.max_seq_length=24", "tokenizer.max_target_length=16",
        "tokenizer.lowercase=false", "training.epochs=2", "training.batch_size=16", "training.learning_rate=3e-3",
        "training.label_smoothing=0.1", "decoding.beam_width=3", "decoding.length_penalty=1.0",
        "evaluation.min_bleu=0", "serving.model_name=messages"]
SOURCES = ["could not open file %s", "delete 12 user entries in {0}?", "find branch «%s»"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from components.core import config as config_lib
    from pipeline import local_runner

    root = tmp_path_factory.mktemp("translation_e2e")
    train = write_tsv(root / "train.tsv", message_pairs(300, seed=1))
    evaluation = write_tsv(root / "eval.tsv", message_pairs(40, seed=2))
    overrides = TINY + [f"data.input_path={train}", f"data.eval_path={evaluation}"]
    report, paths = local_runner.run(config_lib.load(None, overrides), str(root / "work"))
    return report, paths, overrides


@pytest.fixture(scope="module")
def pushed(run):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (the Transform graph's ops)

    report, paths, _ = run
    version_dir = os.path.join(paths.serving_root, "messages", report.pushed_version)
    return version_dir, tf.saved_model.load(version_dir)


def test_the_translator_is_trained_evaluated_by_bleu_blessed_and_pushed(run):
    import tensorflow_model_analysis as tfma

    report, paths, _ = run
    states = {c.component_id: c.state for c in report.components}
    assert all(state == "COMPLETE" for state in states.values()), states
    assert states.keys() >= {"FileBasedExampleGen", "Transform", "Trainer", "Evaluator", "Pusher"}
    assert report.blessed is True and report.pushed_version
    assert os.listdir(os.path.join(paths.serving_root, "messages")) == [report.pushed_version]
    (metrics,) = list(tfma.load_metrics(report.evaluation_uri))
    values = {kv.key.name: kv.value.double_value.value for kv in metrics.metric_keys_and_values}
    assert values["example_count"] == 40 and 0 <= values["bleu"] <= 100 and 0 < values["chrf"] <= 100, values


def _reference_decodes(model, vocabulary, source, width, length_penalty, max_new):
    """Greedy (width 0) or beam search in Python over the export's no-cache `decoder_logits`, joined as served."""
    import tensorflow as tf

    from components.nn.decoding import START_ID
    from components.text.tokenization.detokenizer import join_marked

    def next_logits(prefixes):
        rows = [[START_ID] + list(p) for p in prefixes]
        length = max(len(r) for r in rows)
        tokens = tf.constant([r + [0] * (length - len(r)) for r in rows], tf.int32)
        logits = model.signatures["decoder_logits"](source=tf.constant([source] * len(rows)),
                                                    decoder_token_ids=tokens)["logits"].numpy()
        return np.stack([logits[i, len(r) - 1] for i, r in enumerate(rows)])

    pieces = (reference.greedy(next_logits, max_new) if width == 0
              else reference.beam_search(next_logits, width, length_penalty, max_new))
    return join_marked(tf.constant([pieces + [0]]), tf.constant(vocabulary)).numpy()[0].decode()


def test_greedy_and_beam_decodes_in_the_savedmodel_equal_a_reference_decode_in_python(pushed):
    import tensorflow as tf

    from components.text.tokenization.tokenizer import read_vocabulary

    version_dir, model = pushed
    vocabulary = read_vocabulary(os.path.join(version_dir, "assets", "wordpiece_vocab"))  # shared by both sides
    translate = model.signatures["translate"]
    for width, penalty in ((1, 0.0), (3, 1.0), (2, 0.5)):
        served = translate(source=tf.constant(SOURCES), beam_width=tf.constant(width),
                           length_penalty=tf.constant(penalty), max_new_tokens=tf.constant(16))["translation"]
        for source, text in zip(SOURCES, served.numpy()):
            expected = _reference_decodes(model, vocabulary, source, 0 if width == 1 else width, penalty, 16)
            assert text.decode() == expected, (source, width, penalty)
    # serving_default decodes with the settings the export baked in: decoding.* (beam 3, penalty 1, 16 pieces)
    default = model.signatures["serving_default"](source=tf.constant(SOURCES))["translation"].numpy().tolist()
    assert default == translate(source=tf.constant(SOURCES), beam_width=tf.constant(3),
                                length_penalty=tf.constant(1.0),
                                max_new_tokens=tf.constant(16))["translation"].numpy().tolist()


def test_the_pushed_translator_answers_raw_text_over_rest_and_grpc(run, pushed):
    import tensorflow as tf

    from components import tasks
    from components.core import config as config_lib
    from components.core.warmup import TaskInput
    from serving import client, server

    report, paths, _ = run
    _, model = pushed
    srv = server.make_server(paths.serving_root, "messages", port=0, grpc_port=0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    request = tasks.request(config_lib.load("translation"))
    greedy = {"beam_width": np.int32(1), "length_penalty": np.float32(0.0), "max_new_tokens": np.int32(16)}
    try:
        served = {protocol: client.predict(SOURCES, "messages", port=port, protocol=protocol,
                                           task_input=request)  # `predict --text`
                  for protocol, port in (("rest", srv.port), ("grpc", srv.grpc_port))}
        greedy_served = {protocol: client.predict(SOURCES, "messages", port=port, protocol=protocol,
                                                  signature_name="translate",
                                                  task_input=TaskInput("", name="source", settings=greedy))
                         for protocol, port in (("rest", srv.port), ("grpc", srv.grpc_port))}
    finally:
        srv.shutdown()
    direct = [t.decode() for t in model.signatures["serving_default"](source=tf.constant(SOURCES))[
        "translation"].numpy()]
    assert served["rest"] == served["grpc"] == direct
    direct_greedy = model.signatures["translate"](source=tf.constant(SOURCES), beam_width=tf.constant(1),
                                                  length_penalty=tf.constant(0.0),
                                                  max_new_tokens=tf.constant(16))["translation"].numpy()
    assert greedy_served["rest"] == greedy_served["grpc"] == [t.decode() for t in direct_greedy]


def test_the_pushed_translator_carries_a_warmup_request_that_replays(run):
    from serving import warmup
    from serving.loaded_model import LoadedModel

    report, paths, _ = run
    version_dir = os.path.join(paths.serving_root, "messages", report.pushed_version)
    assert warmup.warm_up(LoadedModel("messages", int(report.pushed_version), version_dir)) == 1


def test_a_bleu_below_the_threshold_blesses_and_pushes_nothing(run):
    from components.core import config as config_lib
    from pipeline import local_runner

    _, paths, overrides = run
    workdir = os.path.dirname(paths.pipeline_root)
    rerun, _ = local_runner.run(config_lib.load(None, overrides + ["evaluation.min_bleu=100"]), workdir)
    states = {c.component_id: c.state for c in rerun.components}
    assert states["Trainer"] == "CACHED" and states["Evaluator"] == "COMPLETE", states
    assert rerun.blessed is False and rerun.pushed_version is None
