# `make run` and `make test` are all a new machine needs; both build .venv (and fetch the hub) on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# StackOne's <stackone-hub> web component, fetched from npm and integrity-checked (browserkit/vendor.py).
HUB := browserkit/static/vendor/stackone-hub-1.11.4.js
# StackOne's official TypeScript SDK (conformance/package-lock.json pins it and its integrity): the sandbox's judge.
SDK := conformance/node_modules/@stackone/stackone-client-ts/package.json

.PHONY: run test test-fast bench lint clean install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

$(HUB): browserkit/vendor.py | $(BIN)/python
	$(BIN)/python -m browserkit.vendor

$(SDK): conformance/package.json conformance/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make: npm (Node.js's package manager) is needed to fetch StackOne's SDK for the tests: apt-get install npm"; exit 1; }
	cd conformance && npm ci --loglevel=error
	touch $@

# The hub is fetched if it can be; without it the curl demo still runs (the page then says the hub is missing).
run: $(VENV)/.runtime
	@[ -f $(HUB) ] || $(BIN)/python -m browserkit.vendor || \
	  echo "make run: starting without StackOne's hub component: the curl demo works; the integrations page cannot open the hub"
	$(BIN)/python devserver.py

# Production (docs/production.md): the runtime .venv and StackOne's hub component, nothing started.
install: $(VENV)/.runtime $(HUB)

test: $(VENV)/.dev $(HUB) $(SDK)
	$(BIN)/python -m pytest

# The tests that start no process (not marked e2e): a quick check while editing; `make test` before a commit.
test-fast: $(VENV)/.dev
	$(BIN)/python -m pytest -q -m "not e2e"

# wrk is the load generator when installed (C: it barely competes for the cores); the bench falls back to Python.
# valgrind (callgrind) and gcc count instructions per request, steady where CPU seconds on a shared VM are not.
bench: $(VENV)/.dev
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  echo "make bench: installing wrk (Debian)" && apt-get install -y -qq wrk >/dev/null 2>&1; } || \
	  echo "make bench: wrk not installed (apt-get install wrk); using the Python load generator"
	$(BIN)/python bench/limit_memory.py
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/slow_clients.py
	$(BIN)/python bench/proxy_floor.py
	$(BIN)/python bench/slow_upstream.py
	$(BIN)/python bench/provider_cost.py
	$(BIN)/python bench/idempotency_cost.py
	$(BIN)/python bench/budget_cost.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/reconcile_pass.py
	$(BIN)/python bench/deadline_reuse.py
	@command -v valgrind >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  echo "make bench: installing valgrind (Debian)" && apt-get install -y -qq valgrind >/dev/null 2>&1; } || true
	$(BIN)/python bench/instructions.py

# ruff, and the layers (import-linter's contracts in pyproject.toml): a module imports only from layers below it.
lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache
