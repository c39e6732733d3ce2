# Two commands on a fresh machine: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export DJANGO_SETTINGS_MODULE := annotator.settings

.PHONY: run test venv migrate demo lint format check-migrations contracts ci clean

$(STAMP): requirements/base.txt requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $(STAMP)

venv: $(STAMP)

migrate: venv
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput

demo: migrate
	DEBUG=$${DEBUG:-true} $(PY) manage.py load_demo

## run: set everything up and run the web server and a Celery worker with the demo project
run: demo
	DEBUG=$${DEBUG:-true} PY=$(PY) scripts/run-dev

## test: set everything up and run the whole suite (SQLite unless DATABASE_URL is set)
test: venv
	DEBUG=$${DEBUG:-true} $(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: venv
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

check-migrations: venv
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run

contracts: venv
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache staticfiles
