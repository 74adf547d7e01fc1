"""The data half of the pipeline at scale: ExampleGen -> StatisticsGen -> SchemaGen -> ExampleValidator -> Transform
(the real components, a partial run that stops after Transform), on 10k to 1M rows of real text.

Classification: SST-2's sentences (../shared/data/sst2) cycled into a CSV of the asked number of rows. Causal LM:
Jane Austen's and tiny-shakespeare's paragraphs (../shared/data) cycled into one plain-text corpus, one document per
blank-line block. Each size runs in a fresh process and work directory, so nothing is cached and peak memory is its
own. Printed per size: each component's seconds (ML Metadata), Transform's rows/s and word pieces/s, the process
tree's peak RSS, and, measured in the same process, tensorflow-text alone (the same normalizer and FastWordpiece
tokenizer over the same texts with the vocabulary Transform learned): the ratio says what share of raw tokenization
speed Transform reaches. Then the marginal rate between sizes (start-up costs cancel out).

    .venv/bin/python bench/data_scale.py [--rows 10000,100000,1000000] [--lm_rows 10000,100000]
        [--beam auto|in_memory|multi_processing] [--beam_arg=--runner=... (repeatable: Flink, Dataflow)]
"""
import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.sst2_classifier import SST2, read_sst2, write_csv  # noqa: E402

