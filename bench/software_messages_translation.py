"""Software-message translation quality run: English->German and English->Chinese through the real pipeline, each
trained for a fixed CPU time budget, scored by sacrebleu on held-out pairs against copying the source.

Data: ../shared/data/software_messages (real gettext catalogs, see its README). The pipeline trains on each pair's
train split (data.eval_percent of it held out as the pipeline's eval split: early stopping and the Evaluator's BLEU
gate); the figures come from the en-de test split and the en-zh_CN dev split (there is no zh test split), decoded
by the pushed SavedModel's `translate` signature, greedy and beam 4, with their speed in sentences/s (batches of 32,
the model's own decoder cache; the first batch, which traces nothing but warms up, is included). BLEU tokenizes
with 13a for German and sacrebleu's zh tokenizer for Chinese; chrF is the same for both. "placeholders kept" is the
share of pairs whose printf/brace placeholders (%s, %1$s, %-10d, {0}, ...) the output holds exactly as the
reference does.

    .venv/bin/python bench/software_messages_translation.py [--minutes 45] [--pairs en-de,en-zh_CN] [--set ...]
"""
import argparse
import collections
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import harness  # noqa: E402
from components.core.layout import Workdir  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "software_messages")
SPLITS = {"en-de": ("en-de.train.tsv", "en-de.test.tsv", "13a"),
          "en-zh_CN": ("en-zh_CN.train.tsv", "en-zh_CN.dev.tsv", "zh")}
# Sized for a 2-core CPU and a budget of minutes: 3 encoder and 3 decoder layers, 256 wide, one 8000-piece vocabulary
# shared by both sides (and by the embeddings), label smoothing 0.1, learning rate 1e-3 (3e-3 stalled: these layers
# normalize after the residual, as BERT's). Measured on this machine: an epoch of en-de's train split (576 batches of
# 64 pairs) with its evaluation took 7.5 minutes on quiet cores and 15 beside other jobs (mixed_bfloat16 was no
# faster); the cosine schedule spans the epochs expected to fit on quiet cores (MINUTES_PER_EPOCH) and
# training.max_minutes stops on time either way (early stopping keeps the best evaluated epoch).
DEFAULTS = ["task=translation", "model.preset=small", "model.num_layers=3", "model.hidden_dim=256",
            "model.num_heads=4", "model.intermediate_dim=1024", "model.dropout=0.1", "model.shared_embeddings=true",
            "tokenizer.vocab_size=8000", "tokenizer.lowercase=false", "tokenizer.max_seq_length=64",
            "tokenizer.max_target_length=64", "tokenizer.shared_vocabulary=true", "training.batch_size=64",
            "training.learning_rate=1e-3", "training.warmup_fraction=0.05", "training.label_smoothing=0.1",
            "training.early_stopping_patience=2", "data.eval_percent=2", "decoding.beam_width=4",
            "decoding.length_penalty=1.0", "evaluation.min_bleu=0", "evaluation.max_bleu_drop=100"]
MINUTES_PER_EPOCH = 7.5
BATCH = 32
PLACEHOLDER = re.compile(r"%(?:\d+\$)?[-+ #0']*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|L|q|j|z|t)?"
                         r"[diouxXeEfFgGaAcspn%]|\{[\w.]*\}")


def read_pairs(path):
    from components.text.readers import parallel_format, text_documents

    with text_documents.open_binary(path) as f:
        return [(p.source, p.target) for p in parallel_format.read_pairs(f, os.path.basename(path), "source",
                                                                          "target")]


def decode(model, sources, beam_width):
    """(translations, sentences per second) through the export's `translate` signature."""
    import tensorflow as tf

    translate = model.signatures["translate"]
    settings = dict(beam_width=tf.constant(beam_width), length_penalty=tf.constant(1.0 if beam_width > 1 else 0.0),
                    max_new_tokens=tf.constant(64))
    out = []
    start = time.perf_counter()
    for i in range(0, len(sources), BATCH):
        batch = translate(source=tf.constant(sources[i:i + BATCH]), **settings)["translation"]
        out.extend(t.decode("utf-8") for t in batch.numpy())
    return out, len(sources) / (time.perf_counter() - start)


