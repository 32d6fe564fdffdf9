# The README's commands. `make demo` runs the product on the embedded defaults; `make test` runs the
# whole test suite (against DATABASE_URL / CELERY_BROKER_URL when set, SQLite otherwise).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test bench install chromium web worker beat release

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

# The production processes (README, "Running in production"): their commands are written here only;
# the Procfile, the Dockerfile, compose.yaml and CI's topology test (tests/test_production.py) call
# these targets. They install nothing (a process starting must not run pip): `make install` first.
# With `exec` no shell stays between make and the process: make passes a SIGTERM on to it.
release:
	@exec $(PY) manage.py release

web:
	@exec $(PY) -m gunicorn --config gunicorn.conf.py dashboard.wsgi

# A node name of its own per process ($$$$, its pid), so that two workers on one machine never clash.
worker:
	@exec $(PY) -m celery -A dashboard worker --loglevel $${LOG_LEVEL:-INFO} --hostname worker-$$$$@%h \
		--without-mingle --without-gossip

# Exactly one: a second refuses to start (dashboard/beat_lock.py).
beat:
	@exec $(PY) -m celery -A dashboard beat --loglevel $${LOG_LEVEL:-INFO}

test: $(VENV)/.installed chromium
	$(PY) -m pytest

# Benchmarks run as production would: DEBUG off, with a throw-away secret unless one is set.
bench: export SECRET_KEY ?= bench-only-not-a-secret
bench: $(VENV)/.installed
	$(PY) manage.py collectstatic --noinput -v0  # pages name the hashed copies, as in production
	$(PY) manage.py benchmark_sync
	$(PY) manage.py benchmark_engine
	$(PY) manage.py benchmark_actions
	$(PY) manage.py benchmark_queue
	$(PY) manage.py benchmark_automation
	$(PY) manage.py benchmark_push
	$(PY) manage.py benchmark_reports
