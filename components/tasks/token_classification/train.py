"""Trains the token classifier (softmax or CRF head) on Transform's output: the task logic behind run_fn.

Labels are Transform's tag_ids: a tag on the first piece of each word, IGNORE_TAG elsewhere; with
training.label_all_pieces the later pieces learn the continuation of their word's tag too. Entity F1 over the
labelled positions is logged each epoch (word-level, as seqeval scores it, unless label_all_pieces).
"""
from typing import Optional, Sequence

import tensorflow_transform as tft

from components.core import features
from components.core.config import Config
from components.nn import presets, warm_start
from components.nn.metrics.entities import EntityScore
from components.tasks.token_classification.evaluation import HEADLINE
from components.tasks.token_classification.model import TokenClassifier, build_token_classifier, input_names
from components.text.tokenization import word_alignment
from components.text.tokenization.tokenizer import read_vocabulary
from components.training import dataset, loop


def train(config: Config, tft_output: tft.TFTransformOutput, train_files: Sequence[str], eval_files: Sequence[str],
          log_dir: str, base_model_dir: Optional[str] = None) -> TokenClassifier:
    """`base_model_dir`: the base model TFX resolved, if any (presets.resolve); without one and without
    base_model.preset the tagger trains from scratch."""
    base_preset = presets.resolve(config.base_model, base_model_dir)
    loop.prepare(config)
    batch, seed, model = config.training.batch_size, config.training.seed, config.model
    tag_names = [t.decode("utf-8") for t in tft_output.vocabulary_by_name(features.TAG_VOCAB)]
    vocabulary = read_vocabulary(tft_output.vocabulary_file_by_name(features.WORDPIECE_VOCAB))
    labels = _labels(tag_names, config.training.label_all_pieces)
    inputs = input_names(model.word_shapes)
    start = f"fine-tuned from {base_preset}" if base_preset else f"{model.preset}, from scratch"

    def build_model():
        backbone = warm_start.backbone(config, vocabulary, base_preset)
        return build_token_classifier(backbone, len(tag_names), model.dropout, head=model.head, tag_names=tag_names,
                                      bio_constraints=model.bio_constraints, word_shapes=model.word_shapes)

    def compile_kwargs():  # the head brings its own loss
        return dict(metrics=[EntityScore(tag_names, "f1")])

    return loop.fit(config, loop.Fit(
        build_model=build_model,
        compile_kwargs=compile_kwargs,
        train=dataset.make_dataset(train_files, tft_output, batch, training=True, seed=seed, labels=labels,
                                   trim=config.training.accumulation_steps == 1,  # k stacked batches share a shape
                                   inputs=inputs),
        evaluation=dataset.make_dataset(eval_files, tft_output, batch, training=False, labels=labels, inputs=inputs),
        train_examples=dataset.count_examples(train_files),
        headline=HEADLINE,
        description=f"a token classifier ({start}, {model.head} head{', word shapes' if model.word_shapes else ''}): "
                    f"{len(tag_names)} tags, vocab {len(vocabulary)}",
    ), log_dir)


def _labels(tag_names: Sequence[str], all_pieces: bool):
    if not all_pieces:
        return lambda parsed: parsed[features.TAG_IDS]
    continuation = word_alignment.continuation_tags(tag_names)
    return lambda parsed: word_alignment.label_all_pieces(
        parsed[features.TAG_IDS], parsed[features.TAG_MASK], parsed[features.PADDING_MASK], continuation)
