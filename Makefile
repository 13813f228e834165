# Linli — two commands: `make demo` runs the whole system, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LINLI := $(BIN)/linli
STAMP_PY := $(VENV)/.installed
STAMP_JS := node_modules/.installed
VENDOR := linli/static/vendor/.copied

.PHONY: setup demo test test-deps lint typecheck check migrations-check messages clean

setup: $(STAMP_PY) $(VENDOR) messages  ## environment, packages, assets, database
	$(LINLI) migrate --noinput
	$(LINLI) seed_demo --if-empty
	$(LINLI) seed_orders_demo
	$(LINLI) seed_volunteers
	$(LINLI) seed_health_demo
	$(LINLI) report load-library

$(STAMP_PY): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(STAMP_JS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VENDOR): $(STAMP_JS) scripts/vendor_assets.py
	$(BIN)/python scripts/vendor_assets.py
	touch $@

# Each app keeps its own catalogue (linli/<app>/locale); compile them all (pure Python, Babel).
messages: $(STAMP_PY)
	@for po in linli/*/locale/*/LC_MESSAGES/django.po; do \
	  $(BIN)/pybabel compile --use-fuzzy -i $$po -o $${po%.po}.mo >/dev/null 2>&1 \
	  || { $(BIN)/pybabel compile -i $$po -o $${po%.po}.mo; exit 1; }; done

demo: setup  ## serve web + background worker on http://127.0.0.1:8000
	$(LINLI) serve --demo

# Browser tests need Debian's Chromium and CJK fonts; generated spreadsheets are read back by
# LibreOffice and certificates' PDFs rendered by Ghostscript. Install them when missing (CI runs
# as root).
TEST_APT := chromium fonts-noto-cjk libreoffice-calc libreoffice-writer ghostscript
test-deps:
	@if ! command -v chromium >/dev/null || ! command -v soffice >/dev/null \
	    || ! command -v gs >/dev/null || ! fc-list 2>/dev/null | grep -qi 'noto.*cjk'; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      $(TEST_APT) >/dev/null; \
	  else echo "tests need: sudo apt-get install $(TEST_APT)" >&2; exit 1; fi; \
	fi

test: setup test-deps  ## the whole suite
	$(BIN)/pytest -q -n 2 --dist loadgroup

lint: $(STAMP_PY)
	$(BIN)/ruff check linli tests benchmarks scripts
	$(BIN)/ruff format --check linli tests benchmarks scripts

typecheck: $(STAMP_PY)
	$(BIN)/mypy linli

migrations-check: $(STAMP_PY)
	$(LINLI) makemigrations --check --dry-run

check: lint typecheck migrations-check

clean:
	rm -rf $(VENV) node_modules linli/static/vendor var
