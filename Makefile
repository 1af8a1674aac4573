# GAN Book: set-up, build, serve, test and benchmark with one command each.
# Every target creates .venv and installs the project first when needed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP_FLAGS := -c constraints.txt
ADDR ?= 127.0.0.1:8000

export PYTHONHASHSEED := 0
# Material prints a banner about its successor on every build; it is not a warning.
export NO_MKDOCS_2_WARNING := 1

.PHONY: setup build serve test bench clean browser dist pdf

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip $(PIP_FLAGS) 2>&1 | grep -v "is ignored" || true
	$(BIN)/python -m pip install --quiet $(PIP_FLAGS) -e ".[docs,test]" 2>&1 | grep -v "is ignored" || true
	$(BIN)/python -c "import gan_book, torch, mkdocs_jupyter, markdown_exec, playwright"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	touch $(STAMP)

browser:
	bash scripts/ensure-chromium.sh

build: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

serve: $(STAMP)
	$(BIN)/mkdocs serve --strict --dev-addr $(ADDR)

test: $(STAMP) browser
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# The offline edition: build/gan-book-VERSION-offline.zip, which opens from file://.
dist: $(STAMP)
	$(BIN)/python scripts/make_dist.py --out build

# The whole book as build/gan-book-VERSION.pdf, printed by headless Chromium.
pdf: $(STAMP) browser
	$(BIN)/python scripts/make_pdf.py --out build

clean:
	rm -rf site .cache .pytest_cache .hypothesis
