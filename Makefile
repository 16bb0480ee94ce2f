# Two commands for a newcomer: `make run` and `make test`. Everything else is set up by them.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATABASE_URL ?= sqlite:///$(CURDIR)/var/ecvet.sqlite3
export DATABASE_URL

.PHONY: catalogues run test bench bench-http bench-scale corpus scenarios lint setup system-deps fonts chromium test-postgres migrate deploy clean

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || $(MAKE) system-deps
	@test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Front-end libraries (bpmn-js and its properties panel, dmn-js, chart.js) from the committed lock file; the pages serve them
# from node_modules/ (api/web/vendor.py), so nothing third-party is committed or fetched at run time.
NODE_STAMP := node_modules/.installed

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { apt-get update && apt-get install -y nodejs npm; }
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $(NODE_STAMP)

setup: $(STAMP) fonts $(NODE_STAMP)

# Debian packages the platform needs on a bare machine (we are root on development and CI machines).
system-deps:
	@if ! command -v $(PY) >/dev/null 2>&1; then \
		apt-get update && apt-get install -y python3 python3-venv python3-dev; \
	fi

# PDF documents (ecvet/documents/pdf.py) embed DejaVu Sans: it covers Latin, Greek and Cyrillic (every EU language).
FONTS := /usr/share/fonts/truetype/dejavu
fonts:
	@test -f $(FONTS)/DejaVuSans.ttf -a -f $(FONTS)/DejaVuSans-Bold.ttf || \
		(apt-get update && apt-get install -y fonts-dejavu-core)

# After adding a key to api/web/catalogue/en.json: add it to every language's .po (untranslated) and list
# what is left to translate. The .po files are read as they are at start: nothing to compile.
catalogues: $(STAMP)
	$(BIN)/ecvet catalogue update

migrate: setup
	@mkdir -p var
	$(BIN)/ecvet db upgrade

deploy: migrate
	$(BIN)/ecvet deploy processes forms

# The worker runs beside the server (timers, service tasks, messages, notifications) and stops with it.
# The demo seed is idempotent: a second `make run` on the same var/ecvet.sqlite3 adds nothing and prints
# the table again, with each demo user's tasks as they are now.
run: deploy
	$(BIN)/ecvet bootstrap-demo --url http://127.0.0.1:5000
	@$(BIN)/ecvet worker --poll 0.5 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/ecvet serve --host 127.0.0.1 --port 5000

# Browser tests (tests/web) drive Debian's chromium through Playwright; no browser is ever downloaded.
chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y chromium)

# PostgreSQL for the suite's PostgreSQL half: installed, started, reachable as `postgres` over TCP and
# with its `test` database (scripts/ensure-postgres.sh). Without it that half is skipped with the
# reason, unless ECVET_REQUIRE_PG=1 (CI), which makes it mandatory.
test-postgres:
	@scripts/ensure-postgres.sh

# Quality gates before the suite: ruff (complexity, pylint, naming, ...; pyproject.toml), mypy (strict on
# engine/), and in the suite itself tests/test_architecture.py (no import loop, arrows down the layers,
# no module above 500 lines).
GATES = $(BIN)/ruff check engine api ecvet demo tests bench migrations/env.py && \
	$(BIN)/mypy engine ecvet demo api tests bench

test: setup chromium test-postgres
	$(GATES)
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m bench.run

# Deploy and start every bundle of the fetched corpora (SpiffWorkflow's tests, spiff-arena, Camunda examples)
# through the API and print the table of issue 11; not part of `make test` (bench/corpus.py).
corpus: setup
	$(BIN)/python -m bench.corpus $(MIRROR)

# SpiffWorkflow's own test scenarios (diagram, data at each user task, the end its test asserts), run with the
# bare library and through the API side by side; not part of `make test` (bench/scenarios.py).
scenarios: setup
	$(BIN)/python -m bench.scenarios $(MIRROR)

# Real servers and workers under concurrent clients in other processes (bench/http.py), SQLite and PostgreSQL.
bench-http: setup
	$(BIN)/python -m bench.http

# Inbox, instance list, dashboard and completion at 1,000 instances and at ECVET_BENCH_SCALE, interleaved, with
# EXPLAIN ANALYZE of every list statement (bench/scale.py; ECVET_BENCH_SCALE_KEEP=1 reuses the loaded databases).
bench-scale: setup
	$(BIN)/python -m bench.scale

lint: setup
	$(GATES)

clean:
	rm -rf $(VENV) var
