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
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

# The torch build `make setup` installs (remembered in .venv/torch-variant; docs/install.md):
#   TORCH=default  the pins as PyPI serves them (on Linux torch 2.14.1 is the CUDA 13.0 build)
#   TORCH=cpu      CPU only: no CUDA libraries (a fraction of the download)
#   TORCH=cu126    CUDA 12.6, for nodes whose NVIDIA driver is older than CUDA 13.0 needs
#   TORCH=<tag>    any other build of PyTorch's wheel index (e.g. cu128)
# TORCH_INDEX=<url> takes that build from another index (a site mirror).
TORCH_FILE  := $(VENV)/torch-variant
TORCH       ?= $(or $(shell cat $(TORCH_FILE) 2>/dev/null),default)
TORCH_INDEX ?= $(if $(filter default,$(TORCH)),,https://download.pytorch.org/whl/$(TORCH))
# torch and torchvision at their pinned versions, with the build's local label; `===` matches
# exactly, so switching builds reinstalls them
TORCH_PINS   = $(shell awk -F'==' '/^(torch|torchvision)==/ {print $$1 "===" $$2 \
	"$(if $(filter default,$(TORCH)),,+$(TORCH))"}' envs/requirements.txt)

.PHONY: all pipeline test setup venv unhook kernels lint clean-results report-partial verify gpu-smoke \
	budget-table reference reference-table reference-float64 bench compare FORCE

all: pipeline
	@$(MAKE) --no-print-directory figures/report.html

setup: $(STAMP)

$(STAMP): envs/requirements.txt envs/requirements-dev.txt pyproject.toml $(TORCH_FILE) | unhook
	@$(MAKE) --no-print-directory venv
	$(PIP) $(TORCH_PINS) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PIP) -r envs/requirements.txt -r envs/requirements-dev.txt
	$(PIP) --no-deps -e .
	@$(MAKE) --no-print-directory kernels
	touch $@

# A usable environment: created when missing; recreated (keeping the TORCH choice) when its python
# cannot run pip, as after a Ctrl-C during `python -m venv` (every pip step would fail otherwise).
venv:
	@if test -e $(BIN)/python && ! $(BIN)/python -m pip --version >/dev/null 2>&1; then \
	    echo "traindyn: $(VENV)/bin/python cannot run pip (an interrupted set-up?): recreating $(VENV)" >&2; \
	    $(PYTHON) -m venv --clear $(VENV) || { echo "traindyn: could not recreate $(VENV): remove it (rm -rf $(VENV)) and run make setup again" >&2; exit 1; }; \
	    echo "$(TORCH)" > $(TORCH_FILE); \
	fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)

# Environments set up before traindyn stopped patching Snakemake hold a start-up hook: remove it.
unhook:
	@rm -f $(VENV)/lib/python*/site-packages/traindyn_snakemake_hooks.pth

# The build variant in use: rewritten (so the environment is updated) only when TORCH changes.
$(TORCH_FILE): FORCE
	@mkdir -p $(VENV)
	@test "$$(cat $@ 2>/dev/null)" = "$(TORCH)" || echo "$(TORCH)" > $@

FORCE:

# The optional native LE-SDE CPU kernels: built when a C++ compiler is there; without one, or when
# the build fails, one line says that LE-SDE jobs on a CPU run the torch path. Never fails.
kernels:
	PYTHONPATH=workflow $(BIN)/python -m traindyn.lesde.kernels

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

# The last quick run's measured budget (Snakemake benchmark files) into docs/compute_budget.md, its
# totals and claims into the README and docs/targets.md (stamped with the config's hash).
budget-table: $(STAMP)
	$(BIN)/python workflow/scripts/budget_table.py

# Reference tier (docs/reference.md): the papers' claims on this 2-core CPU in about 2½ hours,
# in its own folder ($(REF_DIR)); then its verdict table into docs/reference.md (counts into the README) and
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
	$(BIN)/python workflow/benchmarks/bench_all.py --out results/bench --doc docs/benchmarks.md

# What changed between two runs (e.g. two --directory runs/<name>): claims and config keys. Each
# run must pass `make verify`'s checks; ALLOW_STALE=1 accepts runs of other code.
compare: $(STAMP)
	@test -n "$(A)" -a -n "$(B)" || { echo "usage: make compare A=<run dir> B=<run dir>" >&2; exit 2; }
	@$(BIN)/python workflow/scripts/compare_runs.py $(if $(ALLOW_STALE),--allow-stale) $(A) $(B)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(SNAKEMAKE) --lint
	$(BIN)/snakefmt --check Snakefile workflow/rules

clean-results:
	rm -rf results figures/*.md figures/*.html figures/si figures/lesde .snakemake
