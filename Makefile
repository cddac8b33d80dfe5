# Windsor's single entry point. `make run` and `make test` are the two set-up commands.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

PIP_TOOLS := pip-tools==7.6.2

.PHONY: run test mutants bench lint format worker serve deps serve-deps dev-deps lock

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Install from the lock files in requirements/ (pinned, with hashes: pip --require-hashes), each
# the whole set one kind of command needs. Nothing to do when the lock has not changed.
deps: $(VENV)/bin/python
	@$(PY) scripts/install_deps.py base

serve-deps: $(VENV)/bin/python
	@$(PY) scripts/install_deps.py serve

dev-deps: $(VENV)/bin/python
	@$(PY) scripts/install_deps.py dev

# Regenerate requirements/*.txt from pyproject.toml (Python 3.11 on Linux x86_64, as CI). dev.txt
# is resolved first; base.txt and serve.txt are held to its versions, so that every lock agrees.
# Pins that pyproject.toml still allows are kept; LOCK_ARGS=--upgrade moves them to the newest.
LOCK = CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --generate-hashes \
	--strip-extras --no-emit-index-url --no-emit-find-links --no-emit-trusted-host $(LOCK_ARGS)
lock: $(VENV)/bin/python
	@$(PY) -m pip install --quiet $(PIP_TOOLS)
	$(LOCK) --extra serve --extra dev -o requirements/dev.txt pyproject.toml
	$(LOCK) --extra serve -c requirements/dev.txt -o requirements/serve.txt pyproject.toml
	$(LOCK) -c requirements/dev.txt -o requirements/base.txt pyproject.toml

run: deps
	$(PY) manage.py migrate --noinput
	$(PY) manage.py dev_setup --base-url http://$(HOST):$(PORT)
	$(PY) manage.py runserver $(HOST):$(PORT)

test: dev-deps
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The mutation check: each named break of a promise (mutants/) must fail its tests.
# MUTANTS_ARGS="--half today" runs a rotating half; "--only NAME ..." some; "--list" names them.
mutants: dev-deps
	$(PY) -m mutants $(MUTANTS_ARGS)

bench: deps
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) -m bench $(BENCH_ARGS)

worker: deps
	$(VENV)/bin/celery -A windsor worker -B --loglevel=INFO

# The production processes from Procfile (gunicorn, a Celery worker, beat) under honcho, on
# whatever DATABASE_URL and CELERY_BROKER_URL say. Ctrl-C stops them all.
serve: serve-deps
	@if [ -z "$$DATABASE_URL" ] || [ -z "$$CELERY_BROKER_URL" ]; then \
	  echo "make serve runs on PostgreSQL and Redis: set DATABASE_URL and CELERY_BROKER_URL." >&2; exit 1; fi
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start --procfile Procfile --port $(PORT)

lint: dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: dev-deps
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
