"""SST-2 quality run: the from-scratch classifier through the real pipeline, scored on the held-out test set.

train -> the Trainer, dev -> eval split (early stopping and the Evaluator), test -> the pushed SavedModel.
Prints test accuracy and the Trainer's wall time (from ML Metadata). Needs ../shared/data/sst2.

    .venv/bin/python bench/sst2_classifier.py [--set training.epochs=6 ...]
"""
import argparse
import csv
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SST2 = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "sst2")
DEFAULTS = ["model.preset=small", "training.epochs=6", "training.batch_size=32", "training.learning_rate=2e-4",
            "tokenizer.max_seq_length=64", "tokenizer.vocab_size=8000", "evaluation.min_accuracy=0.0",
            "pipeline_name=sst2-bench", "serving.model_name=sst2"]


def read_sst2(name: str):
    """Lines are `LABEL sentence`; 1 = positive."""
    with open(os.path.join(SST2, f"stsa.binary.{name}"), encoding="utf-8", errors="replace") as f:
        return [(line[2:].strip(), "positive" if line[0] == "1" else "negative") for line in f if line.strip()]


def write_csv(path: str, rows) -> str:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def sst2_splits(data_dir: str):
    """(train CSV, dev CSV, test rows): train -> the Trainer, dev -> the eval split, test -> the pushed model."""
    os.makedirs(data_dir, exist_ok=True)
    return (write_csv(os.path.join(data_dir, "train.csv"), read_sst2("train")),
            write_csv(os.path.join(data_dir, "dev.csv"), read_sst2("dev")), read_sst2("test"))


def pushed_hits(serving_root: str, model_name: str, rows, version=None) -> np.ndarray:
    """(N,) bool: is the pushed version's (default: the newest) label right, row by row of (text, label) rows, through
    its raw-text signature. The mean is the accuracy."""
    import tensorflow as tf
    import tensorflow_text  # noqa: F401

    model_dir = os.path.join(serving_root, model_name)
    version = version or max(int(v) for v in os.listdir(model_dir) if v.isdigit())
    predict = tf.saved_model.load(os.path.join(model_dir, str(version))).signatures["serving_default"]
    texts, labels = zip(*rows)
    predicted = np.concatenate([predict(text=tf.constant(texts[i:i + 256]))["label"].numpy()
                                for i in range(0, len(texts), 256)])
    return np.array([p.decode() == label for p, label in zip(predicted, labels)])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", action="append", default=[], help="config override, repeatable")
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    if not os.path.isdir(SST2):
        sys.exit(f"SST-2 not found at {SST2}")

    from components.core import config as config_lib
    from components.core.layout import Workdir
    from pipeline import console, local_runner

    console.setup()
    workdir = args.workdir or tempfile.mkdtemp(prefix="sst2-bench-")
    train, dev, test = sst2_splits(Workdir(workdir).data_dir)
    overrides = DEFAULTS + [f"data.input_path={train}", f"data.eval_path={dev}"] + args.set
    config = config_lib.load(None, overrides)

    start = time.perf_counter()
    report, paths = local_runner.run(config, workdir)
    wall = time.perf_counter() - start
    print("\n".join(report.lines()))
    trainer_seconds = next(c.seconds for c in report.components if c.component_id == "Trainer")

    accuracy = pushed_hits(paths.serving_root, config.serving.model_name, test).mean()

    print(f"\nSST-2 from scratch, preset {config.model.preset} {config.model.shape()}, "
          f"{config.training.epochs} epochs max, batch {config.training.batch_size}, seq {config.tokenizer.max_seq_length}")
    print(f"test accuracy      {accuracy:.4f}  ({len(test)} sentences)")
    print(f"training wall time {trainer_seconds:.0f} s (Trainer execution, incl. export)")
    print(f"pipeline wall time {wall:.0f} s")


if __name__ == "__main__":
    main()
