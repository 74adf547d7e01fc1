"""keras.ops.scan over several sequences whose length is only known at run time.

Keras 3.3's TensorFlow scan checks the scanned length of every input against the first one's static length; when
that is unknown (batches cut to their longest row: components/training/dataset.py) it calls a method on None and
fails. Scanning over the positions instead, one tensor of known rank, and reading each input at the position, is the
same loop on every backend.
"""
from keras import ops


def scan(f, init, xs: tuple):
    """keras.ops.scan(f, init, xs) for a tuple `xs` of tensors sharing their leading (scanned) axis."""
    positions = ops.arange(ops.shape(xs[0])[0])
    return ops.scan(lambda carry, i: f(carry, tuple(ops.take(x, i, axis=0) for x in xs)), init, positions)
