# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
REQUIREMENTS := requirements.txt requirements-dev.txt
STAMP := $(VENV)/.installed-$(shell cat $(REQUIREMENTS) | md5sum | cut -c1-12)

.PHONY: install run test bench lint format

# Development (run and test) installs both locks; requirements-dev.txt repeats every runtime
# pin at the same version and hashes, so one pip call takes both (production installs
# requirements.txt alone). pgserver, the embedded PostgreSQL of `make run`, is in the dev lock.
$(STAMP): $(REQUIREMENTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes $(foreach file,$(REQUIREMENTS),-r $(file))
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) bin/run.py

test: install
	bash bin/test-services.sh
	$(PY) -m pytest -n 2 --dist loadfile -q

# Every benchmark script under bench/ (harness.py is their shared library), one after another.
bench: install
	@set -e; for script in $(filter-out bench/harness.py,$(wildcard bench/*.py)); do \
		echo "== $$script"; $(PY) $$script; \
	done

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
