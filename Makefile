# Two commands do the set-up: `make run` (Odoo with the addon and demo data on a
# private PostgreSQL) and `make test` (everything, on a throw-away cluster).
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
ADDON_CODE := models controllers wizard tests booking_feed migrations __init__.py __manifest__.py

.PHONY: run stop test test-pythons pot lint bench bench-load clean

$(VENV)/.installed: requirements.txt requirements-dev.txt test-requirements.txt booking_feed/tests/requirements.txt scripts/bootstrap_venv.py
	$(PYTHON) scripts/bootstrap_venv.py
	touch $@

run: $(VENV)/.installed
	$(VPY) scripts/serve.py start

stop:
	@if [ -x $(VPY) ]; then $(VPY) scripts/serve.py stop; fi

test: $(VENV)/.installed
	$(VPY) scripts/run_tests.py $(ARGS)

# The Odoo-free suite on every Python 3.10-3.13 found here, the system's included (CI runs it).
test-pythons: $(VENV)/.installed
	$(VPY) scripts/test_pythons.py

# Translators' template, exported by Odoo itself (see scripts/export_pot.py).
pot: $(VENV)/.installed
	$(VPY) scripts/export_pot.py

lint: $(VENV)/.installed
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .
	$(VPY) scripts/check_size.py
	@# OCA's pylint-odoo configuration for 19.0: the mandatory checks, then all of them.
	$(VPY) -m pylint --rcfile=.pylintrc-mandatory $(ADDON_CODE)
	$(VPY) -m pylint --rcfile=.pylintrc $(ADDON_CODE)
	$(VPY) scripts/lint_oca.py

bench: $(VENV)/.installed
	$(VPY) bench/run.py $(ARGS)
	$(VPY) bench/push.py
	$(VPY) bench/freebusy.py

bench-load: $(VENV)/.installed
	$(VPY) bench/load.py $(ARGS)

clean:
	@if [ -x $(VPY) ]; then $(VPY) scripts/serve.py clean; fi
	rm -rf $(VENV) build .local .cache
