# The commands README names. Each one sets up the environment first (a no-op once .venv matches the lock).
PY := .venv/bin/python

.PHONY: setup demo test test-fast bench-sst2 bench-demo lock

setup:
	@bash scripts/setup.sh

demo: setup  ## fetch the demo data, run the pipeline, serve the pushed model on 127.0.0.1:8501
	$(PY) -m pipeline.cli demo

test: setup  ## the whole suite, end-to-end runs included (what CI runs)
	$(PY) -m pytest -q

test-fast: setup  ## unit tests only
	$(PY) -m pytest -q -m "not e2e"

bench-sst2: setup  ## SST-2 test accuracy of the from-scratch small preset (needs ../shared/data)
	$(PY) bench/sst2_classifier.py

bench-demo: setup  ## wall time, peak memory and per-component time of the demo run
	$(PY) bench/demo_run.py

lock:  ## re-freeze requirements.lock from the current .venv (after changing pins in pyproject.toml)
	$(PY) -m pip freeze --exclude-editable > requirements.lock
