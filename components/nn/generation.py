"""Autoregressive decoding in the TF graph (one tf.while_loop, a KV cache), so a SavedModel generates by itself.

Prompts are left-aligned in a (B, T) buffer. Decoding starts at the shortest prompt; at each position a row keeps
its own prompt token while it has one, then takes a chosen token until it has its `max_new_tokens`, then [PAD].
The cache is filled once for the whole buffer; each step rewrites the cache at its position, and attention never
looks past it, so stale entries beyond a row's prompt are never read.
"""
import keras_hub
import tensorflow as tf

from components.core import features
from components.nn import sampling

PAD_ID = features.SPECIAL_TOKENS.index(features.PAD)
# Never generated: padding, and markers the causal LM never learned to predict.
BANNED_IDS = [features.SPECIAL_TOKENS.index(t) for t in (features.PAD, features.CLS, features.MASK)]


def generate(lm: keras_hub.models.GPT2CausalLM, prompts: tf.RaggedTensor, max_new_tokens: tf.Tensor,
             temperature: tf.Tensor, top_k: tf.Tensor, top_p: tf.Tensor, seeds: tf.Tensor,
             context: int) -> tf.Tensor:
    """prompts int32 (B, (P)), each at least one token; per-row settings (B,) -> int32 (B, N) new tokens.

    N = the largest max_new_tokens; a row's tokens past its own max_new_tokens are [PAD]. Every row gets at most
    context - 1 new tokens, and keeps the last prompt tokens that fit in the context beside them.
    """
    new = tf.clip_by_value(max_new_tokens, 0, context - 1)  # (B,)
    prompts = _tails(prompts, context - new)
    prompt_length = tf.cast(prompts.row_lengths(), tf.int32)  # (B,)
    end = prompt_length + new  # (B,)
    length = tf.reduce_max(end)
    tokens = prompts.to_tensor(PAD_ID, shape=tf.stack([tf.size(end), length]))  # (B, T)
    _, cache = lm._build_cache(tokens)  # prefill (keras-hub's own helper; its cache layout is internal)
    banned = tf.scatter_nd([[i] for i in BANNED_IDS], [-float("inf")] * len(BANNED_IDS),
                           [lm.backbone.vocabulary_size])  # (V,)
    batch = tf.range(tf.shape(tokens)[0])

    def step(position, tokens, cache):
        logits, _, cache = lm.call_with_cache(tokens[:, position - 1:position], cache, position - 1)
        logits = tf.cast(logits[:, 0, :], tf.float32) + banned  # (B, V)
        chosen = sampling.next_tokens(logits, temperature, top_k, top_p, seeds, position)  # (B,)
        column = tf.where(position < prompt_length, tokens[:, position], tf.where(position < end, chosen, PAD_ID))
        indices = tf.stack([batch, tf.fill(tf.shape(batch), position)], axis=1)  # (B, 2)
        return position + 1, tf.tensor_scatter_nd_update(tokens, indices, column), cache

    _, tokens, _ = tf.while_loop(lambda position, *_: position < length, step,
                                 (tf.reduce_min(prompt_length), tokens, cache))
    offsets = tf.range(tf.reduce_max(new))[None, :]  # (1, N)
    positions = tf.minimum(prompt_length[:, None] + offsets, length - 1)  # (B, N)
    return tf.where(offsets < new[:, None], tf.gather(tokens, positions, batch_dims=1), PAD_ID)


def _tails(rows: tf.RaggedTensor, keep: tf.Tensor) -> tf.RaggedTensor:
    """The last `keep` (B,) values of each row (B, (P))."""
    limits = rows.row_limits()
    starts = tf.maximum(rows.row_starts(), limits - tf.cast(keep, limits.dtype))
    ranges = tf.ragged.range(starts, limits)
    return ranges.with_flat_values(tf.gather(rows.flat_values, ranges.flat_values))
