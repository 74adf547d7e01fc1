"""WNUT-17 NER quality: test entity F1 of the token classifier through the real pipeline, softmax head vs CRF head,
from scratch vs from the pipeline's own masked-LM pretraining, over several seeds, with paired bootstraps.

train -> the Trainer, dev -> eval split (early stopping, the kept epoch, the Evaluator), test -> the pushed
SavedModel's serving_examples signature. Test entity F1 is seqeval's micro F1 over every word of the test file (words
cut by truncation count as "O"). Every arm has the same backbone shape and budget; Transform runs once per vocabulary
(cached in the work directory).

Pretraining (task=masked_lm, cased like the tagger): the WNUT-17 train sentences' words (no tags; never the dev or
test text) `--wnut_copies` times, each copy shuffled and cut into documents of `--sentences_per_document`, beside
Jane Austen's novels (cased running English). Its vocabulary is then the taggers' vocabulary too. The default 27
minutes (perplexity ~100 on 2 cores) is what it takes to help: 12 minutes (perplexity ~325) did not (BUILD.md).

    .venv/bin/python bench/wnut17_ner.py [--seeds 42,2,7] [--heads softmax crf] [--starts scratch pretrained]
"""
import argparse
import glob
import os
import random
import shutil
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from bootstrap import DRAWS, entity_f1, paired_bootstrap  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")
WNUT = os.path.join(DATA, "wnut17")
FILES = {"train": "wnut17train.conll", "dev": "emerging.dev.conll", "test": "emerging.test.annotated"}
# On top of the token-classification preset a user starts from (cased word pieces, CRF, entity F1 selects the epoch):
DEFAULTS = ["serving.model_name=wnut17", "model.preset=small", "tokenizer.vocab_size=8000",
            "tokenizer.max_seq_length=64", "training.batch_size=32"]
TAGGER = [  # report every run: no gate, and no comparison with another arm's blessed model
          "evaluation.min_entity_f1=0.0", "evaluation.max_entity_f1_drop=1.0"]
# 30% masked (Wettig et al. 2023): twice BERT's targets per step for a model that sees little text
PRETRAINING = ["pipeline_name=wnut17-mlm", "serving.model_name=wnut17_mlm",
               "tokenizer.lowercase=false", "data.document_split=blank_line", "data.eval_percent=5",
               "pretraining.mask_rate=0.3", "evaluation.max_perplexity=1000000"]


def read_sentences(split: str):
    from components.text.readers import conll_format

    with open(os.path.join(WNUT, FILES[split]), "rb") as f:
        return list(conll_format.read_sentences(f, FILES[split], 0, -1))


def write_corpus(directory: str, copies: int, per_document: int) -> str:
    """Austen's novels, and the train sentences' words `copies` times (each copy shuffled, so each draws its own
    masks and neighbours). Kept when already there: a rewritten file is new input, and pretraining would rerun."""
    if os.path.isdir(directory) and os.listdir(directory):
        return directory
    os.makedirs(directory)
    for path in glob.glob(os.path.join(DATA, "janeausten", "*.txt")):
        shutil.copy(path, os.path.join(directory, f"austen_{os.path.basename(path)}"))
    sentences = [" ".join(s.tokens) for s in read_sentences("train")]
    with open(os.path.join(directory, "wnut17_train_words.txt"), "w", encoding="utf-8") as f:
        for copy in range(copies):
            order = random.Random(copy).sample(sentences, len(sentences))
            f.writelines("\n".join(order[i:i + per_document]) + "\n\n" for i in range(0, len(order), per_document))
    return directory


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


