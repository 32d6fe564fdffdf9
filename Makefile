# The README's commands. `make demo` runs the product on the embedded defaults; `make test` runs the
# whole test suite (against DATABASE_URL / CELERY_BROKER_URL when set, SQLite otherwise).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test bench install chromium

$(VENV)/.installed: requirements.txt requirements-test.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

install: $(VENV)/.installed

# The demo runs with DEBUG on (its demo secret needs it); production leaves it off, the default.
demo: $(VENV)/.installed
	DEBUG=$${DEBUG:-true} $(PY) manage.py demo

# Browser tests drive Debian's Chromium (Playwright's own browser download does not work here).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: $(VENV)/.installed chromium
	$(PY) -m pytest

# Benchmarks run as production would: DEBUG off, with a throw-away secret unless one is set.
bench: export SECRET_KEY ?= bench-only-not-a-secret
bench: $(VENV)/.installed
	$(PY) manage.py benchmark_sync
	$(PY) manage.py benchmark_engine
	$(PY) manage.py benchmark_actions
	$(PY) manage.py benchmark_queue
	$(PY) manage.py benchmark_automation
