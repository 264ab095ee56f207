# motcua: `make run` and `make test` set up everything they need on a fresh machine.
VENV    ?= .venv
PY      := $(VENV)/bin/python
PYTHON  ?= python3
PORT    ?= 5000
STAMP   := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
ASSETS  := web/static/css/app.css
MO      := web/translations/en/LC_MESSAGES/messages.mo

.PHONY: install assets run test test-fast validate bench clean

install: $(STAMP) $(NODE_STAMP) $(ASSETS) $(MO)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(ASSETS): $(NODE_STAMP) scripts/build_assets.sh $(wildcard web/assets/*.scss)
	bash scripts/build_assets.sh

$(MO): web/translations/en/LC_MESSAGES/messages.po $(STAMP)
	$(VENV)/bin/pybabel compile --use-fuzzy -d web/translations >/dev/null

assets: $(NODE_STAMP)
	bash scripts/build_assets.sh

run: install
	$(VENV)/bin/motcua setup
	PORT=$(PORT) $(VENV)/bin/motcua serve

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not browser"

validate: $(STAMP)
	$(VENV)/bin/motcua validate

clean:
	rm -rf $(VENV) node_modules web/static/vendor $(ASSETS) $(MO) instance test-results

# engine (SQLite) → web (gunicorn + PostgreSQL) → data scale (PostgreSQL) → where a step's and a web journey's
# time goes (pyinstrument) → each goal against its figure; figures and verdicts merged into benchmarks/results.json
bench: install
	rm -f benchmarks/results.json
	$(PY) benchmarks/engine_bench.py
	$(PY) benchmarks/web_bench.py
	$(PY) benchmarks/scale_bench.py
	$(PY) benchmarks/profile_step.py
	$(PY) benchmarks/profile_web.py
	$(PY) benchmarks/goals.py
