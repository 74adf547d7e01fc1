"""Trains the sequence classifier on Transform's output: the task logic behind the Trainer's run_fn."""
import math
from typing import Sequence

import keras
import tensorflow as tf
import tensorflow_transform as tft

from components import features
from components.modeling.backbone import build_backbone
from components.modeling.classifier import build_classifier
from components.training import dataset
from components.training.optimizer import build_optimizer
from components.training.progress import ProgressLogger, log
from components.training.strategy import build_strategy, set_precision
from pipeline.config import Config


def train_classifier(config: Config, tft_output: tft.TFTransformOutput, train_files: Sequence[str],
                     eval_files: Sequence[str], log_dir: str) -> keras.Model:
    """Fits with early stopping on the eval split and returns the model with the best eval loss's weights."""
    training = config.training
    keras.utils.set_random_seed(training.seed)
    set_precision(training)
    strategy = build_strategy(training)
    num_classes = tft_output.vocabulary_size_by_name(features.LABEL_VOCAB)
    vocab_size = tft_output.vocabulary_size_by_name(features.WORDPIECE_VOCAB)
    steps_per_epoch = math.ceil(dataset.count_examples(train_files) / training.batch_size)
    log.info("training a %s classifier: %d classes, vocab %d, %d replica(s), global batch %d, %d steps/epoch",
                 config.model.preset, num_classes, vocab_size, strategy.num_replicas_in_sync, training.batch_size,
                 steps_per_epoch)

    with strategy.scope():
        backbone = build_backbone(config.model, vocab_size, config.tokenizer.max_seq_length)
        model = build_classifier(backbone, num_classes, config.model.dropout, config.model.pooling)
        model.compile(
            optimizer=build_optimizer(training, steps_per_epoch * training.epochs),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            jit_compile=training.jit_compile,
        )
    train = dataset.make_dataset(train_files, tft_output, training.batch_size, training=True, seed=training.seed)
    evaluation = dataset.make_dataset(eval_files, tft_output, training.batch_size, training=False)
    model.fit(
        train, validation_data=evaluation, epochs=training.epochs, steps_per_epoch=steps_per_epoch, verbose=0,
        callbacks=[
            ProgressLogger(steps_per_epoch, training.epochs, training.batch_size),
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True),
            keras.callbacks.TensorBoard(log_dir=log_dir, update_freq="epoch"),
        ],
    )
    return model
