# ewsdash: `make demo` serves the dashboard, `make test` runs the suite.
# Both create the virtualenv and install the pinned dependencies first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: install demo serve test test-fast lint screenshots clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c 'import sys; assert sys.version_info[:2] == (3, 11), "ewsdash needs Python 3.11"'
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

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

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow and not browser"

screenshots: install
	EWSDASH_UPDATE_SCREENSHOTS=1 $(PY) -m pytest -m browser

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy ewsdash releases monitoring

clean:
	rm -rf var/test var/staticfiles
