# planet-profiles — two commands on a fresh machine (Python 3.10+, Node >= 20.18 and npm):
#   make demo    the whole pipeline end to end against the local OIDC server
#   make test    the test suite (unit + integration with real sops, copier, pre-commit, OIDC server) and the docs build

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed-stamp
NODE_STAMP := devserver/node_modules/.installed-stamp
PIP    := $(PY) -m pip --quiet --disable-pip-version-check

# What users install: the wheel, and venvs made from it (never editable). The wheelhouse holds the wheels of
# every dependency (and of planet==3.7.0, Planet's SDK), downloaded (or built, for sdists) once; the venvs
# and the tests install from it offline.
VERSION    := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
WHEEL      := dist/planet_profiles-$(VERSION)-py3-none-any.whl
# (file names of the templates hold spaces and braces: the wheel follows a checksum of its sources)
SOURCES_SUM := $(shell find pyproject.toml README.md copier.yml planet_profiles schema templates toplevel -type f -not -path '*/__pycache__/*' \
  -exec cksum {} + | sort | cksum | cut -d' ' -f1)
WHEEL_BUILT := dist/.built-$(SOURCES_SUM)
WHEELHOUSE := .wheelhouse
WHEELHOUSE_STAMP := $(WHEELHOUSE)/.stamp
PLANET_SDK := planet==3.7.0
SDK_VENV   := .venv-sdk
SDK_STAMP  := $(SDK_VENV)/.stamp
WHEEL_VENV := .venv-wheel
WHEEL_STAMP := $(WHEEL_VENV)/.stamp
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.stamp
OFFLINE_PIP = $(PIP) --python $(1)/bin/python install --no-index --find-links $(WHEELHOUSE)

.PHONY: install wheel-venvs demo docs test test-unit lint typecheck schema check-schema bench soak clean redis-server

install: $(STAMP) $(NODE_STAMP) redis-server

# The shared token cache's tests and bench P9 start a real Redis 7 (Debian's `redis-server`), installed here
# when it is not on PATH (as root, or through sudo where there is one).
redis-server:
	@command -v redis-server >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server; }

# make test's prerequisites beyond `install`: the wheel, a fresh venv with the wheel (`[all]` + pre-commit)
# for the smoke test, and a venv with planet==3.7.0 and the wheel for the SDK tests (tests/test_wheel.py,
# tests/test_planet_sdk.py, tests/test_coexistence.py). Each is rebuilt when the wheel changes.
wheel-venvs: $(WHEEL_STAMP) $(SDK_STAMP)

$(WHEEL_BUILT): | $(STAMP)
	rm -f dist/planet_profiles-*.whl dist/.built-*
	$(PIP) wheel --no-deps --wheel-dir dist .
	touch $@

$(WHEELHOUSE_STAMP): pyproject.toml | $(WHEEL_BUILT)
	$(PIP) wheel --wheel-dir $(WHEELHOUSE) '$(WHEEL)[all]' pre-commit '$(PLANET_SDK)'
	rm -f $(WHEELHOUSE)/planet_profiles-*.whl
	touch $@

$(WHEEL_STAMP): $(WHEEL_BUILT) $(WHEELHOUSE_STAMP)
	rm -rf $(WHEEL_VENV) && $(PYTHON) -m venv --without-pip $(WHEEL_VENV)
	$(call OFFLINE_PIP,$(WHEEL_VENV)) '$(WHEEL)[all]' pre-commit
	touch $@

# `make bench` measures ours from the wheel (`[all]`, nothing else), as users install it: an editable install's
# finder costs milliseconds at every start.
$(BENCH_STAMP): $(WHEEL_BUILT) $(WHEELHOUSE_STAMP)
	rm -rf $(BENCH_VENV) && $(PYTHON) -m venv --without-pip $(BENCH_VENV)
	$(call OFFLINE_PIP,$(BENCH_VENV)) '$(WHEEL)[all]'
	touch $@

$(SDK_STAMP): $(WHEEL_BUILT) $(WHEELHOUSE_STAMP)
	test -x $(SDK_VENV)/bin/python || $(PYTHON) -m venv --without-pip $(SDK_VENV)
	$(call OFFLINE_PIP,$(SDK_VENV)) '$(PLANET_SDK)'
	$(call OFFLINE_PIP,$(SDK_VENV)) --force-reinstall --no-deps '$(WHEEL)'
	$(call OFFLINE_PIP,$(SDK_VENV)) '$(WHEEL)[all]'
	touch $@

$(STAMP): pyproject.toml toplevel/_planet_profiles_facade.py toplevel/planet_profiles_facade.pth
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

#   make docs    the documentation site (mkdocs.yml, docs/) into site/; --strict: a broken link, a missing snippet
#                or an API reference that does not resolve fails the build (and so `make test`)
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

test: install wheel-venvs $(PLANET_AUTH_STAMP) docs
	$(PY) -m pytest -q

#   make test-unit   the tests that need nothing beside them (no dev server, sops, copier, git, pre-commit,
#                    wheel venv), in seconds: markers `integration`, `wheel`, `slow` and hypothesis's
#                    `hypothesis` (the property tests) are left out; tests/marker_guard.py keeps the markers right
test-unit: install
	$(PY) -m pytest -q -m "not integration and not wheel and not slow and not hypothesis"

#   make bench   side by side with planet-auth 2.3.2 (installs it into bench/.venv-planet-auth/); ours from the
#                wheel, in .venv-bench/
bench: install $(BENCH_STAMP) $(PLANET_AUTH_STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

#   make soak    long crash-safety / 8-process refresh / fuzz runs (~10 min) with a summary table
soak: install
	$(PY) bench/soak.py

lint: install
	$(BIN)/ruff check planet_profiles toplevel tests devserver/tests examples docs

typecheck: install
	$(BIN)/mypy

schema: install
	$(PY) -m planet_profiles._schema

check-schema: install
	$(PY) -m planet_profiles._schema --check

clean:
	rm -rf $(VENV) $(SDK_VENV) $(WHEEL_VENV) $(BENCH_VENV) $(WHEELHOUSE) dist devserver/node_modules .demo site .pytest_cache \
	  .mypy_cache .ruff_cache
