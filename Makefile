# The commands README names. Each one sets up the environment first (a no-op once .venv matches the lock).
PY := .venv/bin/python

.PHONY: setup browser demo test test-fast bench-sst2 bench-ner bench-causal-lm bench-mlm bench-translation bench-demo bench-data bench-speed lock

setup:
	@bash scripts/setup.sh

browser:  ## headless chromium for the report test (installed with apt-get when root; a no-op once there)
	@bash scripts/install_chromium.sh

demo: setup  ## fetch the demo data, run the pipeline, serve the pushed model on 127.0.0.1:8501
	$(PY) -m pipeline.cli demo

test: setup browser  ## the whole suite, end-to-end runs included (what CI runs)
	$(PY) -m pytest -q

test-fast: setup  ## unit tests only
	$(PY) -m pytest -q -m "not e2e"

bench-sst2: setup  ## SST-2 test accuracy of the from-scratch small preset beside the classic n-gram baselines (needs ../shared/data)
	$(PY) bench/sst2_classic_baseline.py
	$(PY) bench/sst2_classifier.py

bench-ner: setup  ## WNUT-17 test entity F1: softmax vs CRF, scratch vs own MLM, 3 seeds, bootstraps (~2 h on 2 cores)
	$(PY) bench/wnut17_ner.py

bench-causal-lm: setup  ## tiny-shakespeare eval perplexity after a 20-minute training budget, and samples
	$(PY) bench/shakespeare_causal_lm.py

bench-mlm: setup  ## SST-2 test accuracy fine-tuned from our own masked-LM pretraining vs from scratch (~1 hour)
	$(PY) bench/mlm_pretrain_sst2.py

bench-translation: setup  ## en->de and en->zh software messages: BLEU/chrF of greedy and beam 4 vs copying, speed (~2 h: 45 training minutes per pair)
	$(PY) bench/software_messages_translation.py

bench-data: setup  ## the data half (ExampleGen to Transform) at 10k, 100k and 1M rows, per component (~25 min)
	$(PY) bench/data_scale.py

bench-demo: setup  ## wall time, peak memory and per-component time of the demo run
	$(PY) bench/demo_run.py

# The speed peer (HF transformers + PyTorch) lives in its own Python 3.11 venv, never in the project's .venv.
PEER_PYTHON ?= /usr/bin/python3
PEER_VENV := .bench-venv

$(PEER_VENV)/.ready:  # stamped only after the install, so a failed one is retried
	$(PEER_PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/pip install -q torch==2.13.0 transformers tokenizers
	touch $@

bench-speed: setup $(PEER_VENV)/.ready  ## trainer tokens/s and MFU per preset and switch, side by side with HF
	$(PY) bench/trainer_speed.py

lock:  ## re-freeze requirements.lock from the current .venv (after changing pins in pyproject.toml)
	$(PY) -m pip freeze --exclude-editable > requirements.lock
