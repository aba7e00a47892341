# Two commands on a fresh clone: `make run` and `make test`. Everything else
# here is what they need: a .venv built from pyproject.toml and constraints.txt.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP := wsgi

.PHONY: run worker test test-postgres test-browser setup lint bench clean chromium test-tools \
	translations extract-messages

# Compiled catalogues (.mo) are built here from the committed .po files, never committed:
# a .po edit can then never ship with a stale .mo beside it.
PO_FILES := $(wildcard portal/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

## Compile the translation catalogues (portal/translations/<lang>/LC_MESSAGES/*.mo).
translations: $(MO_FILES)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

## Refresh messages.pot from the code and templates and merge it into every .po
## (then translate what is new; tests/test_i18n.py fails until every message is).
extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --sort-output --no-location \
		--project Portal -o portal/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete \
		-i portal/translations/messages.pot -d portal/translations

## Create or upgrade the database, load demo data on first run, print the logins.
setup: $(STAMP) translations
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load --if-empty

## Serve the portal with demo data on the embedded SQLite database, and one worker
## (e-mail, the schedule) beside it; Ctrl-C stops both (scripts/serve.py).
run: setup
	@echo "Portal on http://$(HOST):$(PORT) with a worker  (Ctrl-C stops both)"
	$(BIN)/python scripts/serve.py --host $(HOST) --port $(PORT)

## A worker alone (for a deployment: one or more beside the web servers).
worker: $(STAMP) translations
	$(BIN)/flask worker

## Chromium from Debian for the browser tests (never a downloaded browser).
chromium:
	@test -x /usr/bin/chromium || ./scripts/install-chromium

## nginx and the PostgreSQL client tools from Debian, for the deployment and backup tests.
test-tools:
	@./scripts/install-test-tools

## The whole suite on SQLite, browser tests included.
test: $(STAMP) translations chromium test-tools
	$(BIN)/pytest $(PYTEST_ARGS)

## The same suite against PostgreSQL (the browser tests run on SQLite only).
test-postgres: $(STAMP) translations test-tools
	PORTAL_TEST_DATABASE_URL=$${PORTAL_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
		$(BIN)/pytest -m "not browser" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check portal tests bench
	$(BIN)/ruff format --check portal tests bench

bench: $(STAMP)
	$(BIN)/python bench/http_latency.py

clean:
	rm -rf $(VENV) .pytest_cache
