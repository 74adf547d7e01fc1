"""Raw feature columns as Transform receives them, reshaped into what task code expects."""
import tensorflow as tf
import tensorflow_transform as tft


def strings(column):
    """[B] strings from a dense [B] / [B, 1] or a sparse [B, 1] column (CSV schemas give either); ints as text."""
    if column.dtype != tf.string:
        as_text = tf.strings.as_string
        column = column.with_values(as_text(column.values)) if isinstance(column, tf.SparseTensor) else as_text(column)
    if isinstance(column, tf.SparseTensor):
        column = tft.sparse_tensor_to_dense_with_shape(column, [None, 1], default_value="")
    return tf.reshape(column, [-1])


def string_lists(column) -> tf.RaggedTensor:
    """[B, (n)] strings from a variable-length column: sparse (VarLenFeature), ragged, or dense [B, n]."""
    if isinstance(column, tf.SparseTensor):
        return tf.RaggedTensor.from_sparse(column)
    if isinstance(column, tf.RaggedTensor):
        return column
    return tf.RaggedTensor.from_tensor(column)
