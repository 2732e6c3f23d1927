# Each target sets up its own virtual environment on a fresh clone.
# torch is installed first at a pinned version so that pip never resolves the
# open range in pyproject.toml to a newer release with GPU wheels on CPU-only
# machines; override with `make TORCH_SPEC="torch==X.Y.Z" ...`.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
OUTPUT ?= benchmark-results
PROFILE ?= quick
MIN_VENV ?= .venv-min
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sklearn_kd-installed

.PHONY: install test test-min benchmark docs lint clean

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

# The test suite against the oldest numpy, scipy, scikit-learn, skorch and
# joblib that pyproject.toml declares, in a fresh environment (torch stays
# at TORCH_SPEC).
test-min:
	rm -rf $(MIN_VENV)
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MIN_VENV)/bin/python .ci/min_constraints.py > $(MIN_VENV)/constraints.txt
	echo "$(TORCH_SPEC)" >> $(MIN_VENV)/constraints.txt
	$(MIN_VENV)/bin/python -m pip install --quiet "$(TORCH_SPEC)"
	$(MIN_VENV)/bin/python -m pip install --quiet -c $(MIN_VENV)/constraints.txt -e ".[tests]"
	$(MIN_VENV)/bin/python -m pip list | grep -iE "^(numpy|scipy|scikit-learn|skorch|joblib|torch) "
	$(MIN_VENV)/bin/python -m pytest -n 2 -p no:cacheprovider

benchmark: install
	$(PY) -m benchmarks --profile $(PROFILE) --output $(OUTPUT)

docs: install
	$(PY) -m sphinx -W --keep-going -b html doc doc/_build/html

clean:
	rm -rf $(VENV) $(MIN_VENV) doc/_build doc/auto_examples doc/generated $(OUTPUT)
