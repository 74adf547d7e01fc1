"""Running tests.components.training.train_worker in subprocesses and reading what it wrote."""
import os
import subprocess
import sys

import numpy as np

from tests import ROOT

# Only ends a hung wait, never decides a result: on 2 cores busy 5 times over, a worker's run took 150 s (vs 20).
HANG_GUARD_S = 900


def worker_command(log_dir, out_prefix, *runs: str) -> list:
    return [sys.executable, "-m", "tests.components.training.train_worker", str(log_dir), str(out_prefix), *runs]


def worker_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2", **extra)
    return env


def run_worker(log_dir, out_prefix, *runs: str, timeout: float = HANG_GUARD_S, **env) -> str:
    """Runs to the end; returns its log, and fails the test with that log when it fails."""
    done = subprocess.run(worker_command(log_dir, out_prefix, *runs), cwd=ROOT, env=worker_env(**env),
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-5000:]
    return done.stderr


def load(path):
    """(optimizer update count, list of weight arrays) from a worker's npz."""
    saved = np.load(path)
    return int(saved["arr_0"]), [saved[f"arr_{i}"] for i in range(1, len(saved.files))]


def max_difference(a, b) -> float:
    assert len(a) == len(b)
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))
