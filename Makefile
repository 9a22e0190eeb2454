# Two commands on a fresh machine: `make run` and `make test`.
# uv installs exactly the locked versions (uv.lock) into .venv.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
RUN := $(UV) run --frozen --no-sync

.PHONY: run test test-fast bench lint migrate install tools clean

install: .venv/.installed

.venv/.installed: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen
	@touch $@

run: install  ## the embedded mode on http://127.0.0.1:8000 (RECOUP_PORT)
	$(RUN) recoup run

# Debian packages some tests need: docker-compose validates docker-compose.yml (there is
# no Docker engine here); the fonts are those the image prints statements with.
DEBIAN_TOOLS := docker-compose fonts-dejavu-core fonts-wqy-microhei
tools:
	@missing=$$(for p in $(DEBIAN_TOOLS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	[ -z "$$missing" ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && (apt-get update -qq && apt-get install -y -qq $$missing >/dev/null) \
	  || echo "not installed: $$missing; their tests will skip (or fail under CI)"; }

test: install tools  ## every test; CI=true turns "server not reachable" skips into failures
	$(RUN) ruff check .
	$(RUN) lint-imports
	$(RUN) pytest

test-fast: install  ## unit tests only
	$(RUN) pytest tests/unit

# The credit check's load comes from wrk, a process of its own (Debian's package).
bench: install  ## benchmarks, printed with ratios to a baseline measured in the same run
	@$(MAKE) --no-print-directory tools DEBIAN_TOOLS=wrk
	$(RUN) python -m bench

lint: install
	$(RUN) ruff check .
	$(RUN) lint-imports

migrate: install
	$(RUN) recoup migrate

clean:
	rm -rf .venv var .pytest_cache
