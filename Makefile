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

.PHONY: install test test-min benchmark docs lint clean mutation

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

# Mutation testing of the core maths, not part of CI: mutmut mutates the
# modules listed under [tool.mutmut] in pyproject.toml and runs, for each
# mutant, the fast tests that cover it (hypothesis profile "mutation": fixed
# draws, no shrinking). Survivors are listed; the last line is the score.
MUTMUT_SPEC ?= mutmut==3.8.1
MUTATION_JOBS ?= 2
MUTANTS ?= "sklearn_kd.losses.*" "sklearn_kd.knowledge.*" \
	"sklearn_kd._teacher_targets.*" "sklearn_kd.metrics.*" \
	"sklearn_kd._posterior.*"

mutation: install
	$(PY) -m pip install --quiet "$(MUTMUT_SPEC)"
	rm -rf mutants
	@start=$$(date +%s); \
	HYPOTHESIS_PROFILE=mutation OMP_NUM_THREADS=1 \
		$(PY) -m mutmut run --max-children $(MUTATION_JOBS) $(MUTANTS) > mutation.log 2>&1 \
		|| { tail -n 30 mutation.log; exit 1; }; \
	echo "mutmut run: $$(( $$(date +%s) - start )) s wall time"
	@echo "surviving mutants (see them with: $(PY) -m mutmut show NAME):"
	@$(PY) -m mutmut results | grep -v ': not checked$$' || true
	@$(PY) tests/mutation_score.py

clean:
	rm -rf $(VENV) $(MIN_VENV) doc/_build doc/auto_examples doc/generated $(OUTPUT) mutants mutation.log
