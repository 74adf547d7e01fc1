"""Runs the shared training loop on the tiny task in a process of its own, for what cannot share the test process:
multi-worker clusters, logical CPU devices, kill -9 and resume.

    python -m tests.components.training.train_worker LOG_DIR OUT_PREFIX '{"training key": value, ...}' ['{...}' ...]
Each JSON is one run (in order, in this process); run i writes its weights and the optimizer's update count to
OUT_PREFIX-i.npz. Environment: TEST_LOGICAL_CPUS=n splits the CPU into n devices (MirroredStrategy replicas);
TEST_PAUSE_AT_STEP=n with TEST_PAUSE_FILE=path parks the first run after its n-th optimizer step: the input pipeline
creates `path` and never hands over the batch of step n + 1, so the run cannot get past step n however fast it is,
and a test kills it there. The pipeline reads ahead, so `path` can appear before step n ends: a test that needs step
n's checkpoint waits for that too.
"""
import dataclasses
import json
import logging
import os
import sys
import time

import numpy as np
import tensorflow as tf


def main(log_dir: str, out_prefix: str, *runs: str) -> None:
    cpus = int(os.environ.get("TEST_LOGICAL_CPUS", "0"))
    if cpus:  # before anything else touches the TF runtime
        device = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(device, [tf.config.LogicalDeviceConfiguration()] * cpus)
    import keras

    from components.training import loop
    from tests.components.training import tiny_task

    for i, run in enumerate(runs):
        config = tiny_task.make_config(**json.loads(run))
        loop.prepare(config)
        fit = tiny_task.make_fit(config)
        if i == 0 and os.environ.get("TEST_PAUSE_AT_STEP"):
            batches = int(os.environ["TEST_PAUSE_AT_STEP"]) * config.training.accumulation_steps
            fit = dataclasses.replace(fit, train=_pause_before(fit.train, batches, os.environ["TEST_PAUSE_FILE"]))
        model = loop.fit(config, fit, os.path.join(log_dir, str(i)))
        iterations = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
        np.savez(f"{out_prefix}-{i}.npz", iterations, *[np.asarray(w) for w in model.get_weights()])


def _pause_before(dataset: tf.data.Dataset, index: int, marker: str) -> tf.data.Dataset:
    """Hands over elements 0 .. index - 1; asked for element `index`, creates `marker` and blocks until killed (or
    until the process that started this one is gone: a test killed itself leaves no worker parked for good)."""
    parent = os.getppid()

    def gate(i):
        if int(i) == index:
            with open(marker, "w"):
                pass
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)
        return 0

    def element(i, x, y):
        passed = tf.py_function(gate, [i], tf.int32)
        with tf.control_dependencies([passed]):
            return x, tf.identity(y)

    return dataset.enumerate().map(lambda i, xy: element(i, *xy))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    main(*sys.argv[1:])
