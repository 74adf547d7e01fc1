"""WNUT-17 NER quality run: the from-scratch token classifier through the real pipeline, softmax head vs CRF head.

train -> the Trainer, dev -> eval split (early stopping and the Evaluator), test -> the pushed SavedModel's
serving_examples signature. Both heads share the backbone shape, the budget and (cached) Transform. Test entity F1 is
seqeval's micro F1 over every word of the test file (words cut by truncation count as "O"). Prints a table with the
Trainer's wall time (from ML Metadata). Needs ../shared/data/wnut17.

    .venv/bin/python bench/wnut17_ner.py [--heads softmax crf] [--set training.epochs=8 ...]
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WNUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "wnut17")
FILES = {"train": "wnut17train.conll", "dev": "emerging.dev.conll", "test": "emerging.test.annotated"}
# On top of the token-classification preset a user starts from (cased word pieces, entity F1 selects the epoch):
DEFAULTS = ["pipeline_name=wnut17-bench", "serving.model_name=wnut17",
            "model.preset=small", "tokenizer.vocab_size=8000", "tokenizer.max_seq_length=64", "training.epochs=5",
            "training.batch_size=32", "training.learning_rate=5e-4",
            # report every run: no gate, and no comparison with the other head's blessed model
            "evaluation.min_entity_f1=0.0", "evaluation.max_entity_f1_drop=1.0"]


def test_sentences():
    from components.text.readers import conll_format

    with open(os.path.join(WNUT, FILES["test"]), "rb") as f:
        return list(conll_format.read_sentences(f, FILES["test"], 0, -1))


def predict_tags(model_dir: str, sentences, batch_size: int = 128):
    """Per sentence, the predicted tag of every word: the served tags of the kept words, then "O"."""
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (the Transform graph's ops)

    from components.tasks.token_classification.export import PREDICTED_TAGS
    from components.text.readers.conll import to_example

    serve = tf.saved_model.load(model_dir).signatures["serving_examples"]
    predicted = []
    for i in range(0, len(sentences), batch_size):
        batch = sentences[i:i + batch_size]
        examples = tf.constant([to_example(s).SerializeToString() for s in batch])
        for sentence, row in zip(batch, serve(examples=examples)[PREDICTED_TAGS].numpy()):
            tags = [t.decode("utf-8") for t in row if t]
            predicted.append(tags + ["O"] * (len(sentence.tags) - len(tags)))
    return predicted


def run_head(head: str, overrides, workdir: str, sentences):
    from components.core import config as config_lib
    from components.nn.metrics.entities import entity_scores
    from pipeline import local_runner

    config = config_lib.load("token_classification", overrides + [f"model.head={head}"])
    start = time.perf_counter()
    report, paths = local_runner.run(config, workdir)
    wall = time.perf_counter() - start
    print("\n".join(report.lines()), flush=True)
    model_dir = os.path.join(paths.serving_root, config.serving.model_name, report.pushed_version)
    predicted = predict_tags(model_dir, sentences)
    scores = entity_scores([s.tags for s in sentences], predicted)
    trainer = next(c.seconds for c in report.components if c.component_id == "Trainer")
    return scores, trainer, wall


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--heads", nargs="+", default=["softmax", "crf"])
    parser.add_argument("--set", action="append", default=[], help="config override, repeatable")
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    if not os.path.isdir(WNUT):
        sys.exit(f"WNUT-17 not found at {WNUT}")

    from components.core import config as config_lib
    from pipeline import console

    console.setup()
    workdir = args.workdir or tempfile.mkdtemp(prefix="wnut17-bench-")
    overrides = DEFAULTS + [f"data.input_path={os.path.join(WNUT, FILES['train'])}",
                            f"data.eval_path={os.path.join(WNUT, FILES['dev'])}"] + args.set
    sentences = test_sentences()
    results = {head: run_head(head, overrides, workdir, sentences) for head in args.heads}

    config = config_lib.load("token_classification", overrides)
    print(f"\nWNUT-17 from scratch, preset {config.model.preset} {config.model.shape()}, "
          f"{config.training.epochs} epochs max (early stopping on dev), batch {config.training.batch_size}, "
          f"seq {config.tokenizer.max_seq_length}, vocab {config.tokenizer.vocab_size}; "
          f"test: {len(sentences)} sentences, {sum(len(s.tags) for s in sentences)} words")
    print(f"{'head':<8} {'test F1':>8} {'P':>7} {'R':>7}  {'Trainer s':>9} {'run s':>6}  per-type F1")
    for head, (scores, trainer, wall) in results.items():
        micro = scores["micro"]
        per_type = ", ".join(f"{t} {s['f1']:.3f}" for t, s in scores["per_type"].items())
        print(f"{head:<8} {micro['f1']:8.4f} {micro['precision']:7.4f} {micro['recall']:7.4f}  "
              f"{trainer:9.0f} {wall:6.0f}  {per_type}")


if __name__ == "__main__":
    main()
