# The two set-up commands of the README:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test quick install clean screenshot

# The runtime alone for the demo (what it runs, nothing more); the test tools on top for `make test`.
$(BIN)/.runtime: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	@echo "Installing the connector into $(VENV) (the runtime only; \`make test\` adds the test tools)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar on -e .
	@touch $@

$(BIN)/.installed: $(BIN)/.runtime
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

install: $(BIN)/.runtime

demo: $(BIN)/.runtime
	$(BIN)/helpdesk-kpi demo

test: $(BIN)/.installed
	bash scripts/test.sh

# for iterating: the suite without the slow end-to-end tests, on SQLite only, on every core; no lint
quick: $(BIN)/.installed
	CONNECTOR_TEST_POSTGRES_URL= $(BIN)/pytest -n auto -m "not slow" -q

# docs/dashboard.png, the README's picture: today's demo in Debian's chromium
screenshot: $(BIN)/.installed
	$(BIN)/python scripts/screenshot.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo.db* demo-report report test-artifacts

