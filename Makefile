# Two commands: `make book` builds the site, `make test` runs every test.
# Also: `make test-fast` (unit tests, doctests, lint), `make lab` (the chapters in
# JupyterLab), `make assignments` (student notebooks and autograders), `make bench`
# (lib against its peers), `make lock` (requirements.txt).
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
# Python caches the byte code of every module it imports (pip installs without
# it, below). Where the environment forbids that (PYTHONDONTWRITEBYTECODE, set on
# some machines), every process - each notebook kernel, each graded submission,
# each pytest worker - compiled torch, SciPy, numba and the rest from source
# again (2.7 s of compile() in a process's first epoch of training alone).
unexport PYTHONDONTWRITEBYTECODE
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# One BLAS/OpenMP/torch thread wherever notebooks run, so that nbval and the
# site build compute the very same numbers (thread count changes the rounding
# of training and UMAP, and the hidden checks assert measured figures).
ONE_THREAD := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

# book/_ext/nbcache.py: the pytest plugin that stores nbval's run of each notebook
# in the execution cache, and the Sphinx extension that empties that cache when
# lib/ changes. On a failure, REPORTS prints which notebook and cell failed.
NBCACHE := PYTHONPATH=book/_ext
REPORTS := $(PY) book/_ext/nbcache.py reports

.PHONY: help book test test-fast lint lab assignments lock chromium bench clean

help:
	@echo "make book       build the HTML site into _build/html (re-executes a notebook"
	@echo "                only when it or lib/ changed)"
	@echo "make test       everything CI runs: lint, unit tests, doctests, every notebook"
	@echo "                once (nbval), the site build from that run, the browser tests"
	@echo "make test-fast  lint, unit tests and doctests: no notebooks, no slow tests"
	@echo "make lab        open the chapters in JupyterLab (installs first if needed)"
	@echo "make assignments  student notebooks, solutions and autograder zips of every"
	@echo "                exercise page, in _build/assignments (see its README.md)"
	@echo "make bench      time lib against scikit-learn, sklearnex and faiss, and each"
	@echo "                autograder (installs benchmarks/requirements.txt first)"
	@echo "make lock       regenerate requirements.txt from pyproject.toml"

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# --no-compile: pip would byte-compile every file of every package (half of a
	@# 75 s install); Python compiles the modules it imports when it first does.
	$(PY) -m pip install --quiet --no-compile -r requirements.txt
	touch $@

book: $(VENV)/.installed
	$(ONE_THREAD) $(JB) build -W -n --keep-going . || { $(REPORTS); exit 1; }
	@echo
	@echo "Open file://$(CURDIR)/_build/html/index.html"

# For learners: the chapters in JupyterLab, with the one thread the site's numbers
# were computed with. Saving writes outputs into book/: clear them before a commit.
lab: $(VENV)/.installed
	$(ONE_THREAD) $(VENV)/bin/jupyter lab --ServerApp.root_dir=book \
	  $(if $(filter 0,$(shell id -u)),--ServerApp.allow_root=True)

# For instructors: otter assign on every exercise page (book/_ext/assignments.py).
assignments: $(VENV)/.installed
	$(PY) book/_ext/assignments.py
	@echo
	@echo "What to hand out and what to upload: _build/assignments/README.md"

# The browser test drives Debian's Chromium through Playwright (never `playwright install`).
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser test needs Chromium at $(CHROMIUM). Install it (Debian/Ubuntu: sudo apt-get install chromium) or run make test CHROMIUM=/path/to/chromium"; exit 1; \
	  fi; \
	fi

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test-fast: lint
	$(ONE_THREAD) $(PY) -m pytest -n 2 --doctest-modules -m "not site and not lab and not slow" lib tests

# Each notebook executes once, under nbval; the nbcache plugin stores that run in
# the execution cache, and the build renders it: CFS_REQUIRE_CACHED=1 makes the
# build fail rather than execute a notebook a second time.
test: lint chromium
	@# Two workers, one notebook each, one thread per worker: OpenBLAS threads
	@# that compete for 2 cores slow small products tenfold. The deep-clustering
	@# chapter and its seed study train networks for minutes: they start first, one
	@# on each worker (xdist would otherwise start the files with the most tests
	@# first), and the workers then share everything else. --durations prints the
	@# 25 slowest tests and notebook cells, where the 15-minute budget (#15) is lost.
	@# The two deep pages train the same autoencoders for seeds 0 to 2: with
	@# CFS_MEMO_DIR the second to ask loads the first one's result (lib/_memo.py).
	@# Emptied first, so that every result is computed in this run.
	rm -rf _build/memo
	$(ONE_THREAD) CFS_MEMO_DIR=$(CURDIR)/_build/memo $(NBCACHE) \
	  $(PY) -m pytest -n 2 --dist loadfile --no-loadscope-reorder \
	  -p nbcache --nbval-lax --nb-first deep_clustering \
	  --nb-first deep_clustering_seeds --doctest-modules --durations=25 \
	  -m "not site and not lab" lib tests book \
	  || { $(REPORTS); exit 1; }
	@# The JupyterLab test needs no site: it runs beside the build (which uses one
	@# core), and its report follows the build's. Then the site's browser test.
	$(PY) -m pytest -m lab tests > _build/lab-test.log 2>&1 & lab=$$!; \
	if ! $(ONE_THREAD) CFS_REQUIRE_CACHED=1 $(JB) build -W -n --keep-going .; then \
	  kill -INT $$lab 2>/dev/null; wait $$lab || true; $(REPORTS); exit 1; \
	fi; \
	if ! wait $$lab; then cat _build/lab-test.log; exit 1; fi; \
	cat _build/lab-test.log
	$(PY) -m pytest -n 2 -m site tests

# requirements.txt is the exact lock of pyproject.toml's [dev] extra. pip-compile
# keeps the pins already there (never --upgrade blindly: the book's asserted numbers
# depend on them) and adds what a change in pyproject.toml needs.
lock: $(VENV)/.installed
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --extra=dev \
	  --strip-extras --no-emit-index-url --no-emit-find-links \
	  --unsafe-package=clustering-from-scratch --output-file=requirements.txt pyproject.toml
	@# The CPU wheel on this machine resolves as 2.13.0+cpu; the plain pin installs
	@# anywhere, and pip still takes the local CPU build here.
	sed -i 's/^torch==2\.13\.0+cpu$$/torch==2.13.0/' requirements.txt
	printf '\n# Added by make lock: lib itself, editable, so that the chapters import it.\n-e .\n' \
	  >> requirements.txt
	@# A CUDA build of torch (several GB) must never enter the lock.
	! grep -n -E '^(nvidia-|triton)' requirements.txt

# The peers (faiss, scikit-learn-intelex) are benchmark-only: never in requirements.txt.
$(VENV)/.bench-installed: benchmarks/requirements.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r benchmarks/requirements.txt
	touch $@

bench: $(VENV)/.bench-installed
	$(PY) benchmarks/kmeans_vs_sklearn.py
	$(PY) benchmarks/kmeans_peers.py
	$(PY) benchmarks/autograder_time.py

clean:
	rm -rf _build .pytest_cache .hypothesis
