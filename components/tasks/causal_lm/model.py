"""The causal LM: a keras-hub GPT-2 decoder whose output layer is its token embedding, transposed (tied weights)."""
import keras
import keras_hub

from components.core.config import ModelConfig


def new_backbone(model: ModelConfig, vocabulary_size: int, context: int) -> keras_hub.models.GPT2Backbone:
    """A GPT-2 decoder of config.model's shape, from scratch, with `context` positions."""
    return keras_hub.models.GPT2Backbone(
        vocabulary_size=vocabulary_size, max_sequence_length=context, dropout=model.dropout, **model.shape())


def build_causal_lm(backbone: keras_hub.models.GPT2Backbone) -> keras_hub.models.GPT2CausalLM:
    """Takes `token_ids`, `padding_mask` (B, T <= context) and returns next-token logits (B, T, V).

    GPT2CausalLM without a preprocessor: tokenization stays in the Transform graph. Its `call_with_cache` is the
    KV-cached step that generation runs. The backbone is all its weights (the output layer is the tied embedding),
    so the backbone's preset carries the whole model.
    """
    return keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)


def loss() -> keras.losses.Loss:
    """Mean token cross-entropy over the tokens that weigh 1 (a window's padding weighs 0)."""
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight")
