"""Trains the sequence classifier on Transform's output: the task logic behind the Trainer's run_fn."""
from typing import Optional, Sequence

import keras
import tensorflow_transform as tft

from components.core import features
from components.core.config import Config
from components.nn import presets, warm_start
from components.tasks.classification.evaluation import HEADLINE
from components.tasks.classification.model import build_classifier
from components.text.tokenization.tokenizer import read_vocabulary
from components.training import dataset, loop


def train(config: Config, tft_output: tft.TFTransformOutput, train_files: Sequence[str], eval_files: Sequence[str],
          log_dir: str, base_model_dir: Optional[str] = None) -> keras.Model:
    """`base_model_dir`: the base model TFX resolved, if any (presets.resolve); without one and without
    base_model.preset the classifier trains from scratch."""
    base_preset = presets.resolve(config.base_model, base_model_dir)
    loop.prepare(config)
    batch, seed = config.training.batch_size, config.training.seed
    num_classes = tft_output.vocabulary_size_by_name(features.LABEL_VOCAB)
    vocabulary = read_vocabulary(tft_output.vocabulary_file_by_name(features.WORDPIECE_VOCAB))

    def build_model():
        backbone = warm_start.backbone(config, vocabulary, base_preset)
        return build_classifier(backbone, num_classes, config.model.dropout, config.model.pooling)

    def compile_kwargs():
        return dict(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])

    return loop.fit(config, loop.Fit(
        build_model=build_model,
        compile_kwargs=compile_kwargs,
        train=dataset.make_dataset(train_files, tft_output, batch, training=True, seed=seed,
                                   trim=config.training.accumulation_steps == 1),  # k stacked batches share a shape
        evaluation=dataset.make_dataset(eval_files, tft_output, batch, training=False),
        train_examples=dataset.count_examples(train_files),
        headline=HEADLINE,
        description=(f"a classifier fine-tuned from {base_preset}" if base_preset else f"a {config.model.preset} "
                     f"classifier") + f": {num_classes} classes, vocab {len(vocabulary)}",
    ), log_dir)
