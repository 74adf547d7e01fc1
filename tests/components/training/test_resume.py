"""Resumable runs: kill -9 mid-run, run again, and the run finishes with exactly the planned number of updates and
an uninterrupted run's weights."""
import json
import signal
import subprocess
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from components.training import loop
from components.training.checkpoints import Checkpoints
from tests.components.training import helpers

PLANNED = {"epochs": 6, "batch_size": 8, "checkpoint_every_steps": 5, "early_stopping_patience": 0,  # 6 x 8 steps
           "model": {"dropout": 0.1}}  # dropout: the resumed run must also draw the masks the whole run draws
KILLED_AT = 10  # a periodic checkpoint in the middle of epoch 2


def test_fit_plan_finishes_an_interrupted_epoch_first():
    assert loop.fit_plan(0, 8, 3) == [(0, 3, 8)]
    assert loop.fit_plan(13, 8, 3) == [(1, 2, 3), (2, 3, 8)]
    assert loop.fit_plan(16, 8, 3) == [(2, 3, 8)]
    assert loop.fit_plan(21, 8, 3) == [(2, 3, 3)]
    assert loop.fit_plan(24, 8, 3) == []


def test_killed_run_resumes_from_its_last_checkpoint(tmp_path, start):
    """The worker parks right after step 10 (see train_worker), so the kill lands there however fast the machine is:
    the rerun resumes from exactly that checkpoint, and ends where an uninterrupted run of the same plan ends."""
    whole = start("whole")  # meanwhile, uninterrupted
    paused, index = tmp_path / "paused", tmp_path / "logs" / "0" / "checkpoints" / "latest"
    victim = start("logs", TEST_PAUSE_AT_STEP=str(KILLED_AT), TEST_PAUSE_FILE=str(paused))
    deadline = time.monotonic() + helpers.HANG_GUARD_S
    while not (paused.exists() and _latest_checkpoint(index) == KILLED_AT):
        assert victim.poll() is None, (tmp_path / "logs.log").read_text()[-5000:]
        assert time.monotonic() < deadline, f"not parked at step {KILLED_AT} after {helpers.HANG_GUARD_S}s (a hang)"
        time.sleep(0.1)
    victim.send_signal(signal.SIGKILL)
    assert victim.wait() == -signal.SIGKILL

    log = helpers.run_worker(tmp_path / "logs", tmp_path / "logs", json.dumps(PLANNED))
    assert f"resuming from the checkpoint at step {KILLED_AT} of 48" in log
    steps, resumed = helpers.load(tmp_path / "logs-0.npz")
    assert steps == 48  # optimizer updates over both processes: the plan, not the plan + the replayed part
    assert not (tmp_path / "logs" / "0" / "checkpoints").exists()  # a finished run leaves nothing to resume

    assert whole.wait(timeout=helpers.HANG_GUARD_S) == 0, (tmp_path / "whole.log").read_text()[-5000:]
    whole_steps, expected = helpers.load(tmp_path / "whole-0.npz")
    assert whole_steps == 48
    assert len(resumed) == len(expected) and all(np.isfinite(w).all() for w in expected)
    for r, w in zip(resumed, expected):  # the same batches in the same order, the same optimizer state and seeds
        np.testing.assert_allclose(r, w, rtol=1e-6, atol=1e-7)


@pytest.fixture
def start(tmp_path):
    """start(name, **env) runs PLANNED in a worker with its log dir and outputs named `name` under tmp_path, logging
    to name.log; what is still running when the test ends is killed."""
    started = []

    def _start(name: str, **env) -> subprocess.Popen:
        with open(tmp_path / f"{name}.log", "w") as log:
            started.append(subprocess.Popen(
                helpers.worker_command(tmp_path / name, tmp_path / name, json.dumps(PLANNED)), cwd=helpers.ROOT,
                env=helpers.worker_env(**env), stdout=subprocess.DEVNULL, stderr=log))
        return started[-1]

    yield _start
    for worker in started:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def _latest_checkpoint(directory) -> int:
    """The step of the checkpoint in force under `directory` (its index names it), -1 when there is none yet."""
    path = tf.train.latest_checkpoint(str(directory))
    return int(path.rsplit("-", 1)[1]) if path else -1


def test_other_workers_write_to_scratch_and_restore_from_the_chief(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(), loss="mse")
    model.optimizer.build(model.trainable_variables)
    chief = Checkpoints(str(tmp_path / "run"), model, is_chief=True, state={})
    worker = Checkpoints(str(tmp_path / "run"), model, is_chief=False, state={})
    worker.save(3)
    assert not (tmp_path / "run").exists()
    chief.save(7)
    model.set_weights([np.zeros((2, 1)), np.zeros(1)])
    assert worker.restore() == 7  # all workers resume from what the chief wrote
    worker.remove()
    assert (tmp_path / "run").exists()
