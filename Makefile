# policyqa — `make run` and `make test` each work as the only command on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
APT_PACKAGES := chromium fonts-noto-cjk

.PHONY: run test install system-deps lint unit integration e2e eval bench clean screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Debian packages the browser tests need (chromium, CJK fonts); installed only when missing.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing:$$missing"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

## Ingest the bundled document, then start the web UI on http://127.0.0.1:7860
run: install
	$(VENV)/bin/policyqa ingest
	$(VENV)/bin/policyqa ui

lint: install
	$(VENV)/bin/ruff check policyqa rag vectorstore prompts ui eval tests
	$(VENV)/bin/mypy policyqa rag vectorstore prompts ui eval

## Everything: lint, types, unit, integration (real Chroma server, local OpenAI-compatible server), browser tests.
test: install system-deps lint
	$(PY) -m pytest -p no:cacheprovider

## Fast tests that need nothing but the code.
unit: install
	$(PY) -m pytest -p no:cacheprovider -m unit

## Tests against real local services (chroma run, an OpenAI-compatible HTTP server, the Gradio app); they start them.
integration: install
	$(PY) -m pytest -p no:cacheprovider -m integration

## Browser tests: Debian chromium driven by Playwright.
e2e: install system-deps
	$(PY) -m pytest -p no:cacheprovider -m e2e

eval: install
	$(VENV)/bin/policyqa ingest -q
	$(VENV)/bin/policyqa eval --retrieval
	$(VENV)/bin/policyqa eval --backend extractive --check

## README screenshots (docs/ui-*.png) from the offline app in Debian's chromium; `make test` never writes them.
screenshots: install system-deps
	$(PY) -m tests.e2e.screenshots docs

bench: install
	$(VENV)/bin/policyqa bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
