"""Runs the shared training loop on the tiny task in a process of its own, for what cannot share the test process:
multi-worker clusters, logical CPU devices, kill -9 and resume.

    python -m tests.components.training.train_worker LOG_DIR OUT_PREFIX '{"training key": value, ...}' ['{...}' ...]
Each JSON is one run (in order, in this process); run i writes its weights and the optimizer's update count to
OUT_PREFIX-i.npz. Environment: TEST_LOGICAL_CPUS=n splits the CPU into n devices (MirroredStrategy replicas);
TEST_STEP_SLEEP=s makes every batch take s seconds longer (time to kill the run mid-way).
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
        sleep = float(os.environ.get("TEST_STEP_SLEEP", "0"))
        if sleep:
            fit = dataclasses.replace(fit, train=fit.train.map(lambda x, y: _slowly(x, y, sleep)))
        model = loop.fit(config, fit, os.path.join(log_dir, str(i)))
        iterations = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
        np.savez(f"{out_prefix}-{i}.npz", iterations, *[np.asarray(w) for w in model.get_weights()])


def _slowly(x, y, seconds):
    done = tf.py_function(lambda: time.sleep(seconds) or 0, [], tf.int32)
    with tf.control_dependencies([done]):
        return x, tf.identity(y)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    main(*sys.argv[1:])
