"""A real two-worker MultiWorkerMirroredStrategy cluster on 127.0.0.1: both workers end with identical weights, equal
to one process training on the same global batches."""
import json
import subprocess

import portpicker

from tests.components.training import helpers

RUN = {"epochs": 1, "batch_size": 8, "early_stopping_patience": 1, "checkpoint_every_steps": 3}


def test_two_workers_train_as_one_process(tmp_path):
    cluster = {"worker": [f"127.0.0.1:{portpicker.pick_unused_port()}" for _ in range(2)]}
    workers = []
    for index in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        workers.append(subprocess.Popen(
            helpers.worker_command(tmp_path / "shared_log_dir", tmp_path / f"worker{index}",
                                   json.dumps(dict(RUN, strategy="multi_worker"))),
            cwd=helpers.ROOT, env=helpers.worker_env(TF_CONFIG=tf_config), stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / f"worker{index}.log", "w")))
    helpers.run_worker(tmp_path / "single", tmp_path / "single", json.dumps(RUN))  # meanwhile, alone
    for index, worker in enumerate(workers):
        assert worker.wait(timeout=helpers.HANG_GUARD_S) == 0, (tmp_path / f"worker{index}.log").read_text()[-5000:]

    chief_log = (tmp_path / "worker0.log").read_text()
    assert "2 replica(s), global batch 8" in chief_log
    (steps0, weights0), (steps1, weights1), (steps, single) = [
        helpers.load(tmp_path / f"{name}-0.npz") for name in ("worker0", "worker1", "single")]
    assert steps0 == steps1 == steps == 8
    assert helpers.max_difference(weights0, weights1) == 0.0
    assert helpers.max_difference(weights0, single) < 1e-5
    # The chief's checkpoints were removed after the run; the other worker wrote only to its own scratch space.
    assert not (tmp_path / "shared_log_dir" / "0" / "checkpoints").exists()
