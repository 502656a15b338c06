# Two commands matter:  `make run`  (the demo on http://127.0.0.1:8080)  and  `make test`.
# Everything lands in this directory: .tools/ (uv), .venv/ (the locked dependencies), var/ (data).

PYTHON     ?= python3
UV_VERSION := 0.13.9
UV         := .tools/bin/uv
HTTP       ?= 127.0.0.1:8080
SIP        ?= 127.0.0.1:5060
DATA       ?= var

.PHONY: run serve test lint typecheck format system-deps install install-dev clean

$(UV):
	bash scripts/system-deps.sh run
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

install: $(UV)
	$(UV) sync --frozen --no-default-groups --inexact

install-dev: $(UV)
	$(UV) sync --frozen

## the product: embedded SQLite, demo tenant, web UI + API and SIP listening
run: install
	bash scripts/system-deps.sh run
	.venv/bin/hotline demo --data $(DATA) --http $(HTTP) --sip $(SIP)

serve: install
	bash scripts/system-deps.sh run
	.venv/bin/hotline serve --data $(DATA) --http $(HTTP) --sip $(SIP)

## the whole suite: system tools, lint, types, tests (SQLite and PostgreSQL)
test: install-dev
	bash scripts/system-deps.sh test
	bash scripts/test.sh

lint: install-dev
	.venv/bin/ruff check src tests bench
	.venv/bin/ruff format --check src tests bench

typecheck: install-dev
	.venv/bin/mypy

format: install-dev
	.venv/bin/ruff format src tests bench
	.venv/bin/ruff check --fix src tests bench

clean:
	rm -rf .venv .tools .mypy_cache .ruff_cache .pytest_cache .hypothesis
