#!/usr/bin/env bash
# make bench-grid: the quick study as a local grid on this machine, one worker with every
# core against one worker per core and two workers per core (one libtorch thread each),
# in one run of measurements. Small convolutions scale poorly across threads, so several
# single-threaded workers may finish the grid sooner; which is fastest here decides
# `grid::CPU_DEFAULT_JOBS`.
#
#   SECTIONS=residual,width SEEDS=1,2 bash bench/grid.sh     # a smaller grid
# Fresh runs directories under $WORK each time; the data cache is shared (decoded once).
set -euo pipefail
cd "$(dirname "$0")/.."
C=${CONVLAB:-target/release/convlab}
WORK=${WORK:-target/bench-grid}
SECTIONS=${SECTIONS:-baseline,xknet18,width,augmentation,dropout,normalization,lr-decay,residual,depth}
SEEDS=${SEEDS:-}
CORES=$(nproc)
rm -rf "$WORK" && mkdir -p "$WORK"
seeds=()
[ -n "$SEEDS" ] && seeds=(--seeds "$SEEDS")

measure() {  # name jobs threads
    local t0 t1
    t0=$(date +%s.%N)
    CONVLAB_RUNS="$WORK/$1" CONVLAB_FIGURES="$WORK/$1-figures" "$C" study --profile quick --sections "$SECTIONS" "${seeds[@]}" \
        --jobs "$2" --threads "$3" > "$WORK/$1.log" 2>&1
    t1=$(date +%s.%N)
    python3 -c "print(f'{$t1 - $t0:.1f}')"
}

echo "quick profile, sections $SECTIONS${SEEDS:+, seeds $SEEDS}; $CORES cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
a=$(measure one-worker 1 "$CORES")
echo "1 worker × $CORES threads: $a s"
b=$(measure per-core "$CORES" 1)
echo "$CORES workers × 1 thread: $b s"
c=$(measure two-per-core "$((2 * CORES))" 1)
echo "$((2 * CORES)) workers × 1 thread: $c s"
python3 -c "print(f'ratio (1 worker / $CORES workers): {$a / $b:.2f}; ($((2 * CORES)) workers / $CORES workers): {$c / $b:.2f}')"
units=$(find "$WORK/per-core" -name summary.json -path '*seed-*' | wc -l)
echo "units per grid: $units; logs in $WORK"
python3 bench/record.py "make bench-grid" \
    "quick profile, $units units (sections $SECTIONS${SEEDS:+, seeds $SEEDS}): 1 worker × $CORES threads / $CORES workers × 1 thread / $((2 * CORES)) workers × 1 thread=$a s / $b s / $c s"
