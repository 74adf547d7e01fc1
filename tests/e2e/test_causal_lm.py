"""The causal LM through the whole pipeline on a small generated corpus, then the pushed model generating over REST,
and a causal LM continued from it on another corpus."""
import json
import os
import random
import threading
import urllib.request

import pytest

from tests import report_page

pytestmark = pytest.mark.e2e

SUBJECTS = ["the cat", "the dog", "a bird", "the old man", "my sister"]
VERBS = ["sat on", "looked at", "walked to", "jumped over", "sang near"]
OBJECTS = ["the mat", "the tree", "the house", "the river", "the wall"]
TINY = ["task=causal_lm", "pipeline_name=story-lm", "model.preset=tiny", "model.hidden_dim=32",
        "model.intermediate_dim=64", "model.dropout=0.0", "tokenizer.vocab_size=120", "tokenizer.max_seq_length=32",
        "training.epochs=12", "training.batch_size=8", "training.learning_rate=3e-3",
        "data.document_split=blank_line", "evaluation.max_perplexity=4", "serving.model_name=story_lm"]


def write_stories(path, count, seed):
    """Documents of 2-4 sentences from a tiny grammar, blank lines between them: learnable in seconds."""
    rng = random.Random(seed)
    stories = ("\n".join(f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}."
                         for _ in range(rng.randint(2, 4))) for _ in range(count))
    path.write_text("\n\n".join(stories) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from components.core import config as config_lib
    from pipeline import local_runner

    root = tmp_path_factory.mktemp("lm_e2e")
    train, evaluation = write_stories(root / "train.txt", 300, seed=1), write_stories(root / "eval.txt", 40, seed=2)
    overrides = TINY + [f"data.input_path={train}", f"data.eval_path={evaluation}"]
    report, paths = local_runner.run(config_lib.load(None, overrides), str(root / "work"))
    return report, paths, overrides


def test_the_lm_is_trained_evaluated_by_perplexity_blessed_and_pushed(run):
    report, paths, _ = run
    states = {c.component_id: c.state for c in report.components}
    assert all(state == "COMPLETE" for state in states.values()), states
    assert states.keys() >= {"FileBasedExampleGen", "Transform", "Trainer", "Evaluator", "Pusher"}
    assert report.blessed is True and report.pushed_version
    assert os.listdir(os.path.join(paths.serving_root, "story_lm")) == [report.pushed_version]


def test_pushed_model_generates_text_over_rest_and_grpc(run):
    import tensorflow as tf

    from components import tasks
    from components.core import config as config_lib
    from components.tasks.causal_lm.request import GENERATION
    from serving import client, server

    report, paths, _ = run
    srv = server.make_server(paths.serving_root, "story_lm", port=0, grpc_port=0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()

    def predict(body):
        request = urllib.request.Request(f"http://127.0.0.1:{srv.port}/v1/models/story_lm:predict",
                                         data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        return json.load(urllib.request.urlopen(request, timeout=120))

    greedy = {"prompt": "The cat sat", "max_new_tokens": 6, "temperature": 0, "top_k": 0, "top_p": 1, "seed": 1}
    try:  # per-row settings in "instances"; one setting for the whole batch in "inputs"
        rows = predict({"instances": [greedy, dict(greedy, prompt="", temperature=0.8, top_k=5, seed=3)]})
        columns = predict({"inputs": dict(greedy, prompt=["The cat sat"])})
        task_input = tasks.request(config_lib.load("causal_lm"))
        printed = predict(json.loads(task_input.curl_body()))  # what `serve` tells a user to send
        asked = {protocol: client.predict(["the dog", "a bird"], "story_lm", port=port, protocol=protocol,
                                          task_input=task_input)
                 for protocol, port in (("rest", srv.port), ("grpc", srv.grpc_port))}  # what `predict --text` sends
    finally:
        srv.shutdown()
    assert len(printed["predictions"]) == 1 and printed["predictions"][0].strip()
    signature = tf.saved_model.load(os.path.join(paths.serving_root, "story_lm", report.pushed_version)).signatures[
        "serving_default"].structured_input_signature[1]
    assert {name: spec.dtype for name, spec in signature.items()} == {
        "prompt": tf.string, **{name: tf.as_dtype(value.dtype) for name, value in GENERATION.items()}}
    assert asked["rest"] == asked["grpc"] and all(text.strip() for text in asked["rest"]), asked  # seeded sampling
    first, sampled = rows["predictions"]
    assert columns["outputs"] == [first]
    assert first.startswith("on the "), first  # in the training grammar "sat" is always followed by "on"
    known = set(" ".join(SUBJECTS + VERBS + OBJECTS).split())
    assert 2 <= len(first.split()) <= 6 and set(first.replace(".", " ").split()) <= known, first
    assert sampled.strip() and set(sampled.replace(".", " ").split()) <= known, sampled


def test_the_pushed_lm_carries_a_generation_warmup_request_that_replays(run):
    from serving import warmup
    from serving.loaded_model import LoadedModel

    report, paths, _ = run
    version_dir = os.path.join(paths.serving_root, "story_lm", report.pushed_version)
    assert warmup.warm_up(LoadedModel("story_lm", int(report.pushed_version), version_dir)) == 1


def test_the_report_summary_and_status_show_perplexity_and_generation_samples(run):
    from components import tasks
    from components.core import config as config_lib
    from components.core.layout import Workdir
    from pipeline import status
    from pipeline.report import summary

    report, paths, overrides = run
    workdir = os.path.dirname(paths.pipeline_root)
    page = report_page.read(Workdir(workdir).report_path(report.run_id))
    written = report_page.assert_holds_tfma_metrics(page, report.evaluation_uri)
    perplexity = written[("perplexity", "", "")]
    report_page.assert_valid_pngs(page, "loss per epoch", "perplexity per epoch", "word pieces per example")
    assert page.text.count('{"prompt": "') == 5 and "nothing cut" in page.text  # generation samples; packed
    assert f"  perplexity {perplexity:.3f} (no baseline yet, needs <= 4) -> BLESSED" in summary.lines(
        report, tasks.get("causal_lm").headline, None)
    (line,) = [line for line in status.lines(config_lib.load(None, overrides), workdir) if report.run_id in line]
    assert f"perplexity {perplexity:.3f}" in line and "BLESSED" in line


def test_a_perplexity_above_the_threshold_blesses_and_pushes_nothing(run):
    from components.core import config as config_lib
    from pipeline import local_runner

    _, paths, overrides = run
    workdir = os.path.dirname(paths.pipeline_root)
    rerun, _ = local_runner.run(config_lib.load(None, overrides + ["evaluation.max_perplexity=1.0"]), workdir)
    states = {c.component_id: c.state for c in rerun.components}
    assert states["Trainer"] == "CACHED" and states["Evaluator"] == "COMPLETE", states
    assert rerun.blessed is False and rerun.pushed_version is None


@pytest.fixture(scope="module")
def continued(run, tmp_path_factory):
    """One epoch on new stories, continued from the blessed story-lm of the same workdir, in a shape it overrides."""
    from components.core import config as config_lib
    from pipeline import local_runner

    _, paths, overrides = run
    more = write_stories(tmp_path_factory.mktemp("more_stories") / "more.txt", 120, seed=3)
    return local_runner.run(config_lib.load(None, overrides + [
        "pipeline_name=story-lm-continued", "serving.model_name=story_lm_continued", f"data.input_path={more}",
        "training.epochs=1", "model.hidden_dim=16", "evaluation.max_perplexity=1000",
        "base_model.source=pipeline", "base_model.pipeline_name=story-lm"]), os.path.dirname(paths.pipeline_root))


def test_a_causal_lm_continues_from_the_blessed_lm_its_vocabulary_shape_and_weights(run, continued):
    import keras_hub

    from pipeline.report import training
    from tests.mlmd_outputs import output_uri

    (base_report, base_paths, _), (report, paths) = run, continued
    states = {c.component_id: c.state for c in report.components}
    assert states["base_model_resolver"] == "COMPLETE" and report.blessed is True and report.pushed_version, states
    base_preset = os.path.join(base_paths.serving_root, "story_lm", base_report.pushed_version, "assets.extra",
                               "backbone")
    with open(os.path.join(base_preset, "assets", "tokenizer", "vocabulary.txt")) as f:
        base_vocabulary = f.read().split("\n")[:-1]
    transform_graph = output_uri(paths.metadata_path, "story-lm-continued", "Transform", "transform_graph")
    with open(os.path.join(transform_graph, "transform_fn", "assets", "wordpiece_vocab")) as f:
        assert f.read().split("\n")[:-1] == base_vocabulary
    pushed = os.path.join(paths.serving_root, "story_lm_continued", report.pushed_version, "assets.extra", "backbone")
    assert keras_hub.models.GPT2Backbone.from_preset(pushed).hidden_dim == 32  # the base's, not model.hidden_dim=16
    first_epoch = [training.read(output_uri(p.metadata_path, name, "Trainer", "model_run")).evaluation[
        "perplexity"][0] for p, name in ((base_paths, "story-lm"), (paths, "story-lm-continued"))]
    assert first_epoch[1] < 0.5 * first_epoch[0], first_epoch  # it starts where the base left off
