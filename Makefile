# jupyter-ide: `make run` starts the IDE, `make test` runs the whole suite. Both set up what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8888
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
UI := labextension
HUB_PEERS := tests/hub
UI_OUT := jupyter_ide/static/ide/index.html
UI_SOURCES := $(shell find $(UI)/src $(UI)/public -type f 2>/dev/null) $(UI)/index.html $(UI)/vite.config.ts $(UI)/package.json
# The JupyterLab 4 plugin: its own npm package, built into the Python package (share/jupyter/labextensions).
LAB := $(UI)/jupyterlab
LAB_OUT := jupyter_ide/labextension/package.json
LAB_SOURCES := $(shell find $(LAB)/src $(LAB)/style -type f 2>/dev/null) $(LAB)/package.json $(LAB)/tsconfig.json $(LAB)/build.mjs

.PHONY: run test lint test-ui pytest bench build setup services clean images compose-up compose-down

run: setup
	@# Sandbox images when a Docker engine answers; without one, kernels run unsandboxed (and say so).
	@if docker info >/dev/null 2>&1; then $(BIN)/jupyter ide images build --offline || \
		echo "Sandbox images could not be built: sandboxed kernels will not start"; fi
	$(BIN)/jupyter ide --ip=127.0.0.1 --port=$(PORT) $(ALLOW_ROOT)

test: setup services lint test-ui pytest

setup: $(VENV)/.installed

build: $(UI_OUT) $(LAB_OUT)

services:
	scripts/services.sh

$(VENV)/.installed: pyproject.toml hatch_build.py $(UI_OUT) $(LAB_OUT)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q hatchling hatch-jupyter-builder editables
	$(BIN)/pip install -q --no-build-isolation -e ".[dev]"
	touch $@

$(UI)/node_modules/.installed: $(UI)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 20 or newer"; exit 1; }
	cd $(UI) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(LAB)/node_modules/.installed: $(LAB)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 20 or newer"; exit 1; }
	cd $(LAB) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(HUB_PEERS)/node_modules/.installed: $(HUB_PEERS)/package-lock.json
	cd $(HUB_PEERS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(UI_OUT): $(UI)/node_modules/.installed $(UI_SOURCES)
	cd $(UI) && npm run build

# pip install -e copies the built plugin into the venv's share/jupyter (so .installed depends on it).
$(LAB_OUT): $(LAB)/node_modules/.installed $(LAB_SOURCES)
	cd $(LAB) && npm run build
	touch $@

lint: setup $(UI)/node_modules/.installed $(LAB)/node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd $(UI) && npm run typecheck && npm run lint
	cd $(LAB) && npm run typecheck && npm run lint

test-ui: $(UI)/node_modules/.installed $(LAB)/node_modules/.installed
	cd $(UI) && npm test
	cd $(LAB) && npm test

# The sandbox images (built offline from Debian packages; reused when present and up to date).
images: setup services
	$(BIN)/jupyter ide images build --offline
	@# The hub users' image (JupyterLab + jupyter-ide) for the DockerSpawner suite; reused when current.
	$(BIN)/python -m jupyter_ide.kernels.images.userimage

pytest: setup services images $(HUB_PEERS)/node_modules/.installed
	mkdir -p test-output
	$(BIN)/python -m pytest -p no:cacheprovider

# The whole stack from deploy/docker-compose.yml (images built offline; secrets in deploy/.env).
compose-up: setup services images $(HUB_PEERS)/node_modules/.installed
	PYTHON=$(BIN)/python scripts/compose-up.sh

compose-down:
	scripts/compose-down.sh

bench: setup services
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(UI)/node_modules $(LAB)/node_modules $(LAB)/lib jupyter_ide/static/ide jupyter_ide/labextension test-output