def placeholders_kept(outputs, references):
    same = sum(collections.Counter(PLACEHOLDER.findall(o)) == collections.Counter(PLACEHOLDER.findall(r))
               for o, r in zip(outputs, references))
    return same / len(references)


def run_pair(name, args):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401

    from components.nn.metrics.tfma_translation import corpus_score

    train_file, test_file, tokenize = SPLITS[name]
    slug = name.lower().replace("_", "-")
    workdir = harness.workdir(args.workdir and os.path.join(args.workdir, slug), f"mt-{slug}-")
    train = os.path.join(args.data, train_file)
    if args.train_limit:  # a quick look: the first N pairs only
        data_dir = Workdir(workdir).data_dir
        os.makedirs(data_dir, exist_ok=True)
        with open(train, encoding="utf-8") as f, open(os.path.join(data_dir, train_file), "w", encoding="utf-8") as g:
            g.writelines(line for _, line in zip(range(args.train_limit + 1), f))
        train = os.path.join(data_dir, train_file)
    epochs = max(1, round(args.minutes / MINUTES_PER_EPOCH))
    run = harness.run_pipeline(DEFAULTS + [
        f"pipeline_name=mt-{slug}", f"serving.model_name=mt_{slug.replace('-', '_')}", f"data.input_path={train}",
        f"evaluation.bleu_tokenizer={tokenize}", f"training.epochs={epochs}",
        f"training.max_minutes={args.minutes}"] + args.set, workdir)
    pairs = read_pairs(os.path.join(args.data, test_file))[:args.test_limit or None]
    sources, references = [s for s, _ in pairs], [t for _, t in pairs]
    model = tf.saved_model.load(run.pushed_dir)
    rows = [("copy the source", sources, None)]
    for label, width in (("greedy", 1), ("beam 4", 4)):
        outputs, speed = decode(model, sources, width)
        rows.append((label, outputs, speed))
    print(f"\n{name}: {len(pairs):,} pairs of {test_file}; trained {run.trainer_seconds / 60:.1f} min (Trainer "
          f"execution incl. export; budget training.max_minutes={args.minutes:g}, {epochs} epoch(s) scheduled), "
          f"pipeline {run.wall_seconds / 60:.1f} min")
    print(f"  {'':<16} {'BLEU':>6} {'chrF':>6} {'placeholders kept':>18} {'sentences/s':>12}")
    for label, outputs, speed in rows:
        bleu = corpus_score("bleu", outputs, references, tokenize)
        chrf = corpus_score("chrf", outputs, references)
        shown = f"{speed:12.1f}" if speed else f"{'-':>12}"
        print(f"  {label:<16} {bleu:6.2f} {chrf:6.2f} {placeholders_kept(outputs, references):18.1%} {shown}")
    for source, reference, greedy, beam in list(zip(sources, references, rows[1][1], rows[2][1]))[:5]:
        print(f"    source    {source}\n    reference {reference}\n    greedy    {greedy}\n    beam 4    {beam}")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=45.0, help="training budget per language pair")
    parser.add_argument("--pairs", default="en-de,en-zh_CN")
    parser.add_argument("--set", action="append", default=[], help="config override, repeatable")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--data", default=DATA, help="the software_messages directory")
    parser.add_argument("--train_limit", type=int, default=0, help="train on the first N pairs only (a quick look)")
    parser.add_argument("--test_limit", type=int, default=0, help="score the first N held-out pairs only")
    args = parser.parse_args()
    if not os.path.isdir(args.data):
        sys.exit(f"software messages not found at {args.data}")
    for name in args.pairs.split(","):
        run_pair(name, args)


if __name__ == "__main__":
    main()
