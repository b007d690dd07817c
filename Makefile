# The two commands: `make run` (set up + run on embedded defaults) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint bench clean

setup: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing dependencies into $(VENV) ..."
	@$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

run: setup
	$(BIN)/python -m app run $(ARGS)

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
	@out="$$($(BIN)/radon cc -n C app jobs)"; if [ -n "$$out" ]; then echo "too complex (radon grade C+):"; echo "$$out"; exit 1; fi

bench: setup
	$(BIN)/python bench/api.py

clean:
	rm -rf $(VENV) .data .pytest_cache
