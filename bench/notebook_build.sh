#!/usr/bin/env bash
# The notebooks' cold build: what `make setup`'s warm-up compiles on a machine with nothing
# compiled — a fresh evcxr build slot and an empty evcxr cache — timed, and recorded in
# bench/results.jsonl. Part of `make bench-notebook`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
t0=$(date +%s.%N)
XDG_CACHE_HOME="$scratch/cache" CONVLAB_EVCXR_POOL="$scratch/pool" "$PY" scripts/run_notebooks.py --warm
t1=$(date +%s.%N)
s=$(python3 -c "print(f'{$t1 - $t0:.0f}')")
echo "cold notebook build: $s s"
python3 bench/record.py "make bench-notebook" "the notebooks' cold build (:dep convlab with nothing compiled: a fresh build slot, an empty evcxr cache)=$s s"
