# convlab — the two commands for a fresh machine are `make report` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: setup build test report clean-runs
.DEFAULT_GOAL := help

help:
	@echo "make setup   install libtorch (torch 2.11.0), Jupyter, evcxr_jupyter, the 'convlab' kernel and Fashion-MNIST (idempotent)"
	@echo "make build   build the library and the convlab CLI (release)"
	@echo "make test    setup, then every test (CPU)"
	@echo "make report  setup, then the study on the embedded data"

setup:
	@scripts/setup.sh

build: setup
	$(CARGO) build --release

test: setup
	$(CARGO) test --release

report: setup
	@echo "make report: the study sections and notebooks arrive with issue 5; until then run 'make test'." >&2
	@exit 2
