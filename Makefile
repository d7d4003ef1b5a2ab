# The README's two commands: `make run` (install, then run Atlas on its embedded defaults)
# and `make test` (install, then type-check and run the whole suite). Both work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run demo test lint bench browser clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/atlas serve

demo: install
	$(BIN)/atlas demo

test: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider -o addopts=""

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/python -m mypy

bench: install
	$(BIN)/atlas bench

# The system Chromium for the blotter's end-to-end test (skipped without it). Debian's package:
# Playwright's own browser download is never used.
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
