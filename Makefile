# convlab — the two commands for a fresh machine are `make report` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
# Written by `make setup`: CONVLAB_VENV, CONVLAB_EVCXR, CONVLAB_TORCH_LIB.
-include .convlab-env
PY = $(CONVLAB_VENV)/bin/python
CONVLAB = target/release/convlab
NOTEBOOKS = $(sort $(wildcard notebooks/*.ipynb))

.PHONY: help setup build test test-rust test-notebooks study notebooks report bench bench-data
.DEFAULT_GOAL := help

help:
	@echo "make report          setup, the study (profile: \$$CONVLAB_PROFILE, default quick), executed notebooks, figures"
	@echo "make test            setup, every Rust test, and every notebook under the smoke profile (on a copy)"
	@echo "make setup           install libtorch (torch 2.11.0), Jupyter, evcxr_jupyter, the 'convlab' kernel, Fashion-MNIST"
	@echo "make study           run every section (CLI) and export figures; CONVLAB_PROFILE=full|quick|smoke"
	@echo "make notebooks       execute every notebook in place and export HTML to figures/html"
	@echo "make bench           convlab against the report's PyTorch pipeline on the same data (quick profile's xknet18)"
	@echo "make bench-data      data benchmark (decode, cache, loader share of an epoch)"

setup:
	@scripts/setup.sh

build: setup
	$(CARGO) build --release

test: setup
	$(MAKE) --no-print-directory test-rust test-notebooks

test-rust:
	$(CARGO) test --release

# CI: every notebook under the smoke profile, outputs to a temporary copy, runs and figures in a scratch dir.
test-notebooks:
	@scratch=$$(mktemp -d) && \
	CONVLAB_PROFILE=smoke CONVLAB_RUNS=$$scratch/runs CONVLAB_FIGURES=$$scratch/figures \
	  $(PY) scripts/run_notebooks.py $(NOTEBOOKS)

study: build
	$(CONVLAB) study

notebooks: setup
	$(PY) scripts/run_notebooks.py --in-place --html figures/html $(NOTEBOOKS)

report: setup
	$(MAKE) --no-print-directory build
	$(MAKE) --no-print-directory study notebooks

bench-data: setup
	$(CARGO) bench --bench data

# The quick profile's xknet18 (width 16, 28×28 Fashion-MNIST slice), convlab vs PyTorch, same tree, same threads.
BENCH_DIR ?= target/bench
bench: build
	@mkdir -p $(BENCH_DIR)
	@[ -d $(BENCH_DIR)/tree/train ] || $(CONVLAB) data export --data fashion-mnist --train-per-class 300 --val-per-class 100 --out $(BENCH_DIR)/tree
	$(CONVLAB) bench --data imagefolder:$(BENCH_DIR)/tree --channels 1 --cache $(BENCH_DIR)/cache --threads 2 --device cpu --json $(BENCH_DIR)/convlab.json
	$(PY) bench/pytorch_reference.py --root $(BENCH_DIR)/tree --channels 1 --width 16 --small-stem --threads 2 --epochs 3 --lr 0.02 --json $(BENCH_DIR)/pytorch.json > /dev/null
	$(PY) bench/compare.py $(BENCH_DIR)/convlab.json $(BENCH_DIR)/pytorch.json
