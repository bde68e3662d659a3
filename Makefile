# Two commands on a fresh machine: `make run` (serve the API) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MODEL_DIR := model/artifacts/default
MODEL := $(MODEL_DIR)/metadata.json
CORPUS := $(wildcard training/data/*.csv training/scope/*.csv)
TRAIN_CODE := $(wildcard model/*.py training/*.py)
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: install run test test-fast bench image-test lint model-card clean help
.DEFAULT_GOAL := help

help:
	@echo "make run         set up (venv, package, default model) and serve the API on \$${HOST:-127.0.0.1}:\$${PORT:-8000}"
	@echo "make test        install test dependencies and run the whole test suite"
	@echo "make install     set up only (idempotent)"
	@echo "make bench       run the benchmarks and write benchmarks/results/"
	@echo "make image-test  build the container with podman, run it, probe it, remove it"
	@echo "make model-card  copy the default model's card into docs/"

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required ($(PYTHON))" >&2; exit 1; }
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) install --upgrade pip setuptools wheel

$(RUNTIME_STAMP): setup.cfg pyproject.toml | $(VENV)/bin/python
	@echo "installing the package into $(VENV)"
	@$(PIP) install -e '.[train]'
	@touch $@

# Rebuilt when missing or older than the corpus or the training code.
$(MODEL): $(RUNTIME_STAMP) $(CORPUS) $(TRAIN_CODE)
	@echo "training the default model into $(MODEL_DIR) (about 7 minutes on 2 cores)"
	@$(BIN)/framing-train --quiet --out $(MODEL_DIR)

install: $(RUNTIME_STAMP) $(MODEL)
	@:

run: install
	@echo "serving on http://$${HOST:-127.0.0.1}:$${PORT:-8000} (Ctrl-C to stop)"
	@exec $(BIN)/gunicorn -c gunicorn.conf.py

$(DEV_STAMP): $(RUNTIME_STAMP)
	@echo "installing test dependencies"
	@$(PIP) install -e '.[train,dev]'
	@touch $@

test: install $(DEV_STAMP)
	@bash scripts/install-system-deps.sh
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install $(DEV_STAMP)
	@$(BIN)/python -m pytest -m "not integration and not browser and not dask and not slow" $(PYTEST_ARGS)

bench: install $(DEV_STAMP)
	@$(PIP) install -e '.[train,dev,bench]' torch==2.13.0
	@$(BIN)/python -m benchmarks.run

image-test: install $(DEV_STAMP)
	@bash scripts/image-test.sh

lint: $(DEV_STAMP)
	@$(BIN)/ruff check model training service batch labeling tests benchmarks scripts

model-card: install
	@cp $(MODEL_DIR)/MODEL_CARD.md $(MODEL_DIR)/*.png docs/
	@echo "docs/MODEL_CARD.md updated from $(MODEL_DIR)"

clean:
	rm -rf $(VENV) $(MODEL_DIR) .pytest_cache .hypothesis test-artifacts *.egg-info
