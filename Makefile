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
# The SDK strictly; the server and CLI at their own declared level (checked bodies, no
# implicit Optional, strict equality, no unreachable code).
MYPY_SERVER ?= src/graphdock/server src/graphdock/cli.py
MYPY_TARGETS ?= src/graphdock/client src/graphdock/__init__.py tests/client/typed_usage.py $(MYPY_SERVER)
UI_DEPS := ui/node_modules/.installed
CHROMIUM := /usr/bin/chromium

.PHONY: install oracle serve dev test lint bench clean ui ui-deps chromium screenshots

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

# The UI's build tools (Vite, TypeScript) and libraries, exactly as ui/package-lock.json pins them.
ui-deps: $(UI_DEPS)

$(UI_DEPS): ui/package.json ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund
	touch $(UI_DEPS)

# Rebuilds the UI bundle that ships in the package; commit the result (a test checks it).
ui: ui-deps
	cd ui && npm run build

# Debian's Chromium, which the UI tests and bench drive through Playwright.
chromium:
	test -x $(CHROMIUM) || (apt-get update && apt-get install -y chromium)

# The UI tests, saving their screenshots for the README (docs/screenshots).
screenshots: install ui-deps chromium
	GRAPHDOCK_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest tests/ui -p no:cacheprovider -q

serve: install
	$(BIN)/graphdock dev --config examples/langgraph.json --no-reload

lint: install ui-deps
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/mypy $(MYPY_TARGETS)
	cd ui && npm run check

test: lint oracle chromium
	GRAPHDOCK_ORACLE=$(CURDIR)/$(ORACLE)/bin/langgraph $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

# Every bench (bench/all.py): figures printed as they come, and all of them in $(BENCH_JSON).
BENCH_JSON ?= bench/results.json

bench: install chromium
	$(BIN)/python bench/all.py --json $(BENCH_JSON)

clean:
	rm -rf $(VENV) $(ORACLE) .graphdock ui/node_modules
