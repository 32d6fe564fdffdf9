# The README's commands. `make demo` runs the product on the embedded defaults; `make test` runs the
# whole test suite (against DATABASE_URL / CELERY_BROKER_URL when set, SQLite otherwise).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test bench install

$(VENV)/.installed: requirements.txt requirements-test.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(PY) manage.py demo

test: $(VENV)/.installed
	$(PY) -m pytest

bench: $(VENV)/.installed
	$(PY) manage.py benchmark_sync
	$(PY) manage.py benchmark_engine
