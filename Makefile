# Each target sets up its own virtual environment on a fresh clone.
# torch is installed first at a pinned version so that pip never resolves the
# open range in pyproject.toml to a newer release with GPU wheels on CPU-only
# machines; override with `make TORCH_SPEC="torch==X.Y.Z" ...`.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
OUTPUT ?= benchmark-results
PROFILE ?= quick
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sklearn_kd-installed

.PHONY: install test benchmark docs lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[tests,benchmarks,docs,dist,onnx]"
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(PY) -m ruff check .

test: install lint
	$(PY) -m pytest -n 2

benchmark: install
	$(PY) -m benchmarks --profile $(PROFILE) --output $(OUTPUT)

docs: install
	$(PY) -m sphinx -W --keep-going -b html doc doc/_build/html

clean:
	rm -rf $(VENV) doc/_build doc/auto_examples doc/generated $(OUTPUT)
