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

# `make run` also opens the other interfaces on loopback (README "Every client in its own
# language"): gRPC on 50051, FIX 4.4 on 9878, the Binance dialect on 8001. Move one with
# `make run FIX_PORT=9879`, switch it off with an empty value: `make run FIX_PORT=`.
GRPC_PORT    ?= 50051
FIX_PORT     ?= 9878
BINANCE_PORT ?= 8001

run: install
	$(BIN)/atlas serve $(if $(GRPC_PORT),--grpc-port $(GRPC_PORT)) \
	    $(if $(FIX_PORT),--fix-port $(FIX_PORT)) $(if $(BINANCE_PORT),--binance-port $(BINANCE_PORT))

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
