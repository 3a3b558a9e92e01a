# The template's own tasks. Two matter on a fresh machine: `make demo` and `make test`.
.DEFAULT_GOAL := help
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
BUILD := build

.PHONY: help venv demo test test-fast test-slow lint lock clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

venv: $(VENV)/.installed ## Create .venv with the template's pinned test tools (bootstraps uv from PyPI)

$(VENV)/.installed: requirements-dev.lock
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/uv pip install --quiet --python $(PY) -r requirements-dev.lock
	@touch $@

demo: venv ## Bake a default project into build/, install it and run its lifecycle end to end
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m scripts.demo --build $(BUILD)

test: venv lint test-fast test-slow ## Lint the template, then the fast and the slow tier

lint: venv ## Lint the template's own Python (tests, hooks, scripts)
	$(VENV)/bin/ruff check tests scripts hooks
	$(VENV)/bin/ruff format --check tests scripts hooks

test-fast: venv ## Bake every combination and check the output (seconds)
	$(PY) -m pytest -m "not slow" -n 2

# Two workers, one xdist group (a shared project) each at a time, heaviest group first (tests/conftest.py); each
# slow test's seconds are printed as it finishes and again, slowest first, at the end.
test-slow: venv ## Install baked projects and run their checks and lifecycle (minutes)
	$(PY) -m pytest -m slow -n 2 --dist loadgroup --no-loadscope-reorder

lock: venv ## Re-resolve both locks, then the hook's list of the lock's import names (needs the network)
	$(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --extra dev --no-annotate pyproject.toml -o requirements-dev.lock
	$(PY) scripts/lock_project.py
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) scripts/locked_imports.py

clean: ## Remove build/ and caches
	rm -rf $(BUILD) .pytest_cache .ruff_cache
