# Two commands a newcomer needs: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# torch is installed first and pinned: an unpinned torch (or one pulled in by transformers) is a
# multi-GB CUDA build; 2.13.0 is the CPU build these machines carry. Override with `make TORCH=...`.
TORCH ?= torch==2.13.0
DEMO := demo_out

.PHONY: demo test lint install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[models,dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vidcurate samples $(DEMO)/samples
	$(BIN)/vidcurate run recipes/default.yaml --input $(DEMO)/samples --output $(DEMO)/run --overwrite

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) $(DEMO)
