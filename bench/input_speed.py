"""The tf.data switches of bench/trainer_speed.py: examples/s of the Trainer's input pipeline (gzipped TFRecords of
transformed examples -> parsed int32 batches) with and without parallel reads/parsing, prefetch and cache."""
import os
import tempfile
import time

import numpy as np
import tensorflow as tf

from components.core import features

VARIANTS = {  # name -> (parallel reads and map, prefetch, cache)
    "plain": (False, False, False),
    "+parallel": (True, False, False),
    "+parallel+prefetch": (True, True, False),
    "+parallel+prefetch+cache (default)": (True, True, True),
}


def write_records(directory: str, examples: int, seq: int, files: int = 4) -> list:
    rng = np.random.default_rng(0)
    paths = []
    for f in range(files):
        path = os.path.join(directory, f"part-{f}.gz")
        with tf.io.TFRecordWriter(path, options="GZIP") as writer:
            for _ in range(examples // files):
                ids = rng.integers(5, 8192, seq)
                feature = {name: tf.train.Feature(int64_list=tf.train.Int64List(value=ids)) for name in
                           features.MODEL_INPUTS}
                feature[features.LABEL_ID] = tf.train.Feature(int64_list=tf.train.Int64List(value=[1]))
                writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
        paths.append(path)
    return paths


def pipeline(files, seq: int, batch: int, parallel: bool, prefetch: bool, cache: bool) -> tf.data.Dataset:
    spec = {name: tf.io.FixedLenFeature([seq], tf.int64) for name in features.MODEL_INPUTS}
    spec[features.LABEL_ID] = tf.io.FixedLenFeature([], tf.int64)
    autotune = tf.data.AUTOTUNE if parallel else None
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP", num_parallel_reads=autotune)
    if cache:
        dataset = dataset.cache()
    dataset = dataset.repeat().batch(batch).map(
        lambda x: {k: tf.cast(v, tf.int32) for k, v in tf.io.parse_example(x, spec).items()}, autotune)
    return dataset.prefetch(tf.data.AUTOTUNE) if prefetch else dataset


def measure(seq: int = 128, batch: int = 32, examples: int = 4096, seconds: float = 3.0) -> dict:
    """examples/s per variant, after one warm-up pass (so the cache is filled where there is one)."""
    with tempfile.TemporaryDirectory() as directory:
        files = write_records(directory, examples, seq)
        rates = {}
        for name, switches in VARIANTS.items():
            iterator = iter(pipeline(files, seq, batch, *switches))
            for _ in range(examples // batch):
                next(iterator)
            start, count = time.perf_counter(), 0
            while time.perf_counter() - start < seconds:
                next(iterator)
                count += batch
            rates[name] = count / (time.perf_counter() - start)
        return rates
