"""How the next token is chosen, per row of a batch: greedy at temperature 0, else sampled after temperature,
top-k and top-p (nucleus) filtering. Per-row settings and seeds let one server batch mix requests; a row's choice
depends only on its own logits, settings, seed and position, never on the other rows.
"""
import tensorflow as tf


def filter_logits(logits: tf.Tensor, temperature: tf.Tensor, top_k: tf.Tensor, top_p: tf.Tensor) -> tf.Tensor:
    """logits float32 (B, V); temperature, top_p float32 (B,); top_k int32 (B,), 0 for no limit.

    Returns logits / temperature with every token outside the row's k most likely, or outside the smallest set whose
    probability (among those k) reaches top_p, set to -inf. The most likely token always stays.
    """
    logits = logits / tf.maximum(temperature, 1e-6)[:, None]  # (B, V)
    ranked = tf.sort(logits, direction="DESCENDING")  # (B, V)
    rank = tf.range(tf.shape(logits)[-1])[None, :]  # (1, V)
    in_top_k = (top_k[:, None] <= 0) | (rank < top_k[:, None])  # (B, V)
    probabilities = tf.nn.softmax(tf.where(in_top_k, ranked, -float("inf")))  # (B, V), renormalized over the top k
    in_top_p = tf.math.cumsum(probabilities, axis=-1, exclusive=True) < top_p[:, None]  # (B, V)
    lowest_kept = tf.reduce_min(tf.where(in_top_k & in_top_p, ranked, float("inf")), axis=-1)  # (B,)
    return tf.where(logits >= lowest_kept[:, None], logits, -float("inf"))


def next_tokens(logits: tf.Tensor, temperature: tf.Tensor, top_k: tf.Tensor, top_p: tf.Tensor, seeds: tf.Tensor,
                position: tf.Tensor) -> tf.Tensor:
    """logits float32 (B, V), settings (B,), seeds int64 (B,), position: int scalar -> int32 (B,) token ids."""
    greedy = tf.argmax(logits, axis=-1, output_type=tf.int32)  # (B,)
    filtered = filter_logits(logits, temperature, top_k, top_p)  # (B, V)
    position = tf.cast(position, tf.int64)
    sampled = tf.map_fn(  # one stateless draw per row: seeded by (row's seed, position)
        lambda row: tf.random.stateless_categorical(row[0][None], 1, seed=tf.stack([row[1], position]),
                                                    dtype=tf.int32)[0, 0],
        (filtered, seeds), fn_output_signature=tf.int32)  # (B,)
    return tf.where(temperature > 0, sampled, greedy)
