"""Running a model over many rows a few at a time inside a serving graph: one request can expand into many model
rows (a long document into many segments), and the logits of all of them at once may not fit in memory."""
from typing import Callable, Dict, Sequence

import tensorflow as tf


def map_in_chunks(fn: Callable[[Dict[str, tf.Tensor]], Dict[str, tf.Tensor]], rows: Dict[str, tf.Tensor],
                  chunk: int, outputs: Sequence[str]) -> Dict[str, tf.Tensor]:
    """fn on `chunk` rows at a time: rows {name: (N, ...)} -> fn's {output: (N,)} float32 results, in row order.

    The last chunk is padded with zero rows, whose results are dropped."""
    count = tf.shape(next(iter(rows.values())))[0]
    chunks = (count + chunk - 1) // chunk
    chunked = {name: tf.reshape(tf.pad(value, [[0, chunks * chunk - count]] + [[0, 0]] * (value.shape.rank - 1)),
                                tf.concat([[chunks, chunk], tf.shape(value)[1:]], 0))
               for name, value in rows.items()}  # (C, chunk, ...) each
    results = tf.map_fn(fn, chunked, fn_output_signature={name: tf.float32 for name in outputs})  # (C, chunk) each
    return {name: tf.reshape(value, [-1])[:count] for name, value in results.items()}
