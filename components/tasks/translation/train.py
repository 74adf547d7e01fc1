"""Trains the translation model on Transform's pairs: the task logic behind the Trainer's run_fn.

The loss is the mean target-piece cross-entropy, label-smoothed by training.label_smoothing; token accuracy and
perplexity on the eval split are logged each epoch, and the epoch best at token accuracy is kept (decoding the eval
split for BLEU each epoch would cost more than the epoch; the Evaluator gates on BLEU).
"""
from typing import Optional, Sequence

import keras
import tensorflow_transform as tft

from components.core import features
from components.core.config import Config
from components.core.log import progress as log
from components.nn import presets, warm_start
from components.nn.backbone import build_backbone
from components.nn.losses import SmoothedCrossEntropy
from components.nn.metrics.perplexity import Perplexity
from components.tasks.translation import data
from components.tasks.translation.evaluation import HEADLINE
from components.tasks.translation.model import Translator, build_translator
from components.text.tokenization.tokenizer import read_vocabulary
from components.training import loop
from components.training.dataset import count_examples


def vocabularies(tft_output: tft.TFTransformOutput):
    """(source vocabulary, target vocabulary): one list twice when both sides share it."""
    source = read_vocabulary(tft_output.vocabulary_file_by_name(features.WORDPIECE_VOCAB))
    target = tft_output.vocabulary_file_by_name(features.TARGET_VOCAB)  # None: one shared vocabulary
    return source, read_vocabulary(target) if target else source


def train(config: Config, tft_output: tft.TFTransformOutput, train_files: Sequence[str], eval_files: Sequence[str],
          log_dir: str, base_model_dir: Optional[str] = None) -> Translator:
    """`base_model_dir`: a pretrained masked LM TFX resolved, if any (presets.resolve); its encoder starts the
    translation model's encoder. The decoder always starts from scratch."""
    base_preset = presets.resolve(config.base_model, base_model_dir)
    loop.prepare(config)
    source_vocabulary, target_vocabulary = vocabularies(tft_output)
    _report_truncation(train_files, eval_files, config)
    batch, seed, model = config.training.batch_size, config.training.seed, config.model
    target_length = config.tokenizer.target_length

    def compile_kwargs():
        return dict(loss=SmoothedCrossEntropy(config.training.label_smoothing),
                    weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name=HEADLINE.keras_name),
                                      Perplexity()])

    shared = "one shared vocabulary" if source_vocabulary is target_vocabulary else "one vocabulary per side"
    start = f"encoder from {base_preset}" if base_preset else f"{model.preset}, from scratch"
    return loop.fit(config, loop.Fit(
        build_model=lambda: build_model(config, source_vocabulary, target_vocabulary, base_preset),
        compile_kwargs=compile_kwargs,
        train=data.make_dataset(train_files, tft_output, batch, training=True, seed=seed,
                                trim=config.training.accumulation_steps == 1),  # k stacked batches share a shape
        evaluation=data.make_dataset(eval_files, tft_output, batch, training=False),
        train_examples=count_examples(train_files),
        headline=HEADLINE,
        description=(f"a translation model ({start}): source vocab {len(source_vocabulary)}, target vocab "
                     f"{len(target_vocabulary)} ({shared}), {config.tokenizer.max_seq_length} source and "
                     f"{target_length} target positions"),
    ), log_dir)


def build_model(config: Config, source_vocabulary: Sequence[str], target_vocabulary: Sequence[str],
                base_preset: Optional[str]) -> Translator:
    """From scratch in config.model's shape; with a base preset its encoder (checked against the source vocabulary,
    behind a gradient gate with training.freeze_backbone_steps) and a decoder of the encoder's shape. Build it inside
    the strategy's scope."""
    model, tokenizer = config.model, config.tokenizer
    if base_preset:
        encoder = warm_start.warm_started_backbone(base_preset, source_vocabulary, tokenizer.max_seq_length,
                                                   model.dropout)
        shape = dict(num_layers=encoder.num_layers, hidden_dim=encoder.hidden_dim, num_heads=encoder.num_heads,
                     intermediate_dim=encoder.intermediate_dim)
        if config.training.freeze_backbone_steps:
            encoder = warm_start.frozen_at_first(encoder, config.training.freeze_backbone_steps)
    else:
        encoder = build_backbone(model, len(source_vocabulary), tokenizer.max_seq_length)
        shape = model.shape()
    return build_translator(encoder, len(target_vocabulary), tokenizer.target_length, shape["num_layers"],
                            shape["hidden_dim"], shape["num_heads"], shape["intermediate_dim"], model.dropout,
                            model.shared_embeddings)


def _report_truncation(train_files: Sequence[str], eval_files: Sequence[str], config: Config) -> None:
    for split, files in (("train", train_files), ("eval", eval_files)):
        cut, total = data.count_truncated(files)
        if cut:
            log.warning("%s split: %d of %d pairs (%.1f%%) were cut to fit: a source over %d pieces with [CLS] and "
                        "[SEP], or a target over %d pieces with its end marker (tokenizer.max_seq_length, "
                        "tokenizer.max_target_length)", split, cut, total, 100.0 * cut / max(total, 1),
                        config.tokenizer.max_seq_length, config.tokenizer.target_length)
        else:
            log.info("%s split: no pair of %d was cut to fit", split, total)
