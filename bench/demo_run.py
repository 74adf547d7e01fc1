"""The demo run as a user starts it (`python -m pipeline.cli run` in a fresh work directory), measured:
wall time, peak resident memory of the whole process tree, and each component's time from ML Metadata.

    .venv/bin/python bench/demo_run.py
"""
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    from components.core import config as config_lib
    from components.core.layout import Workdir
    from pipeline.cli import DEFAULT_PRESET
    from pipeline.run_report import latest_run

    workdir = tempfile.mkdtemp(prefix="demo-bench-")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipeline.cli", "run", f"--workdir={workdir}"], check=True)
    wall = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    config = config_lib.load(DEFAULT_PRESET)
    report = latest_run(Workdir(workdir).metadata_path, config.pipeline_name)
    print("\n".join(report.lines()))
    print(f"\ndemo run: wall {wall:.0f} s, peak RSS {peak_mib:.0f} MiB (includes the one-time demo data fetch)")


if __name__ == "__main__":
    main()
