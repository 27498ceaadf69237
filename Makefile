# slotwise: the commands the README shows. `make help` lists them.

VENV := .venv
BIN := $(VENV)/bin
# Rewritten after every successful install: the venv is only reinstalled when
# the lock or pyproject.toml is newer than this file.
STAMP := $(VENV)/.installed
# ruff fails on a path that does not exist, so only name the ones that do.
LINT_PATHS := $(wildcard src tests bench)

.DEFAULT_GOAL := help
.PHONY: help run test lint bench stress load lock clean venv

help:
	@echo "make run    serve slotwise with its demo data on http://127.0.0.1:8000"
	@echo "make test   run the tests on SQLite, then on PostgreSQL"
	@echo "make lint   ruff (lint and format) and mypy"
	@echo "make bench  the speed figures"
	@echo "make stress the race proof: 64 clients, two server processes, SQLite then PostgreSQL"
	@echo "make load   the scale-out load test: two web servers, two workers, hundreds of customers"
	@echo "make lock   re-resolve requirements.lock from pyproject.toml"
	@echo "make clean  remove the virtualenv, caches and var/ (the local database)"

run: venv
	$(BIN)/slotwise run

# Chromium for the browser tests (tests/e2e): installed with apt-get if missing.
# Under CI=true a browser that cannot be had fails the run; elsewhere the
# browser tests are skipped with one message and the rest run.
test: venv
	@scripts/ensure-chromium || case "$${CI:-}" in \
		1|true|TRUE|True|yes) echo "CI=true needs /usr/bin/chromium for the browser tests" >&2; exit 1;; \
		*) echo "The browser tests will be skipped: no /usr/bin/chromium" >&2;; \
	esac
	@status=0; \
	$(BIN)/pytest || status=$$?; \
	SLOTWISE_TEST_DATABASE=postgres $(BIN)/pytest; pg=$$?; \
	if [ $$pg -ne 0 ] && [ $$pg -ne 5 ]; then status=$$pg; fi; \
	exit $$status

lint: venv
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

bench: venv
	$(BIN)/python bench/run.py

stress: venv
	$(BIN)/pytest -q -s tests/stress
	SLOTWISE_TEST_DATABASE=postgres $(BIN)/pytest -q -s tests/stress

load: venv
	$(BIN)/python bench/load.py

lock: venv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --universal \
		--python-version 3.12 --custom-compile-command "make lock" --quiet -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --universal \
		--python-version 3.12 --custom-compile-command "make lock" --quiet \
		--constraint requirements.lock -o requirements.production.lock

clean:
	rm -rf $(VENV) var build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find src tests -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -rf src/*.egg-info

# Finds a Python 3.12+ (or stops with find-python's one line). The venv is
# rebuilt if it no longer runs, or if PYTHON names another interpreter; then
# the install runs if the lock or pyproject.toml changed since the last one.
venv:
	$(eval BASE_PYTHON := $(shell PYTHON='$(PYTHON)' scripts/find-python 2>&1))
	$(if $(filter /%,$(BASE_PYTHON)),,$(error $(BASE_PYTHON)))
	@if [ -e $(VENV) ]; then \
		wanted=$$([ -n "$(PYTHON)" ] && "$(BASE_PYTHON)" -c 'import sys; print(sys.prefix)'); \
		$(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 12) or sys.argv[1] not in ("", sys.base_prefix))' \
			"$$wanted" 2>/dev/null || { echo "Rebuilding $(VENV) with $(BASE_PYTHON)"; rm -rf $(VENV); }; \
	fi
	@$(MAKE) --no-print-directory install-if-changed BASE_PYTHON="$(BASE_PYTHON)"

.PHONY: install-if-changed
install-if-changed: $(STAMP)
	@:

# caldav needs niquests, which needs urllib3-future. That fork's wheel writes
# itself over the `urllib3` package (a .pth hook run at every start), so
# requests (anymail, stripe) would run on the fork. Built from its sdist with
# URLLIB3_NO_OVERRIDE set, it installs as `urllib3_future` only, beside the real
# urllib3; `make lock` records the sdist's hash with the wheels'. If the wheel
# ever got into the venv (a plain `pip install caldav`), both packages are
# removed first; the install ends by checking that urllib3 is urllib3.
U3F_HOOK = $(wildcard $(VENV)/lib/python*/site-packages/urllib3_future.pth)
$(STAMP): requirements.lock pyproject.toml
	@[ -x $(BIN)/python ] || { echo "Creating $(VENV) with $(BASE_PYTHON)"; "$(BASE_PYTHON)" -m venv $(VENV); }
	$(if $(U3F_HOOK),$(BIN)/python -m pip uninstall --quiet -y urllib3-future urllib3 \
		&& rm -rf $(dir $(U3F_HOOK))urllib3)
	URLLIB3_NO_OVERRIDE=1 $(BIN)/python -m pip install --quiet --disable-pip-version-check \
		--no-binary urllib3-future --require-hashes -r requirements.lock
	@$(BIN)/python -c 'import sys, urllib3; from importlib.metadata import version; \
		sys.exit(urllib3.__version__ != version("urllib3") and \
		"urllib3-future replaced urllib3: is a wheel of it cached by pip without URLLIB3_NO_OVERRIDE?")'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@
