# Two commands set up everything on a fresh machine:
#   make run   creates .venv, installs Fakturka into it, starts the app
#   make test  installs the test extras too and runs the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint wheel-check install install-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files: re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Byte-compiled first, as an installed wheel is: where Python may not write .pyc files on import
# (PYTHONDONTWRITEBYTECODE), the app would compile its modules on every start (about 75 ms).
run: install
	@$(BIN)/python -m compileall -q core tui cli fakturka portal >/dev/null
	$(BIN)/fakturka $(ARGS)

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The gates .ci/run runs before the tests: style, format, import contracts, types where core is clean.
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The app as `pipx install .` gives it: a wheel in a fresh venv outside the repository.
wheel-check: install-test
	PYTHON=$(PYTHON) .ci/wheel-check

BENCHES = tui_start pdf sync_engine matching fio_import statement_memory audit_verify encrypted portal

# bench/pdf.py reads its output back with pypdf, a test dependency.
bench: install-test
	@for b in $(BENCHES); do echo "== bench/$$b.py"; $(BIN)/python bench/$$b.py || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
