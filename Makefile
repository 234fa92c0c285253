# `make demo` opens evaltui on the demo repository; `make test` runs the whole test suite.
# Both create .venv and install evaltui with its test extras first (only when pyproject.toml changed).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m compileall -q evaltui > /dev/null  # as a wheel install would: faster start-up
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/evaltui demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) dist build .pytest_cache
