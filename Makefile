# Windsor's single entry point. `make run` and `make test` are the two set-up commands.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test mutants bench lint format worker serve deps dev-deps

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Installs the pinned dependencies from pyproject.toml (no build step: the project is not a package).
deps: $(VENV)/bin/python
	@$(PY) scripts/install_deps.py

dev-deps: $(VENV)/bin/python
	@$(PY) scripts/install_deps.py --dev

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

bench: dev-deps
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) -m bench $(BENCH_ARGS)

worker: deps
	$(VENV)/bin/celery -A windsor worker -B --loglevel=INFO

# The production processes from Procfile (gunicorn, a Celery worker, beat) under honcho, on
# whatever DATABASE_URL and CELERY_BROKER_URL say. Ctrl-C stops them all.
serve: deps
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
