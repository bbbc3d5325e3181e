# `make serve` and `make test` are the two set-up commands: each installs what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ORACLE := .venv-oracle
ORACLE_STAMP := $(ORACLE)/.installed
# The reference server, used only as a test oracle, in a virtualenv of its own; never imported by graphdock.
ORACLE_PACKAGES := "langgraph-cli[inmem]==0.4.40" "langgraph-api==0.16.7" "langgraph==1.2.22"
PYTEST_WORKERS ?= 3
# What `make lint` type-checks; how strictly is per module, in [tool.mypy] of pyproject.toml.
# MYPY_SERVER is the server's entry, empty until it passes its declared level.
MYPY_SERVER ?=
MYPY_TARGETS ?= src/graphdock/client src/graphdock/__init__.py tests/client/typed_usage.py $(MYPY_SERVER)

.PHONY: install oracle serve dev test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[server,postgres,dev]'
	touch $(STAMP)

oracle: $(ORACLE_STAMP)

$(ORACLE_STAMP):
	test -x $(ORACLE)/bin/python || $(PYTHON) -m venv $(ORACLE)
	$(ORACLE)/bin/python -m pip install -q $(ORACLE_PACKAGES)
	touch $(ORACLE_STAMP)

serve: install
	$(BIN)/graphdock dev --config examples/langgraph.json --no-reload

lint: install
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/mypy $(MYPY_TARGETS)

test: lint oracle
	GRAPHDOCK_ORACLE=$(CURDIR)/$(ORACLE)/bin/langgraph $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(ORACLE) .graphdock
