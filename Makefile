# Two commands do all set-up on a fresh machine: `make run` and `make test`.
VENV      := .venv
BIN       := $(VENV)/bin
PYTHON    ?= python3
INSTALLED := $(VENV)/.installed
VENDORED  := static/vendor/.copied

.PHONY: setup prepare run test jstest lint check bench clean

setup: $(INSTALLED) $(VENDORED) prepare

# Base models and other artifacts the demos need: built once, skipped when already whole.
prepare: $(INSTALLED)
	$(BIN)/modelterms prepare

$(INSTALLED): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

node_modules/.package-lock.json: package-lock.json package.json
	npm ci --no-audit --no-fund --loglevel=error

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

check: $(INSTALLED)
	$(BIN)/modelterms check

test: setup lint check jstest
	$(BIN)/python -m pytest -q

# The playground's pure modules (state, run session bookkeeping) under Node's own test runner.
jstest:
	node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON --test tests/js/*.test.mjs

bench: setup
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules static/vendor artifacts
