# Kadr: `make run` starts the embedded default (SQLite, local media, a Celery worker
# on the filesystem broker) with demo data; `make test` runs the test suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
DEMO_PASSWORD ?= kadr-demo

.PHONY: run install system-deps test test-integration lint messages clean

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: system-deps $(VENV)/.installed

# ffmpeg (and gettext for translations) from Debian when missing; a clear message otherwise.
system-deps:
	@missing=""; for tool in ffmpeg ffprobe; do command -v $$tool >/dev/null || missing=ffmpeg; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg; \
	  elif command -v apt-get >/dev/null && command -v sudo >/dev/null; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg; \
	  else \
	    echo "Kadr needs ffmpeg 5.1 or newer (ffmpeg and ffprobe on PATH). Install it with your package manager and run again." >&2; exit 1; \
	  fi; \
	fi

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --password '$(DEMO_PASSWORD)'
	@set -m; \
	$(VENV)/bin/celery -A config worker -B -Q default,transcode --concurrency 1 --loglevel INFO \
	  --schedule var/celerybeat-schedule & worker=$$!; \
	trap 'kill -TERM -$$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	echo; echo "Kadr is running at http://127.0.0.1:$(PORT)/  (API docs: /api/v1/docs/, admin: /admin/)"; \
	echo "Demo logins (password '$(DEMO_PASSWORD)'): press (press head), operator, editor, journalist (crew), health, education (departments); admin: admin"; echo; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(VENV)/bin/pytest -m "not integration"

# PostgreSQL + Redis + a real Celery worker + moto's S3 server (see .ci/run): the
# compose topology minus Docker. Point them elsewhere with KADR_IT_DATABASE_URL and
# KADR_IT_BROKER_URL (pytest-django creates and drops test_<name>).
KADR_IT_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/kadr_it
KADR_IT_BROKER_URL ?= redis://127.0.0.1:6379/7
test-integration: install
	KADR_INTEGRATION=1 DATABASE_URL='$(KADR_IT_DATABASE_URL)' CELERY_BROKER_URL='$(KADR_IT_BROKER_URL)' \
	  $(VENV)/bin/pytest -m integration -p no:randomly tests/integration

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

messages: install
	$(PY) manage.py makemessages -l uk -l en --no-obsolete --ignore '.venv/*' --ignore 'tests/*'
	$(PY) manage.py makemessages -d djangojs -l uk -l en --no-obsolete --ignore '.venv/*' --ignore 'staticfiles/*' --ignore 'static/vendor/*'
	$(PY) manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf var staticfiles
