"""Starting from a pretrained backbone: load it only when it reads text as Transform wrote it; when fine-tuning,
optionally hold it still while the new head finds its feet; when continuing pretraining, train it whole.

Freezing uses a gradient gate, not `trainable = False`: in Keras 3 toggling trainability mid-fit needs a recompiled
train function and an optimizer built for variables it has not seen, and the shared loop owns both. The gate
passes the backbone no gradient for the first N training steps, so Adam's moments for its weights stay zero and
their updates are zero; AdamW's decoupled weight decay still shrinks its matrices by lr x decay per step (about
1e-6 at fine-tuning rates), the one way the backbone moves while "frozen".
"""
from typing import Optional, Sequence

import keras
import keras_hub

from components.core import features
from components.core.config import Config
from components.core.errors import UserError
from components.nn import presets
from components.nn.backbone import build_backbone


def backbone(config: Config, vocabulary: Sequence[str], preset: Optional[str]) -> keras.Model:
    """A backbone of config.model's shape from scratch without a base preset; else the preset's, warm-started and,
    with training.freeze_backbone_steps, gated. Build it inside the strategy's scope."""
    if not preset:
        return build_backbone(config.model, len(vocabulary), config.tokenizer.max_seq_length)
    warm = warm_started_backbone(preset, vocabulary, config.tokenizer.max_seq_length, config.model.dropout)
    steps = config.training.freeze_backbone_steps
    return frozen_at_first(warm, steps) if steps else warm


def continued(config: Config, vocabulary: Sequence[str], preset: str, kind: str) -> keras_hub.models.Backbone:
    """Continued pretraining: the base's backbone (`kind`'s, in its own shape) with its weights, checked as
    `warm_started_backbone` checks it, never gated: the LM head reads the token embedding, so a gated backbone would
    still move."""
    if config.training.freeze_backbone_steps:
        raise UserError("training.freeze_backbone_steps holds a backbone still under a new head; continued "
                        "pretraining trains the whole language model", hint="set training.freeze_backbone_steps=0")
    return warm_started_backbone(preset, vocabulary, config.tokenizer.max_seq_length, config.model.dropout, kind)


def warm_started_backbone(preset: str, vocabulary: Sequence[str], max_seq_length: int, dropout: float,
                          kind: str = presets.MASKED_LM) -> keras_hub.models.Backbone:
    """The preset's backbone with its weights, after checking it is `kind`'s, was trained on `vocabulary` (the one
    Transform tokenized with, in order) and can take `max_seq_length` positions."""
    base_vocabulary, _ = presets.vocabulary(preset, kind)
    if list(vocabulary) != base_vocabulary:
        first = next((i for i, (a, b) in enumerate(zip(vocabulary, base_vocabulary)) if a != b),
                     min(len(vocabulary), len(base_vocabulary)))
        raise UserError(
            f"the base model {preset} was trained on another vocabulary: {len(base_vocabulary)} tokens against "
            f"Transform's {len(vocabulary)}, first difference at id {first}",
            hint="rerun so Transform tokenizes with the base model's vocabulary (base_model.source=pipeline or "
                 "preset does that); a vocabulary learned from this data never matches")
    backbone = presets.load_backbone(preset, dropout, kind)
    if backbone.max_sequence_length < max_seq_length:
        raise UserError(f"the base model {preset} has {backbone.max_sequence_length} positions, fewer than "
                        f"tokenizer.max_seq_length={max_seq_length}",
                        hint=f"set tokenizer.max_seq_length <= {backbone.max_sequence_length}")
    return backbone


def frozen_at_first(backbone: keras.Model, steps: int) -> keras.Model:
    """The backbone behind a GradientGate: the same inputs and outputs, no gradient for its first `steps` steps."""
    inputs = {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in features.MODEL_INPUTS}
    return keras.Model(inputs, GradientGate(steps, name="backbone_gate")(backbone(inputs)), name="gated_backbone")


@keras.saving.register_keras_serializable(package="components")
class GradientGate(keras.layers.Layer):
    """Identity on any structure of tensors; gradients pass only after `closed_steps` training calls."""

    def __init__(self, closed_steps: int, **kwargs):
        super().__init__(**kwargs)
        self.closed_steps = closed_steps
        self.calls = self.add_weight(shape=(), dtype="int64", initializer="zeros", trainable=False, name="calls",
                                     aggregation="only_first_replica")

    def call(self, inputs, training=None):
        if not training:
            return inputs
        self.calls.assign_add(1)
        open_ = keras.ops.cast(keras.ops.greater(self.calls, self.closed_steps), "float32")

        def gate(x):  # forward: exactly x; backward: open_ x the gradient
            held = keras.ops.stop_gradient(x)
            return held + keras.ops.cast(open_, x.dtype) * (x - held)

        return keras.tree.map_structure(gate, inputs)

    def compute_output_spec(self, inputs, training=None):
        return keras.tree.map_structure(lambda x: keras.KerasTensor(x.shape, x.dtype), inputs)

    def get_config(self):
        return {**super().get_config(), "closed_steps": self.closed_steps}
