# convlab — the two commands for a fresh machine are `make report` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
# Written by `make setup`: CONVLAB_VENV, CONVLAB_EVCXR, CONVLAB_TORCH_LIB; by `make setup-test`: CONVLAB_MDBOOK.
-include .convlab-env
-include .convlab-test-env
PY = $(CONVLAB_VENV)/bin/python
CONVLAB = target/release/convlab
NOTEBOOKS = $(sort $(wildcard notebooks/*.ipynb))

.PHONY: help setup setup-test doctor build check lint docs test test-rust test-notebooks test-browser test-tensorboard lab tensorboard study notebooks report bench bench-data bench-notebook bench-grid bench-variance bench-units bench-own-data bench-sequential bench-sequential-study
.DEFAULT_GOAL := help

help:
	@echo "make report          setup, the study (profile: \$$CONVLAB_PROFILE, default quick), executed notebooks, figures, the write-up figures/<profile>/writeup.md"
	@echo "make test            setup, setup-test, a local one-node Slurm (as root: installs it, writes /etc/slurm/slurm.conf, starts its daemons), every Rust test, the book, every notebook under the smoke profile (on a copy), the browser test"
	@echo "make check           the inner loop: cargo fmt --check, clippy (warnings are errors), unit tests and the integration tests that need no Slurm, pdflatex, browser or notebook"
	@echo "make lint           cargo fmt --check and cargo clippy --all-targets -D warnings (make check and make test run it)"
	@echo "make docs            the book (docs/, mdBook) into target/book; fails on a broken link, a stale benchmark table or a runnable block that fails"
	@echo "make lab             JupyterLab on notebooks/ with the kernel 'Rust (convlab)'; prints the URL"
	@echo "make tensorboard     TensorBoard on runs/: every run's curves, live while a grid trains"
	@echo "make setup           what building, training and the notebooks need: libtorch (torch 2.11.0), Jupyter, evcxr_jupyter, the 'convlab' kernel; no root (Fashion-MNIST from Debian when missing and allowed)"
	@echo "make setup-test      what only the tests and the book need: mdBook, and Debian's chromium, chromium-driver, texlive-latex-recommended (root or sudo when missing)"
	@echo "make doctor          libtorch, CUDA, cuDNN, the device a study would use, one training step timed per device"
	@echo "make study           run every section (CLI) and export figures; CONVLAB_PROFILE=full|quick|smoke"
	@echo "make notebooks       regenerate the paper's notebooks from studies/paper.toml, execute them in place, export HTML to figures/html (not committed)"
	@echo "make bench           convlab against the paper's PyTorch pipeline on the same data (quick profile's xknet18)"
	@echo "make bench-data      data benchmark (decode, cache, loader share of an epoch)"
	@echo "make bench-notebook  notebook latency: a fresh kernel's first cells, re-running one ablation cell, the cold build"
	@echo "make bench-grid      the quick study as a grid: 1 worker × all cores vs 1 and 2 workers per core (every section: about an hour on 2 cores; SECTIONS=… SEEDS=… for less)"
	@echo "make bench-variance  where the quick profile's seed-to-seed spread comes from: init, data order, dropout, the validation set"
	@echo "make bench-units     where the quick study's time goes: each unit's phases (after make study)"
	@echo "make bench-own-data  your own 64×64 data: data inspect on 120,000 files, a quick two-section study, the full profile's throughput"
	@echo "make bench-sequential the sequential procedure by simulation: error rates and power of each design (docs/development/sequential-simulation.md)"
	@echo "make bench-sequential-study the paper's plan on quick with --sequential, on a copy of runs/quick (its first look): what each look decides, and the time"

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup-test.sh

doctor: build
	$(CONVLAB) doctor

# `make test` builds once: the binary `cargo test --release` leaves in target/release is the
# one the later steps run (BUILT=1), rather than rebuilding it without the dev-dependencies' features.
build: setup
	@[ -n "$(BUILT)" ] || $(CARGO) build --release

# tests/slurm.rs runs against a real one-node Slurm on this machine (installed and started here, as root).
test: setup setup-test
	scripts/slurm-local.sh start
	$(MAKE) --no-print-directory test-rust
	$(MAKE) --no-print-directory BUILT=1 docs test-tensorboard test-notebooks test-browser

# The book: the benchmark table against bench/results.jsonl, every link, mdBook's build into
# target/book, and the runnable blocks (tests/docs.rs; already run by `make test`'s cargo test).
docs: setup setup-test
	python3 bench/table.py --check docs/development/benchmark-results.md
	python3 scripts/check_links.py README.md CHANGELOG.md docs
	. ./.convlab-test-env && "$$CONVLAB_MDBOOK" build docs
	@[ -n "$(BUILT)" ] || $(CARGO) test --release --test docs

# Every test binary but the ones that need Slurm (slurm) or pdflatex (report), after the lints.
CHECK_TESTS = $(filter-out slurm report,$(basename $(notdir $(wildcard tests/*.rs))))
check: lint
	$(CARGO) test --release --lib --bins $(addprefix --test ,$(CHECK_TESTS))

# Formatting (rustfmt.toml) and clippy with warnings as errors, on every target.
lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --release --all-targets -- -D warnings

# The lints, the tests, then the API docs with warnings as errors (broken intra-doc links fail).
test-rust: lint
	$(CARGO) test --release
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps

# CI: every notebook under the smoke profile, outputs to a temporary copy, runs and figures in a
# scratch dir — the paper's, and those `convlab notebooks --plan` generates for the example plan.
PLAN_NOTEBOOKS = target/plan-notebooks
test-notebooks: build
	@scratch=$$(mktemp -d) && rm -rf $(PLAN_NOTEBOOKS) && \
	$(CONVLAB) notebooks --plan studies/regularization.toml --dir $(PLAN_NOTEBOOKS) >/dev/null && \
	CONVLAB_PROFILE=smoke CONVLAB_RUNS=$$scratch/runs CONVLAB_FIGURES=$$scratch/figures \
	  $(PY) scripts/run_notebooks.py $(NOTEBOOKS) $(PLAN_NOTEBOOKS)/regularization/*.ipynb

# convlab's event files read back by TensorBoard's own reader (a run killed and resumed).
test-tensorboard: build
	$(PY) tests/tensorboard_events.py

# JupyterLab in a real browser (headless Chromium): every committed notebook shows its
# figures untrusted, Run All under the smoke profile, live epoch lines, interrupt + resume.
test-browser: setup-test
	$(PY) tests/browser/lab.py

# JupyterLab from the project venv, on notebooks/; the notebooks pick the kernel "Rust (convlab)".
LAB_PORT ?= 8888
lab: setup
	@echo "JupyterLab on notebooks/ — open the http://127.0.0.1:$(LAB_PORT)/lab?token=… URL it prints below; Ctrl+C stops it."
	$(CONVLAB_VENV)/bin/jupyter lab --ServerApp.root_dir=$(CURDIR)/notebooks --ServerApp.ip=127.0.0.1 --port=$(LAB_PORT) \
	  $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

# Every run writes TensorBoard event files beside its history.csv; RUNS=… for another directory.
RUNS ?= runs
TB_PORT ?= 6006
tensorboard: setup
	$(CARGO) build --release --quiet
	$(CONVLAB) runs --runs $(RUNS) --tensorboard
	@echo "TensorBoard on $(RUNS)/ — open http://127.0.0.1:$(TB_PORT)/ ; Ctrl+C stops it."
	$(CONVLAB_VENV)/bin/tensorboard --logdir $(RUNS) --host 127.0.0.1 --port $(TB_PORT)

study: build
	$(CONVLAB) study

notebooks: build
	$(CONVLAB) notebooks
	$(PY) scripts/run_notebooks.py --in-place --html figures/html $(NOTEBOOKS)

report: setup
	$(MAKE) --no-print-directory build
	$(MAKE) --no-print-directory study notebooks
	$(CONVLAB) report
	$(CONVLAB) report --format latex

# The grid's default worker count on a CPU-only machine is chosen from this (docs/scale/grid.md).
bench-grid: build
	bash bench/grid.sh

# The quick profile's spread split by source (bench/variance.sh; ~30 min here).
bench-variance: build
	bash bench/variance.sh

# Each unit's phases (setup, train, validate, write, finish) over the quick study's stored runs.
bench-units: build
	$(CONVLAB) study --profile quick --units | $(PY) bench/unit_cost.py $(CONVLAB)

# A researcher's own 64×64 colour data (a generated Tiny-ImageNet-layout tree; ~15 min here).
bench-own-data: build
	bash bench/own_data.sh

# The sequential procedure's error rates and power, simulated (no training; about a minute).
bench-sequential: setup
	$(CARGO) bench --bench sequential

# The quick study run sequentially from the fixed study's stored runs (after make study).
bench-sequential-study: build
	bash bench/sequential_study.sh

bench-data: setup
	$(CARGO) bench --bench data

# A fresh kernel's first cells and a re-run of one ablation cell, timed against stored quick-profile
# runs; then the notebooks' cold build (a fresh build slot, an empty evcxr cache; 419 s on the Xeon).
bench-notebook: setup
	$(PY) bench/notebook_latency.py
	PY=$(PY) bash bench/notebook_build.sh

# The quick profile's xknet18 (width 16, 28×28 Fashion-MNIST slice), convlab vs PyTorch, same tree, same threads.
BENCH_DIR ?= target/bench
bench: build
	@mkdir -p $(BENCH_DIR)
	@[ -d $(BENCH_DIR)/tree/train ] || $(CONVLAB) data export --data fashion-mnist --train-per-class 300 --val-per-class 100 --out $(BENCH_DIR)/tree
	$(CONVLAB) bench --data imagefolder:$(BENCH_DIR)/tree --channels 1 --cache $(BENCH_DIR)/cache --threads 2 --device cpu --json $(BENCH_DIR)/convlab.json
	$(PY) bench/pytorch_reference.py --root $(BENCH_DIR)/tree --channels 1 --width 16 --small-stem --threads 2 --epochs 3 --lr 0.02 --json $(BENCH_DIR)/pytorch.json > /dev/null
	$(PY) bench/compare.py $(BENCH_DIR)/convlab.json $(BENCH_DIR)/pytorch.json
