# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: run test install install-dev lint format messages clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

## Install, migrate, load demo data, start the site with a Celery worker and beat (Ctrl-C stops all).
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py compile_translations
	$(PY) manage.py seed_demo
	@echo "Open http://127.0.0.1:8000 (Ctrl-C stops the site, the worker and beat)"
	$(BIN)/honcho -f Procfile start

## Install the dev tools and run the whole suite (PostgreSQL/Redis/Chromium when they answer), in TEST_WORKERS
## processes (pytest-xdist; each has its own test database and Redis database; TEST_WORKERS=0: one process).
TEST_WORKERS ?= 2
test: install-dev
	$(PY) manage.py compile_translations
	$(BIN)/pytest --numprocesses $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Refresh the Persian catalogue from the code (needs GNU gettext); translations already there are kept, changed
## strings come back fuzzy. Then translate the new and fuzzy entries in the .po itself (README, "Translating").
messages: install
	$(PY) manage.py makemessages --locale fa --ignore ".venv/*" --ignore "var/*" --no-location --no-obsolete
	$(PY) manage.py makemessages --locale fa --domain djangojs --ignore ".venv/*" --ignore "var/*" --no-location --no-obsolete

clean:
	rm -rf $(VENV) var/broker var/celerybeat-schedule*
