# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
REQUIREMENTS := requirements.txt requirements-dev.txt
STAMP := $(VENV)/.installed-$(shell cat $(REQUIREMENTS) | md5sum | cut -c1-12)

.PHONY: install run test bench lint format messages

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
	$(PY) -m pytest -n 2 --dist loadfile --no-loadscope-reorder -q --durations=15

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

# Message catalogues (locale/, README's Languages): every language of settings.LANGUAGES
# gathers the code's new strings, then compiles. Needs GNU gettext; the .mo files are
# committed so that running needs no gettext. tests/i18n fails while a string is untranslated.
LOCALES := en fr de es pt_BR ja ar
messages: install
	DEBUG=true $(PY) manage.py makemessages $(foreach locale,$(LOCALES),-l $(locale)) \
		--ignore="tests/*" --ignore="bench/*" --add-location=file --no-obsolete
	for locale in $(LOCALES); do \
		msgfmt --check -o locale/$$locale/LC_MESSAGES/django.mo locale/$$locale/LC_MESSAGES/django.po; \
	done
