"""A tiny deterministic classification task for the training-loop tests: fixed data, no dropout, no shuffle."""
import keras
import numpy as np
import tensorflow as tf

from components.core import features
from components.core.config import Config, from_dict
from components.nn.backbone import build_backbone
from components.tasks.classification.model import build_classifier
from components.training import loop

VOCAB, LENGTH = 50, 8


def make_config(model: dict = None, **training) -> Config:
    """`model`: model keys over the tiny shape's (e.g. {"dropout": 0.1}); the rest are training keys."""
    return from_dict({
        "model": {"preset": "tiny", "num_layers": 1, "hidden_dim": 16, "num_heads": 2, "intermediate_dim": 32,
                  "dropout": 0.0, **(model or {})},
        "tokenizer": {"max_seq_length": LENGTH},
        "training": {"batch_size": 8, "epochs": 2, "learning_rate": 1e-2, "seed": 7, **training},
    })


def arrays(count: int, seed: int):
    """Token ids with the label hidden in the first token's parity, so the loss can go down."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, VOCAB, (count, LENGTH)).astype("int32")
    inputs = {features.TOKEN_IDS: ids, features.PADDING_MASK: np.ones_like(ids),
              features.SEGMENT_IDS: np.zeros_like(ids)}
    return inputs, (ids[:, 0] % 2).astype("int32")


def make_fit(config: Config, train_examples: int = 64, eval_examples: int = 16) -> loop.Fit:
    batch = config.training.batch_size

    def build_model():
        backbone = build_backbone(config.model, VOCAB, LENGTH)
        return build_classifier(backbone, 2, config.model.dropout, config.model.pooling)

    def compile_kwargs():
        return dict(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])

    return loop.Fit(
        build_model=build_model,
        compile_kwargs=compile_kwargs,
        train=tf.data.Dataset.from_tensor_slices(arrays(train_examples, 0)).repeat().batch(batch),
        evaluation=tf.data.Dataset.from_tensor_slices(arrays(eval_examples, 1)).batch(batch),
        train_examples=train_examples,
        description="a tiny test classifier",
    )
