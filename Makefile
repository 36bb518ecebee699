# rerank-lab: every target creates the virtual environment it needs when it is missing.
#   make demo          the main job: base search, the online re-ranker and the oracle in the simulated shop
#   make test          unit tests + every notebook under nbval, reference stack (TF 2.15.1, Keras 2, tfa)
#   make test-current  the same suite on the current stack (newest TF, Keras 3), in its own venv
#   make lab           JupyterLab on notebooks/ (reference stack)
#   make notebooks     re-execute every notebook in place (fresh outputs and figures), strip volatile metadata
#   make bench         benchmarks against Vowpal Wabbit, LightGBM, Keras (quality, speed) -> BENCHMARKS.md

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
VENV_CURRENT ?= .venv-current
PIP_FLAGS ?= --disable-pip-version-check --progress-bar off --quiet
PYTEST_ARGS ?=

# TensorFlow's C++ log lines are noise in test output and notebooks.
export TF_CPP_MIN_LOG_LEVEL ?= 3
export PYTHONHASHSEED ?= 0

.PHONY: help demo bench setup setup-current test test-current unit lab notebooks freeze-reference clean

help:
	@sed -n '1,8p' Makefile | sed 's/^# \{0,1\}//'

# Writes out/demo.json and out/demo_learning_curve.png; DEMO_ARGS adds options (e.g. DEMO_ARGS="--sessions 20000").
DEMO_ARGS ?=
demo: $(VENV)/.installed
	$(VENV)/bin/python -m rerank_lib demo --json out/demo.json --plot out/demo_learning_curve.png $(DEMO_ARGS)

$(VENV)/.installed: requirements/reference.txt pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install $(PIP_FLAGS) -r requirements/reference.txt
	$(VENV)/bin/python -m pip install $(PIP_FLAGS) --no-deps -e .
	@touch $@

$(VENV_CURRENT)/.installed: requirements/current.txt pyproject.toml
	@test -x $(VENV_CURRENT)/bin/python || $(PYTHON) -m venv $(VENV_CURRENT)
	$(VENV_CURRENT)/bin/python -m pip install $(PIP_FLAGS) --upgrade -r requirements/current.txt
	$(VENV_CURRENT)/bin/python -m pip install $(PIP_FLAGS) --no-deps -e .
	@touch $@

# The bench extra (vowpalwabbit, lightgbm: pyproject.toml) on top of a stack; the tests exercise it too.
$(VENV)/.bench-installed: $(VENV)/.installed pyproject.toml
	$(VENV)/bin/python -m pip install $(PIP_FLAGS) -e '.[bench]'
	@touch $@

$(VENV_CURRENT)/.bench-installed: $(VENV_CURRENT)/.installed pyproject.toml
	$(VENV_CURRENT)/bin/python -m pip install $(PIP_FLAGS) -e '.[bench]'
	@touch $@

setup: $(VENV)/.installed $(VENV)/.bench-installed
setup-current: $(VENV_CURRENT)/.installed $(VENV_CURRENT)/.bench-installed

test: $(VENV)/.installed $(VENV)/.bench-installed
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

test-current: $(VENV_CURRENT)/.installed $(VENV_CURRENT)/.bench-installed
	$(VENV_CURRENT)/bin/python -m pytest $(PYTEST_ARGS)

# Unit tests only (fast loop while developing).
unit: $(VENV)/.installed $(VENV)/.bench-installed
	$(VENV)/bin/python -m pytest tests $(PYTEST_ARGS)

# Benchmarks (issue 5): both commands write JSON under $(BENCH_OUT), then the report regenerates
# BENCHMARKS.md and docs/benchmarks/*.png from it. BENCH_ARGS adds options (e.g. BENCH_ARGS=--quick).
BENCH_OUT ?= out/bench
BENCH_ARGS ?=
bench: $(VENV)/.bench-installed
	$(VENV)/bin/python -m rerank_lib bench quality --json $(BENCH_OUT)/quality.json $(BENCH_ARGS)
	$(VENV)/bin/python -m rerank_lib bench speed --json $(BENCH_OUT)/speed.json $(BENCH_ARGS)
	$(VENV)/bin/python -m rerank_lib bench report --quality $(BENCH_OUT)/quality.json --speed $(BENCH_OUT)/speed.json \
		--out BENCHMARKS.md --figures docs/benchmarks

lab: $(VENV)/.installed
	$(VENV)/bin/jupyter lab notebooks/

notebooks: $(VENV)/.installed
	$(VENV)/bin/python tools/execute_notebooks.py notebooks/*.ipynb

freeze-reference:
	rm -rf /tmp/rerank-freeze && $(PYTHON) -m venv /tmp/rerank-freeze
	/tmp/rerank-freeze/bin/python -m pip install $(PIP_FLAGS) "tensorflow==2.15.1" "tensorflow-addons==0.23.0" "numpy<2" \
		-r requirements/current.txt
	{ sed -n '1,3p' requirements/reference.txt; /tmp/rerank-freeze/bin/python -m pip freeze; } > requirements/reference.txt.new
	mv requirements/reference.txt.new requirements/reference.txt

clean:
	rm -rf $(VENV) $(VENV_CURRENT) *.egg-info .pytest_cache .hypothesis
