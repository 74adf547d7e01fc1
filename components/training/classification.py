"""Trains the sequence classifier on Transform's output: the task logic behind the Trainer's run_fn."""
from typing import Sequence

import keras
import tensorflow_transform as tft

from components import features
from components.modeling.backbone import build_backbone
from components.modeling.classifier import build_classifier
from components.training import dataset, loop
from pipeline.config import Config


def train_classifier(config: Config, tft_output: tft.TFTransformOutput, train_files: Sequence[str],
                     eval_files: Sequence[str], log_dir: str) -> keras.Model:
    loop.prepare(config)
    batch, seed = config.training.batch_size, config.training.seed
    num_classes = tft_output.vocabulary_size_by_name(features.LABEL_VOCAB)
    vocab_size = tft_output.vocabulary_size_by_name(features.WORDPIECE_VOCAB)

    def build_model():
        backbone = build_backbone(config.model, vocab_size, config.tokenizer.max_seq_length)
        return build_classifier(backbone, num_classes, config.model.dropout, config.model.pooling)

    def compile_kwargs():
        return dict(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])

    return loop.fit(config, loop.Fit(
        build_model=build_model,
        compile_kwargs=compile_kwargs,
        train=dataset.make_dataset(train_files, tft_output, batch, training=True, seed=seed),
        evaluation=dataset.make_dataset(eval_files, tft_output, batch, training=False),
        train_examples=dataset.count_examples(train_files),
        description=f"a {config.model.preset} classifier: {num_classes} classes, vocab {vocab_size}",
    ), log_dir)
