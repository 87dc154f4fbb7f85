# Two commands on a fresh machine: `make run` and `make test`. Everything else is set up from here.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
LANGS := en cy ur pa bn gu hi ar fa ckb tr so es pt pl ro fr

.PHONY: run test setup catalogs extract migrate lint format browser-deps postgres-deps rasa bench-nlu bench-channels chaos clean

$(BIN)/.installed: requirements.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

setup: $(BIN)/.installed catalogs

## Compile every translation catalog (the .mo files are built, never committed).
catalogs: $(BIN)/.installed
	@for l in $(LANGS); do \
	  $(BIN)/pybabel compile --use-fuzzy -d locales -D messages -l $$l || exit 1; \
	done
	$(BIN)/pybabel compile -d locales -D staff -l en

## Re-extract family-facing text and merge it into every catalog.
extract: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k C_:1c,2 -k ngettext:1,2 --add-comments=Translators: --project=dhrbot --version=0.1 --no-location --sort-output -o locales/messages.pot .
	$(BIN)/python scripts/update_catalogs.py $(BIN)/pybabel locales $(LANGS)
	$(BIN)/pybabel extract -F babel-staff.cfg -k t -k tn:1,2 --no-location --sort-output -o locales/staff.pot .
	@if [ -f locales/en/LC_MESSAGES/staff.po ]; then \
	  $(BIN)/pybabel update --no-fuzzy-matching -i locales/staff.pot -d locales -D staff -l en; \
	else $(BIN)/pybabel init -i locales/staff.pot -d locales -D staff -l en; fi

migrate: setup
	$(BIN)/dhrbot db upgrade

run: setup migrate
	$(BIN)/dhrbot serve --demo

## Debian's Chromium and fonts for the browser tests (Playwright drives it; nothing is downloaded by Playwright).
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || [ ! -d /usr/share/fonts/truetype/noto ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core fonts-noto-ui-core >/dev/null) \
	  || echo "could not install chromium: browser tests will be skipped"; \
	fi

## Debian's PostgreSQL binaries, for the throwaway cluster the tests start when TEST_DATABASE_URL is not set.
postgres-deps:
	@if [ -z "$${TEST_DATABASE_URL:-}" ] && [ -z "$${PG_BINDIR:-}" ] && ! command -v initdb >/dev/null 2>&1 \
	    && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	  || echo "could not install postgresql: set TEST_DATABASE_URL to a server, or the PostgreSQL tests will fail"; \
	fi

## The whole suite, PostgreSQL included: TEST_DATABASE_URL if set, else a throwaway cluster for the run.
test: setup browser-deps postgres-deps
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot handoff tests scripts

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

rasa:
	bash scripts/rasa/setup.sh && bash scripts/rasa/train.sh && bash scripts/rasa/serve.sh

## Benchmarks (results go in docs/benchmarks.md; never timed tests).
bench-nlu: setup
	$(BIN)/python scripts/bench_nlu.py

## Webhooks per second against `dhrbot serve --workers 2` on PostgreSQL, and as ratios of a bare app
## that only checks the Twilio signature, measured in the same run (docs/benchmarks-channels.md).
bench-channels: setup
	$(BIN)/python scripts/bench_channels.py --workers 2 --rate-fraction 0.025 --seconds 20 --closed 4000 \
	  --database-url "$${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"

## The fault suite: the real server and workers on PostgreSQL under provider faults, kills and database
## drops; counts lost and duplicated messages per fault (a few minutes; not part of `make test`).
chaos: setup
	$(BIN)/python scripts/chaos.py --write docs/reliability.md \
	  --database-url "$${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"

clean:
	rm -rf $(VENV) var test-artifacts