DATA = os.path.dirname(SST2)
COMPONENTS = ("CsvExampleGen", "FileBasedExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "Transform")
PIPELINE = "data-scale"
BATCH = 4096


def classification_input(rows: int, directory: str) -> str:
    sentences = [row for split in ("train", "dev", "test") for row in read_sst2(split)]
    return write_csv(os.path.join(directory, "reviews.csv"), (sentences[i % len(sentences)] for i in range(rows)))


def corpus_input(rows: int, directory: str) -> str:
    paragraphs = []
    for path in sorted(glob.glob(os.path.join(DATA, "janeausten", "*.txt")) +
                       [os.path.join(DATA, "tinyshakespeare", "input.txt")]):
        with open(path, encoding="utf-8", errors="replace") as f:
            blocks = f.read().split("\n\n")
        paragraphs += [" ".join(b.split()) for b in blocks if len(b.split()) >= 3]
    path = os.path.join(directory, "corpus.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(f"{paragraphs[i % len(paragraphs)]}\n\n" for i in range(rows))
    return path


INPUTS = {"classification": classification_input, "causal_lm": corpus_input}


def measure(kind: str, rows: int, beam: str, beam_args) -> dict:
    """One size in this process: the partial pipeline run, then raw tokenization of the same texts."""
    import tensorflow as tf
    import tensorflow_transform as tft

    from components.core import config as config_lib
    from components.core import features
    from components.core.layout import Workdir
    from components.text.tokenization import tokenizer
    from pipeline import beam_options, console, local_runner
    from pipeline.run_report import latest_run

    console.setup()
    workdir = tempfile.mkdtemp(prefix=f"data-scale-{kind}-{rows}-")
    make_input = INPUTS[kind]
    os.makedirs(Workdir(workdir).data_dir)
    data = make_input(rows, Workdir(workdir).data_dir)
    config = config_lib.load(kind, [f"data.input_path={data}", f"pipeline_name={PIPELINE}", f"beam.mode={beam}"]
                             + ([f"beam.args={' '.join(beam_args)}"] if beam_args else []))
    start = time.perf_counter()
    local_runner.run(config, workdir, until="Transform")
    wall = time.perf_counter() - start
    report = latest_run(Workdir(workdir).metadata_path, PIPELINE)
    seconds = {c.component_id: c.seconds for c in report.components if c.component_id in COMPONENTS}

    vocab = tft.TFTransformOutput(report.outputs["Transform/transform_graph"]).vocabulary_file_by_name(
        features.WORDPIECE_VOCAB)
    encoder = tokenizer.Encoder.from_vocabulary(vocab, config.tokenizer.lowercase, config.tokenizer.max_seq_length)
    count = tf.function(lambda texts: tf.size(encoder.wordpieces(texts).flat_values, out_type=tf.int64),
                        input_signature=[tf.TensorSpec([None], tf.string)])
    texts = _texts(kind, data)
    count(tf.constant(texts[:BATCH]))  # traced outside the clock
    start = time.perf_counter()
    pieces = sum(int(count(tf.constant(texts[i:i + BATCH]))) for i in range(0, len(texts), BATCH))
    raw_seconds = time.perf_counter() - start
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return dict(kind=kind, rows=len(texts), seconds=seconds, wall=wall, pieces=pieces, raw_seconds=raw_seconds,
                peak_mib=peak / 1024,
                beam=" ".join(a.split("=")[-1] for a in beam_options.local_args(config.beam, [data])))


def _texts(kind: str, path: str):
    if kind == "classification":
        import csv
        with open(path, encoding="utf-8", newline="") as f:
            return [row["text"] for row in csv.DictReader(f)]
    with open(path, encoding="utf-8") as f:
        return [block for block in f.read().split("\n\n") if block.strip()]


def print_table(results):
    print(f"\n{'kind':<15}{'rows':>9} {'beam':<19}{'ExampleGen':>11}{'Statistics':>11}{'Schema+Val':>11}"
          f"{'Transform':>11}{'rows/s':>9}{'pieces/s':>11}{'raw pieces/s':>14}{'ratio':>7}{'peak MiB':>10}")
    for r in results:
        seconds = r["seconds"]
        transform = seconds["Transform"]
        cells = [seconds.get("CsvExampleGen", seconds.get("FileBasedExampleGen")), seconds["StatisticsGen"],
                 seconds["SchemaGen"] + seconds["ExampleValidator"], transform]
        pieces_rate, raw_rate = r["pieces"] / transform, r["pieces"] / r["raw_seconds"]
        print(f"{r['kind']:<15}{r['rows']:>9} {r['beam']:<19}" + "".join(f"{s:>10.1f}s" for s in cells)
              + f"{r['rows'] / transform:>9.0f}{pieces_rate:>11.0f}{raw_rate:>14.0f}{pieces_rate / raw_rate:>7.1%}"
              + f"{r['peak_mib']:>10.0f}")
    print("\nmarginal Transform rate (rows and seconds between consecutive sizes; start-up cancels out):")
    for a, b in zip(results, results[1:]):
        if a["kind"] == b["kind"]:
            dt = b["seconds"]["Transform"] - a["seconds"]["Transform"]
            print(f"  {a['kind']:<15} {a['rows']:>8} -> {b['rows']:>8}: {(b['rows'] - a['rows']) / dt:8.0f} rows/s, "
                  f"{(b['pieces'] - a['pieces']) / dt:9.0f} pieces/s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="10000,100000,1000000", help="classification CSV sizes")
    parser.add_argument("--lm_rows", default="10000,100000", help="text corpus sizes (documents); empty: none")
    parser.add_argument("--beam", default="auto", choices=("auto", "in_memory", "multi_processing"))
    parser.add_argument("--beam_arg", action="append", default=[], help="passed to Beam, e.g. --runner=FlinkRunner")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # kind:rows, run in this process
    args = parser.parse_args()
    if args.one:
        kind, rows = args.one.split(":")
        print("RESULT " + json.dumps(measure(kind, int(rows), args.beam, args.beam_arg)), flush=True)
        return
    if not os.path.isdir(SST2):
        sys.exit(f"../shared/data not found at {DATA}")
    jobs = [("classification", int(n)) for n in args.rows.split(",") if n] + [
        ("causal_lm", int(n)) for n in args.lm_rows.split(",") if n]
    results = []
    for kind, rows in jobs:
        print(f"--- {kind}, {rows} rows, beam {args.beam}", flush=True)
        command = [sys.executable, __file__, f"--one={kind}:{rows}", f"--beam={args.beam}"] + [
            f"--beam_arg={arg}" for arg in args.beam_arg]
        out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
        results.append(json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:]))
        print_table(results)


if __name__ == "__main__":
    main()
