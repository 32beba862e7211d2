# ewsdash: `make demo` serves the dashboard, `make test` runs the suite.
# Both create the virtualenv and install the pinned dependencies first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# Test processes (pytest-xdist): one per core, at most 4 (the PostgreSQL + Redis run gives
# each its own Redis database, the base URL's number plus 0..3).
TEST_JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)
PYTEST_XDIST := -n $(TEST_JOBS) --dist loadgroup
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: install test-tools demo serve test test-fast lint screenshots clean print-test-jobs

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

# Checks run in the bubblewrap sandbox where it works; elsewhere the demo says how to
# install it and runs without one (every page then shows a warning).
demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@sandbox=$${EWSDASH_SANDBOX:-$$($(PY) -m monitoring.validation.sandbox)}; \
	echo "EWSDASH_SANDBOX=$$sandbox"; \
	EWSDASH_SANDBOX=$$sandbox $(PY) manage.py seed_demo && EWSDASH_SANDBOX=$$sandbox exec bin/serve

serve: install
	bin/serve

test: install test-tools
	$(PY) -m pytest $(PYTEST_XDIST)

test-fast: install test-tools
	$(PY) -m pytest $(PYTEST_XDIST) -m "not slow and not browser"

screenshots: install
	EWSDASH_UPDATE_SCREENSHOTS=1 $(PY) -m pytest -m browser

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy ewsdash releases monitoring api notifications accounts

clean:
	rm -rf var/test var/staticfiles

print-test-jobs:
	@echo $(TEST_JOBS)
