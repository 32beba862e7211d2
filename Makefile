# ewsdash: `make demo` serves the dashboard, `make test` runs the suite.
# Both create the virtualenv and install the pinned dependencies first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: install test-tools demo serve test test-fast lint screenshots clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c 'import sys; assert sys.version_info[:2] == (3, 11), "ewsdash needs Python 3.11"'
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

# Test-only npm tools (GitHub's webhook schemas and REST API description, Prism), pinned in tests/package-lock.json.
tests/node_modules/.package-lock.json: tests/package.json tests/package-lock.json
	npm ci --prefix tests --no-audit --no-fund --loglevel=error

test-tools: tests/node_modules/.package-lock.json

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo
	bin/serve

serve: install
	bin/serve

test: install test-tools
	$(PY) -m pytest

test-fast: install test-tools
	$(PY) -m pytest -m "not slow and not browser"

screenshots: install
	EWSDASH_UPDATE_SCREENSHOTS=1 $(PY) -m pytest -m browser

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy ewsdash releases monitoring api

clean:
	rm -rf var/test var/staticfiles
