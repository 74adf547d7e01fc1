"""Distribution strategy and numeric precision, chosen by config.

`training.batch_size` is the global batch: Keras splits each batch across `num_replicas_in_sync` replicas, and under
multi-worker each worker reads every batch and keeps its replicas' part (auto-shard policy DATA).
"""
import json
import os

import keras
import tensorflow as tf

from components.core.config import TrainingConfig
from components.core.errors import UserError
from components.training import model_parallel


def build_strategy(training: TrainingConfig) -> tf.distribute.Strategy:
    """Must run before any other TF op of the process: multi-worker and TPU strategies configure the runtime."""
    model_parallel.check_backend(training)
    if training.strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    if training.strategy == "multi_worker":
        return _multi_worker()
    if training.strategy == "tpu":
        return _tpu(training.tpu)
    return tf.distribute.get_strategy()  # the default: one device


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes checkpoints, logs and the export; other workers write to scratch space."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    resolver = strategy.cluster_resolver
    if resolver.task_type == "chief" or resolver.task_type is None:
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def shard_by_data(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Shards by element, not by file: Transform often writes fewer files than there are workers."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def check_batch(batch_size: int, strategy: tf.distribute.Strategy) -> None:
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise UserError(f"training.batch_size {batch_size} does not split evenly over {replicas} replicas",
                        hint=f"use a multiple of {replicas}: the batch size is global, each replica gets 1/{replicas}")


def set_precision(training: TrainingConfig) -> None:
    """Sets the global policy; heads keep logits and losses in float32 themselves."""
    keras.mixed_precision.set_global_policy(training.mixed_precision)


def _multi_worker() -> tf.distribute.Strategy:
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    if not config.get("cluster") or not config.get("task"):
        raise UserError("training.strategy=multi_worker reads the cluster and this worker's task from TF_CONFIG, "
                        "which is not set",
                        hint='set TF_CONFIG on every worker, e.g. {"cluster": {"worker": ["host1:port", '
                             '"host2:port"]}, "task": {"type": "worker", "index": 0}}, '
                             'or use training.strategy=mirrored on one machine')
    return tf.distribute.MultiWorkerMirroredStrategy()


def _tpu(tpu: str) -> tf.distribute.Strategy:
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or None)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as e:
        raise UserError(f"training.strategy=tpu found no TPU for training.tpu={tpu!r}: {e}",
                        hint='on a TPU VM use training.tpu=local; elsewhere the TPU name or grpc:// address') from None
    return tf.distribute.TPUStrategy(resolver)
