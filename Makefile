# Kongres: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
export FLASK_APP := wsgi:app
HOST ?= 127.0.0.1
PORT ?= 5000
# localstripe, the stand-in for Stripe that `make run` starts beside the app (loopback only).
STRIPE_PORT ?= 8420

.PHONY: run test install install-dev translations translate chromium axe stack-tools lint format db demo bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.installed-localstripe: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[localstripe]'
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

translations: install
	$(BIN)/pybabel compile --statistics -d translations

# Extract new strings and merge them into the catalogues (then translate id/messages.po).
translate: install
	$(BIN)/flask translate update

db: install
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask kongres demo

# The app and localstripe beside it, its webhooks pointed at the app; stopping the app (Ctrl-C)
# stops localstripe too. Pay with the test card 4242 4242 4242 4242.
run: export STRIPE_API_BASE := http://127.0.0.1:$(STRIPE_PORT)
run: translations demo $(VENV)/.installed-localstripe
	@echo "Kongres is at http://$(HOST):$(PORT)/ (card payments: localstripe on 127.0.0.1:$(STRIPE_PORT))"
	@$(PY) -m app.payments.stripe_dev --port $(STRIPE_PORT) & stripe_pid=$$!; \
	trap 'kill $$stripe_pid 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask kongres stripe-dev-setup \
	  --webhook-url http://$(HOST):$(PORT)/payments/stripe/webhook && \
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# Debian's Chromium for the browser tests; installed with apt-get when missing and we are root.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core; \
	  else \
	    echo "Chromium is missing: run 'sudo apt-get install chromium' (browser tests need it)"; exit 1; \
	  fi; \
	fi

# axe-core (npm, pinned in package-lock.json) for the accessibility tests; never served to users.
axe:
	@if [ ! -d node_modules/axe-core ]; then npm ci --no-audit --no-fund; fi

# What tests/deploy/test_stack.py and tests/test_backup.py run beside the app, as production
# does: Debian's nginx, PostgreSQL's client programs (pg_dump, pg_restore) and redis-server;
# installed with apt-get when missing and we are root.
stack-tools:
	@missing=""; \
	command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$$missing nginx-light"; \
	command -v pg_dump >/dev/null 2>&1 || missing="$$missing postgresql-client"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "Missing:$$missing: run 'sudo apt-get install$$missing' (the stack and backup tests need them)"; exit 1; \
	  fi; \
	fi

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The suite runs on SQLite; with TEST_DATABASE_URL (PostgreSQL) it runs there too, with the
# concurrency tests. It includes the production stack (tests/deploy: nginx, gunicorn, RQ).
test: install-dev translations chromium axe stack-tools lint
	TEST_DATABASE_URL= $(BIN)/pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "--- the same suite on PostgreSQL ($$TEST_DATABASE_URL)"; \
	  $(BIN)/pytest; \
	fi

# The check-in API under gunicorn on PostgreSQL (BENCH_POSTGRES_URL, default the local server's
# "test" database, in which it creates and drops its own) and the batch badge PDF; prints figures.
bench: install-dev translations
	$(PY) tests/load/bench_checkin.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
	find . -name '*.mo' -delete
