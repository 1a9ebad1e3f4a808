# planet-profiles — two commands on a fresh machine (Python 3.10+, Node >= 20.18 and npm):
#   make demo    the whole pipeline end to end against the local OIDC server
#   make test    the test suite (unit + integration with real sops, copier, pre-commit, OIDC server)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed-stamp
NODE_STAMP := devserver/node_modules/.installed-stamp

.PHONY: install demo test lint typecheck schema check-schema bench soak clean

install: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

$(NODE_STAMP): devserver/package.json devserver/package-lock.json
	cd devserver && npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: install
	$(PY) examples/demo.py

# planet-auth 2.3.2 from PyPI in its own venv, for the differential tests (tests/test_*_parity.py) and `make bench`
PLANET_AUTH_STAMP := bench/.venv-planet-auth/.installed-stamp

$(PLANET_AUTH_STAMP): bench/_harness.py $(STAMP)
	$(PY) -c "import sys; sys.path.insert(0, 'bench'); import _harness; _harness.planet_auth()"
	touch $@

test: install $(PLANET_AUTH_STAMP)
	$(PY) -m pytest -q

#   make bench   side by side with planet-auth 2.3.2 (installs it into bench/.venv-planet-auth/)
bench: install
	$(PY) bench/run.py $(BENCH_ARGS)

#   make soak    long crash-safety / 8-process refresh / fuzz runs (~10 min) with a summary table
soak: install
	$(PY) bench/soak.py

lint: install
	$(BIN)/ruff check planet_profiles planet_auth_utils tests examples

typecheck: install
	$(BIN)/mypy

schema: install
	$(PY) -m planet_profiles._schema schema

check-schema: install
	$(PY) -m planet_profiles._schema --check schema

clean:
	rm -rf $(VENV) devserver/node_modules .demo .pytest_cache .mypy_cache .ruff_cache
