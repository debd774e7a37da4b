# PSCC CAD — two commands: `make run` (the demo center) and `make test` (the whole suite).
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
VPY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: install run test test-fast bench clean lock

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock
	$(PY) -m venv $(VENV)
	$(VPY) -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

run: install
	$(VPY) -m pscc.devrun

test: install
	$(VPY) -m pscc.embedded run -- $(VPY) -m pytest $(PYTEST_ARGS)

bench: install
	$(VPY) -m pscc.embedded run -- $(VPY) -m bench

lock:
	$(VPY) -m pip install --quiet uv && $(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf var staticfiles