def sentence_counts(gold, predicted) -> np.ndarray:
    """(N, 3): each sentence's (true positives, predicted, gold) entities, all types together."""
    from components.nn.metrics.entities import entity_counts

    return np.array([np.sum(list(entity_counts([g], [p]).values()) or [[0, 0, 0]], axis=0)
                     for g, p in zip(gold, predicted)], dtype=np.int64)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="42,2,7", help="training seeds, comma-separated: one run per arm each")
    parser.add_argument("--heads", nargs="+", default=["softmax", "crf"])
    parser.add_argument("--starts", nargs="+", default=["scratch", "pretrained"])
    parser.add_argument("--pretrain_minutes", type=float, default=27.0, help="training time budget of pretraining")
    parser.add_argument("--pretrain_epochs", type=int, default=3,
                        help="pretraining epochs; the LR schedule spans them, so size them to the time budget")
    parser.add_argument("--wnut_copies", type=int, default=8, help="times the corpus holds the train sentences")
    parser.add_argument("--sentences_per_document", type=int, default=8)
    parser.add_argument("--set", action="append", default=[], help="override for every run, repeatable")
    parser.add_argument("--tagger_set", action="append", default=[], help="override for the taggers, repeatable")
    parser.add_argument("--pretrain_set", action="append", default=[], help="override for pretraining, repeatable")
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    if not os.path.isdir(WNUT):
        sys.exit(f"WNUT-17 not found at {WNUT}")

    from components.core import config as config_lib
    from components.core.layout import Workdir
    from pipeline import console, local_runner, status

    console.setup()
    workdir = harness.workdir(args.workdir, "wnut17-bench-")
    test = read_sentences("test")
    gold = [s.tags for s in test]
    tagger_data = [f"data.input_path={os.path.join(WNUT, FILES['train'])}",
                   f"data.eval_path={os.path.join(WNUT, FILES['dev'])}"]
    pretraining = [f"training.epochs={args.pretrain_epochs}", f"training.max_minutes={args.pretrain_minutes}",
                   "training.learning_rate=1e-3"] + args.pretrain_set
    pretrained = {}

    def run(task: str, overrides):
        """On the preset of the `task` kind, as a user starts; returns the Trainer's run among the rest."""
        config = config_lib.load(task, DEFAULTS + overrides + args.set)
        start = time.perf_counter()
        report, paths = local_runner.run(config, workdir)
        print("\n".join(report.lines()), flush=True)
        trainer = next(c for c in report.components if c.component_id == "Trainer")
        return report, paths, config, trainer, time.perf_counter() - start

    def pretrain():
        corpus = write_corpus(os.path.join(Workdir(workdir).data_dir, "corpus"), args.wnut_copies,
                              args.sentences_per_document)
        report, _, _, trainer, wall = run("masked_lm", PRETRAINING + [f"data.input_path={corpus}"] + pretraining)
        pretrained.update(trainer=trainer, wall=wall,
                          perplexity=status.metric(report.evaluation_uri, "perplexity"),
                          accuracy=status.metric(report.evaluation_uri, "token_accuracy"))

    def tagger(start: str, head: str, seed: int):
        """(N, 3) per-test-sentence entity counts, Trainer seconds."""
        if start == "pretrained" and not pretrained:
            pretrain()
        base = (["base_model.source=pipeline", "base_model.pipeline_name=wnut17-mlm"] if start == "pretrained"
                else [])
        name = f"wnut17-{start}-{head}"
        report, paths, config, trainer, _ = run("token_classification", TAGGER + tagger_data + [
            f"pipeline_name={name}", f"model.head={head}", f"model.bio_constraints={head == 'crf'}",
            f"training.seed={seed}"] + base + args.tagger_set)
        model_dir = os.path.join(paths.serving_root, config.serving.model_name, report.pushed_version)
        counts = sentence_counts(gold, predict_tags(model_dir, test))
        f1 = entity_f1(counts[None])[0]
        print(f"WNUT-17 test entity F1 {f1:.4f}: {start}, {head} head, seed {seed} (Trainer {trainer.seconds:.0f} s)",
              flush=True)
        return counts, trainer.seconds

    seeds = [int(s) for s in args.seeds.split(",")]
    results = {(start, head): [] for start in args.starts for head in args.heads}
    for seed in seeds:
        for start, head in results:
            results[(start, head)].append(tagger(start, head, seed))

    config = config_lib.load("token_classification", DEFAULTS + TAGGER + args.set + args.tagger_set)
    print(f"\nWNUT-17, preset {config.model.preset} {config.model.shape()}, {config.training.epochs} epochs max "
          f"(the best dev entity F1 kept), batch {config.training.batch_size}, seq {config.tokenizer.max_seq_length}, "
          f"vocab {config.tokenizer.vocab_size}, cased, word shapes {'on' if config.model.word_shapes else 'off'}, "
          f"dropout {config.model.dropout}; "
          f"test: {len(test)} sentences, {sum(len(s.tags) for s in test)} words")
    if pretrained:
        trained = ("cached: trained by an earlier run in this workdir" if pretrained["trainer"].state == "CACHED"
                   else f"{pretrained['trainer'].seconds:.0f} s Trainer")
        print(f"pretraining: {trained}, {pretrained['wall']:.0f} s pipeline "
              f"({' '.join(pretraining)}; WNUT-17 train words {args.wnut_copies} times + Jane Austen); eval split "
              f"perplexity {pretrained['perplexity']:.1f}, masked-token accuracy {pretrained['accuracy']:.4f}")
    print(f"{'start':<11} {'head':<8} " + " ".join(f"{'seed ' + str(s):>8}" for s in seeds)
          + f" {'mean':>7} {'sd':>6} {'Trainer s':>9}")
    for (start, head), runs in results.items():
        f1s = [entity_f1(counts[None])[0] for counts, _ in runs]
        print(f"{start:<11} {head:<8} " + " ".join(f"{f:8.4f}" for f in f1s)
              + f" {np.mean(f1s):7.4f} {np.std(f1s):6.4f} {np.mean([s for _, s in runs]):9.0f}")

    def compare(a, b):
        if a in results and b in results:
            ours, theirs = (np.sum([counts for counts, _ in results[arm]], axis=0) for arm in (a, b))
            low, high, share = paired_bootstrap(ours, theirs, entity_f1)
            wins = sum(entity_f1(x[None])[0] > entity_f1(y[None])[0]
                       for (x, _), (y, _) in zip(results[a], results[b]))
            print(f"{' '.join(a)} vs {' '.join(b)}: F1 of the seeds' summed counts {entity_f1(ours[None])[0]:.4f} vs "
                  f"{entity_f1(theirs[None])[0]:.4f}, ahead in {wins} of {len(seeds)} seeds; paired bootstrap over "
                  f"the test sentences: difference 95% interval [{low:+.4f}, {high:+.4f}], not ahead in {share:.1%} "
                  f"of {DRAWS:,} resamples")

    for start in args.starts:
        compare((start, "crf"), (start, "softmax"))
    for head in args.heads:
        compare(("pretrained", head), ("scratch", head))
    print(f"workdir {workdir}")


if __name__ == "__main__":
    main()
