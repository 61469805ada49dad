# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP_FLAGS := --quiet --disable-pip-version-check
STAGE ?= dev

.PHONY: install run test fuzz bench package deploy clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required (Chalice takes the Lambda runtime from it)"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) -r requirements-dev.txt 2>&1 | grep -v "is ignored: it is neither" || true
	$(PY) -c 'import chalice, moto, aws_lambda_powertools, pydantic, jwt'
	@touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m infra.local up $(ARGS)

test: install
	$(PY) -m pytest -n 2 --dist loadfile -q tests

# The property-based tests of every webhook parser and signature check, long: 20,000 examples a
# parser (make test runs the same tests with a few hundred).
fuzz: install
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -n 2 -q tests/fuzz --hypothesis-show-statistics

# All the figures; `make bench ARGS=cost` (or coldstart) prints one of them in a few lines.
bench: install
	$(PY) -m bench $(ARGS)

package: install
	$(PY) -m infra.package build/$(STAGE) --stage $(STAGE)

deploy: install
	$(PY) -m infra.deploy --stage $(STAGE)

clean:
	rm -rf build .pytest_cache .local-stack
