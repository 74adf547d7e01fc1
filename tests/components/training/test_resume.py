"""Resumable runs: kill -9 mid-run, run again, and the run finishes with exactly the planned number of updates."""
import json
import re
import signal
import subprocess
import time

import keras
import numpy as np

from components.training import loop
from components.training.checkpoints import Checkpoints
from tests.components.training import helpers

PLANNED = {"epochs": 6, "batch_size": 8, "checkpoint_every_steps": 5, "early_stopping_patience": 0}  # 6 x 8 steps


def test_fit_plan_finishes_an_interrupted_epoch_first():
    assert loop.fit_plan(0, 8, 3) == [(0, 3, 8)]
    assert loop.fit_plan(13, 8, 3) == [(1, 2, 3), (2, 3, 8)]
    assert loop.fit_plan(16, 8, 3) == [(2, 3, 8)]
    assert loop.fit_plan(21, 8, 3) == [(2, 3, 3)]
    assert loop.fit_plan(24, 8, 3) == []


def test_killed_run_resumes_from_its_last_checkpoint(tmp_path):
    command = helpers.worker_command(tmp_path / "logs", tmp_path / "out", json.dumps(PLANNED))
    victim = subprocess.Popen(command, cwd=helpers.ROOT, env=helpers.worker_env(TEST_STEP_SLEEP="0.05"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    index = tmp_path / "logs" / "0" / "checkpoints" / "latest" / "checkpoint"
    try:
        deadline = time.time() + 180
        while not (index.exists() and "ckpt-10" in index.read_text()) and victim.poll() is None:
            assert time.time() < deadline, "no checkpoint at step 10 in time"
            time.sleep(0.2)
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    assert victim.returncode == -signal.SIGKILL, "the run ended before it could be killed mid-way"

    log = helpers.run_worker(tmp_path / "logs", tmp_path / "out", json.dumps(PLANNED))
    resumed_at = int(re.search(r"resuming from the checkpoint at step (\d+) of 48", log).group(1))
    assert 10 <= resumed_at < 48
    steps, weights = helpers.load(tmp_path / "out-0.npz")
    assert steps == 48  # optimizer updates over both processes: the plan, not the plan + the replayed part
    assert all(np.isfinite(w).all() for w in weights)
    assert not (tmp_path / "logs" / "0" / "checkpoints").exists()  # a finished run leaves nothing to resume


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
