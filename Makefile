# The README's two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
TEST_ENV := DATABASE_URL=$${TEST_DATABASE_URL:-postgres://dorami:dorami@127.0.0.1:5432/dorami} \
	REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/3} DORAMI_TESTING=1
RUN_ENV := DEBUG=1
PORT ?= 8000

.PHONY: run demo-live test venv deps dev-deps lint format migrate-check messages services system-packages \
	test-unit test-browser bench clean

$(VENV)/bin/activate:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.deps: requirements.txt $(VENV)/bin/activate
	$(PIP) install -q -r requirements.txt
	@touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt $(VENV)/.deps
	$(PIP) install -q -r requirements-dev.txt
	@touch $@

deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

messages: deps
	$(RUN_ENV) $(PY) manage.py compile_translations

## make run: embedded default (SQLite, in-memory channel layer), demo data, http://127.0.0.1:8000
## (another port: make run PORT=8001)
run: deps messages
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py seed_demo
	$(RUN_ENV) $(PY) manage.py serve --host 127.0.0.1 --port $(PORT)

## make demo-live: (with `make run` in another terminal) puts the demo show on air: a test
## pattern with ffmpeg, or simulated media-server webhooks without it. Ctrl-C ends the show.
demo-live: deps
	$(RUN_ENV) $(PY) manage.py demo_live

services:
	@bash scripts/ensure_services.sh

system-packages:
	@bash scripts/ensure_system_packages.sh

lint: dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(RUN_ENV) $(VENV)/bin/mypy  # the service layer and core ([tool.mypy] in pyproject.toml)

format: dev-deps
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate-check: dev-deps
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run

test-unit: dev-deps messages services
	$(TEST_ENV) $(PY) -m pytest -m "not browser" -p no:playwright --ignore=e2e

test-browser: dev-deps messages services system-packages
	$(TEST_ENV) $(PY) -m pytest -m browser e2e

## make test: everything CI runs — lint, migrations check, then the unit/integration and browser
## suites side by side (scripts/test_suites.sh: each on its own test database and Redis db)
test: dev-deps system-packages services messages lint migrate-check
	bash scripts/test_suites.sh

bench: dev-deps services
	$(TEST_ENV) $(PY) bench/flash_sale.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .mypy_cache

## make backup: a verified database backup now (to BACKUP_DESTINATION, else a file here)
## make jobs: the periodic jobs and their schedules; make job NAME=<job>: run one now
.PHONY: backup jobs job
backup: deps
	$(PY) manage.py backup

jobs: deps
	$(PY) manage.py run_job --list

job: deps
	@test -n "$(NAME)" || { echo "usage: make job NAME=<job> (see make jobs)"; exit 2; }
	$(PY) manage.py run_job $(NAME)
