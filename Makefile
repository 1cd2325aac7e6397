# Two commands on a fresh machine: `make serve` (the voice server on the demo corpus) and
# `make test`. Both run the idempotent set-up first.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup serve test test-fast lint format bench

setup:
	bash scripts/setup.sh

# SAMYU_GEMMA=0 (no EmbeddingGemma download): the demo collection uses the fast USE embedder.
serve: setup
	$(BIN)/samyu kb ingest knowledge_base/demo_corpus --collection demo $(if $(filter 0,$(SAMYU_GEMMA)),--embedder use-multilingual,)
	$(BIN)/samyu serve

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# What a developer runs after each change: no model is loaded (tests/fakes.py), < 2 min.
test-fast: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not slow" -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done
