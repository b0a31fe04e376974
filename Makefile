# Two commands: `make book` builds the site, `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
JB     := $(VENV)/bin/jupyter-book
CHROMIUM ?= /usr/bin/chromium

# Offline copies of the data sets: used when ../shared/data sits beside the repo.
SHARED_DATA := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED_DATA)),)
export CFS_DATA_DIR ?= $(SHARED_DATA)
endif
export CHROMIUM
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# One BLAS/OpenMP/torch thread wherever notebooks run, so that nbval and the
# site build compute the very same numbers (thread count changes the rounding
# of training and UMAP, and the hidden checks assert measured figures).
ONE_THREAD := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: help book test site-test chromium bench clean

help:
	@echo "make book   build the HTML site into _build/html"
	@echo "make test   run unit tests, doctests, every notebook (nbval), the site build and the browser test"
	@echo "make bench  time lib against scikit-learn"

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

book: $(VENV)/.installed
	$(ONE_THREAD) $(JB) build -W -n --keep-going .
	@echo
	@echo "Open file://$(CURDIR)/_build/html/index.html"

# The browser test drives Debian's Chromium through Playwright (never `playwright install`).
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser test needs Chromium at $(CHROMIUM). Install it (Debian/Ubuntu: sudo apt-get install chromium) or run make test CHROMIUM=/path/to/chromium"; exit 1; \
	  fi; \
	fi

# From scratch: the execution cache does not notice changes in lib/.
test: $(VENV)/.installed chromium
	rm -rf _build
	@# Two workers, one notebook each, one thread per worker: OpenBLAS threads
	@# that compete for 2 cores slow small products tenfold.
	$(ONE_THREAD) $(PY) -m pytest -n 2 --dist loadfile --nbval-lax --doctest-modules -m "not site" lib tests book
	$(ONE_THREAD) $(JB) build -W -n --keep-going .
	$(PY) -m pytest -m site tests

bench: $(VENV)/.installed
	$(PY) benchmarks/kmeans_vs_sklearn.py

clean:
	rm -rf _build .pytest_cache .hypothesis
