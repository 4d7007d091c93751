# recasketch — every result in this repo is regenerated from here.
# `make` alone lists the targets. Each target builds .venv from the pinned lock when it is missing.

.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

## Data for `make results`: sample | sketchfab | synthetic-full | a folder of your own
DATA ?= synthetic-full
## Budget for `make results`: full (every figure at full size, in hours) | ci (a quick run) | posts (post 2's exact searches)
BUDGET ?= full
## Calls for `make bench-search`
CALLS ?= 30
## Rounds of `make bench-dask`
REPEAT ?= 2
## Where grids and searches run: empty (the default, a Dask LocalCluster here) | processes | tcp://host:8786
SCHEDULER ?=
ifneq ($(strip $(SCHEDULER)),)
export RECASKETCH_SCHEDULER := $(SCHEDULER)
endif
## Calls of the calibration search for `make calibrate` (resumes from data/calibration/search.jsonl)
CALIBRATION_CALLS ?= 24
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))

# One BLAS thread per process: implicit's ALS is multithreaded itself and warns otherwise.
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export PYTHONHASHSEED := 0

.PHONY: help venv test run notebooks data sample synthetic-full results bench bench-dask bench-grid bench-search html lock clean calibrate

help: ## Show this list of targets
	@echo "recasketch — make targets:"
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-15s\033[0m %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

venv: $(STAMP) ## Create .venv from the pinned lock (requirements.lock)

test: $(STAMP) ## Run the unit tests, then re-execute the notebooks under nbval
	$(PY) -m pytest tests --doctest-modules recasketch
	@if [ -n "$(NOTEBOOKS)" ]; then \
		RECASKETCH_DATA=sample RECASKETCH_BUDGET=ci $(PY) -m pytest --nbval-lax $(NOTEBOOKS); \
	fi

run: $(STAMP) ## Execute every notebook top to bottom on the synthetic sample (commits-ready outputs)
	@if [ -z "$(NOTEBOOKS)" ]; then \
		$(PY) -m recasketch.datasets.synthetic --preset sample --stats; \
	else \
		RECASKETCH_DATA=sample RECASKETCH_BUDGET=ci $(PY) -m recasketch.tools.execute --inplace $(NOTEBOOKS); \
	fi

notebooks: run ## Same as `make run`: refresh the committed notebook outputs

data: $(STAMP) ## Download the real Sketchfab crawl into data/sketchfab/ (needs internet)
	$(PY) -m recasketch.datasets.download

sample: $(STAMP) ## Regenerate the committed synthetic sample in data/sample/
	$(PY) -m recasketch.datasets.synthetic --preset sample --out data/sample --stats

synthetic-full: $(STAMP) ## Write the full-size synthetic dataset to data/synthetic-full/ (not committed)
	$(PY) -m recasketch.datasets.synthetic --preset full --stats --out data/synthetic-full

results: $(STAMP) ## Execute the notebooks at BUDGET on DATA=..., into data/results/<name or folder name>/
	@if [ "$(DATA)" = "synthetic-full" ] && [ ! -f data/synthetic-full/model_likes_anon.psv ]; then \
		$(MAKE) synthetic-full; fi
	RECASKETCH_DATA=$(DATA) RECASKETCH_BUDGET=$(BUDGET) $(PY) -m recasketch.tools.execute \
		--out data/results/$(notdir $(patsubst %/,%,$(DATA))) $(NOTEBOOKS)

calibrate: $(STAMP) ## Fit the synthetic full preset to the posts' figures; writes data/calibration/ (resumes its search log)
	$(PY) -m recasketch.study.calibration --calls $(CALIBRATION_CALLS) --seeds 0 1 2

bench: $(STAMP) ## Time preprocessing and evaluation against the straightforward methods, and a small ALS grid on a process pool vs Dask (full preset)
	$(PY) -m recasketch.tools.bench

bench-grid: $(STAMP) ## Time the post's full ALS grid (180 combinations x epochs 2..38) on the full preset
	$(PY) -m recasketch.tools.bench grid

bench-dask: $(STAMP) ## Time a 4-combination slice of the post's ALS grid on a process pool and on a Dask LocalCluster
	$(PY) -m recasketch.tools.bench dask --repeat $(REPEAT)

bench-search: $(STAMP) ## Run 30 calls of post 2's WARP search on the full preset (resumable) and project the full cost
	$(PY) -m recasketch.tools.bench search --calls $(CALLS)

html: $(STAMP) ## Render the tutorial in site/: the full-size run (data/results/synthetic-full/) first, the sample run in site/sample/; reads offline
	$(PY) -m recasketch.tools.site --out site --full data/results/synthetic-full $(NOTEBOOKS)

lock: ## Re-resolve the dependencies of pyproject.toml into requirements.lock
	rm -rf /tmp/recasketch-lock && $(PYTHON) -m venv /tmp/recasketch-lock
	/tmp/recasketch-lock/bin/pip install --quiet --upgrade pip
	/tmp/recasketch-lock/bin/pip install --quiet -e '.[dev,spark]'
	{ echo "# Pinned environment for recasketch (Python 3.11). Regenerate with 'make lock'."; \
	  echo "# Install: pip install -r requirements.lock && pip install --no-deps -e ."; \
	  /tmp/recasketch-lock/bin/pip freeze --exclude-editable; } > requirements.lock

clean: ## Remove the virtual environment and caches (keeps data)
	rm -rf $(VENV) .pytest_cache .hypothesis site
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
