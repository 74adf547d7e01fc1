"""Strategy selection by config and its clear errors where this machine cannot run the strategy."""
import json
from types import SimpleNamespace

import pytest
import tensorflow as tf

from components.core.config import TrainingConfig
from components.core.errors import UserError
from components.training import strategy


def test_none_is_the_default_one_device_strategy():
    assert strategy.build_strategy(TrainingConfig()).num_replicas_in_sync == 1


def test_multi_worker_without_tf_config_says_what_to_set(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(UserError, match="TF_CONFIG"):
        strategy.build_strategy(TrainingConfig(strategy="multi_worker"))


def test_tpu_without_a_tpu_is_a_clear_error():
    with pytest.raises(UserError, match="found no TPU"):
        strategy.build_strategy(TrainingConfig(strategy="tpu", tpu="local"))


def test_model_parallel_on_tensorflow_is_refused():
    with pytest.raises(UserError, match="JAX backend"):
        strategy.build_strategy(TrainingConfig(model_parallel="1x2"))


@pytest.mark.parametrize("cluster, task_type, task_id, chief", [
    ({"worker": ["a", "b"]}, "worker", 0, True),
    ({"worker": ["a", "b"]}, "worker", 1, False),
    ({"chief": ["c"], "worker": ["a"]}, "worker", 0, False),
    ({"chief": ["c"], "worker": ["a"]}, "chief", 0, True),
])
def test_chief_is_the_chief_task_or_else_worker_0(monkeypatch, cluster, task_type, task_id, chief):
    resolver = SimpleNamespace(task_type=task_type, task_id=task_id,
                               cluster_spec=lambda: tf.train.ClusterSpec(cluster))
    fake = SimpleNamespace(cluster_resolver=resolver)
    monkeypatch.setattr(strategy.tf.distribute, "MultiWorkerMirroredStrategy", SimpleNamespace)
    assert strategy.is_chief(fake) is chief
    assert strategy.is_chief(tf.distribute.get_strategy())


def test_global_batch_must_split_evenly_over_replicas():
    strategy.check_batch(8, SimpleNamespace(num_replicas_in_sync=4))
    with pytest.raises(UserError, match="multiple of 4"):
        strategy.check_batch(6, SimpleNamespace(num_replicas_in_sync=4))


def test_datasets_shard_by_element_for_tfrecord_inputs():
    dataset = strategy.shard_by_data(tf.data.Dataset.range(4))
    assert dataset.options().experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.DATA


def test_tf_config_example_in_the_hint_is_valid_json(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(UserError) as error:
        strategy.build_strategy(TrainingConfig(strategy="multi_worker"))
    example = error.value.hint.split("e.g. ")[1].split(", or use")[0]
    assert json.loads(example)["task"]["index"] == 0
