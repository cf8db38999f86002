# traindyn: `make` builds every figure and table of config.yaml; `make test` runs the test suite.
# Both create the virtual environment first (only when the pinned requirements changed).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CORES  ?= all
SNAKEMAKE := $(BIN)/snakemake
ROOT   := $(dir $(abspath $(lastword $(MAKEFILE_LIST))))
PY     ?= $(BIN)/python

.PHONY: all pipeline test setup lint clean-results report-partial verify gpu-smoke budget-table \
	reference reference-table reference-float64 bench

all: pipeline
	@$(MAKE) --no-print-directory figures/report.html

setup: $(STAMP)

$(STAMP): envs/requirements.txt envs/requirements-dev.txt pyproject.toml \
	    workflow/traindyn/snakemake_hooks.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
	    -r envs/requirements.txt -r envs/requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/python -m traindyn.snakemake_hooks --install
	@command -v c++ >/dev/null || { echo "make setup: a C++ compiler (c++, e.g. Debian's g++) is needed to build the LE-SDE CPU kernels" >&2; exit 1; }
	$(BIN)/python -m traindyn.lesde.kernels
	touch $@

pipeline: $(STAMP)
	$(SNAKEMAKE) --cores $(CORES)

# The report is rebuilt only when the claims (written after every figure/table) changed.
figures/report.html: figures/claims.md
	$(SNAKEMAKE) --report $@

# A report of what is current now (a partial or interrupted run): Snakemake's plain --report needs
# every figure of the config, so it is asked for the deliverables of the current config that exist
# and pass `make verify`'s checks; stale ones and leftovers of an earlier config are named, not shown.
# SMK_ARGS: more Snakemake arguments (--configfile ..., --config ...) for both targets.
report-partial: $(STAMP)
	$(PY) $(ROOT)workflow/scripts/verify.py --snakemake "$(SNAKEMAKE)" \
	    --report figures/report.html -- $(SMK_ARGS)

# Every output of the current config complete, current and the bytes its job wrote (no job runs).
verify: $(STAMP)
	$(PY) $(ROOT)workflow/scripts/verify.py --snakemake "$(SNAKEMAKE)" -- $(SMK_ARGS)

# On a GPU node, before submitting the paper config: a short piece of every GPU job, pass/fail,
# timings and the budget rates they imply (CIFAR10_ROOT=... to use CIFAR-10).
gpu-smoke: $(STAMP)
	$(BIN)/python workflow/scripts/gpu_smoke.py $(if $(CIFAR10_ROOT),--cifar-root $(CIFAR10_ROOT))

# The measured compute budget of the last run (Snakemake benchmark files) as a Markdown table.
budget-table: $(STAMP)
	$(BIN)/python workflow/scripts/budget_table.py --out docs/compute_budget.md

# Reference tier (docs/reference.md): the papers' claims on this 2-core CPU in under an hour,
# in its own folder ($(REF_DIR)); then its verdict table into the README and
# docs/reference_verdicts.md. `make reference-table` redoes only the table (of a current run).
REF_DIR ?= reference
REF_SNAKEMAKE = $(SNAKEMAKE) -s $(CURDIR)/Snakefile --directory $(REF_DIR) \
	--configfile $(CURDIR)/config.yaml $(CURDIR)/workflow/configs/reference.yaml

reference: $(STAMP)
	mkdir -p $(REF_DIR)
	$(REF_SNAKEMAKE) --cores $(CORES)
	@$(MAKE) --no-print-directory reference-table

reference-table: $(STAMP)
	$(BIN)/python workflow/scripts/reference_table.py --dir $(REF_DIR)

# float32 (the reference tier's LE-SDE dtype) vs the paper's float64 on 50 paired trials
reference-float64: $(STAMP)
	mkdir -p $(REF_DIR)/float64
	$(SNAKEMAKE) -s $(CURDIR)/Snakefile --directory $(REF_DIR)/float64 \
	    --configfile $(CURDIR)/config.yaml $(CURDIR)/workflow/configs/reference.yaml \
	    $(CURDIR)/workflow/configs/reference_float64.yaml --cores $(CORES)
	$(BIN)/python workflow/scripts/dtype_check.py --float32 $(REF_DIR) --float64 $(REF_DIR)/float64

# Throughput vs this machine's matrix-product rate, measured in one run (results/bench/summary.*)
bench: $(STAMP)
	$(BIN)/python workflow/benchmarks/bench_all.py --out results/bench --readme README.md

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(SNAKEMAKE) --lint
	$(BIN)/snakefmt --check Snakefile workflow/rules

clean-results:
	rm -rf results figures/*.md figures/*.html figures/si figures/lesde .snakemake
