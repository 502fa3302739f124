#!/usr/bin/env bash
# make bench-sequential-study: the paper's plan on the quick profile as a sequential study
# (looks of 5, 10, 15, 20 seeds a side, O'Brien–Fleming-type spending), on a copy of the fixed
# study's stored runs (runs/quick, `make study`): its first look is those five seeds, so only
# the later looks train. Records how many of the 15 comparisons each look decided, the later
# looks' grid time, the first look's unit time (the stored runs' wall time over 2 workers),
# and their sum: the whole study's time on this machine; then the other designs replayed on
# the same runs (bench/sequential_levers.py). Needs runs/quick complete.
#   LOOKS=pocock:5,10,15,20 bash bench/sequential_study.sh
set -euo pipefail
cd "$(dirname "$0")/.."
C=${CONVLAB:-target/release/convlab}
LOOKS=${LOOKS:-5,10,15,20}
WORK=${WORK:-target/bench-sequential-study}
rm -rf "$WORK" && mkdir -p "$WORK/runs" "$WORK/figures"
cp -r runs/quick "$WORK/runs/quick"
rm -rf "$WORK/runs/quick/grids" "$WORK/runs/quick/logs"
first=$(python3 - "$WORK/runs/quick" <<'PY'
import glob, json, sys
# The first look's units: seeds 20211108, 1, 2, 3, 4 of every variant (probes excluded).
seeds = {"seed-20211108", "seed-1", "seed-2", "seed-3", "seed-4"}
total = 0.0
for f in glob.glob(sys.argv[1] + "/*/seed-*/summary.json"):
    if f.split("/")[-2] in seeds and "/probe-" not in f:
        total += json.load(open(f))["wall_seconds"]
print(f"{total / 2 / 60:.1f}")
PY
)
t0=$(date +%s)
"$C" study --profile quick --runs "$WORK/runs" --figures "$WORK/figures" --sequential "$LOOKS" \
    > "$WORK/study.out" 2> "$WORK/study.err"
minutes=$(python3 -c "print(f'{($(date +%s) - $t0) / 60:.1f}')")
looks=$(grep '^look ' "$WORK/study.err" | sed 's/;.*//' | paste -sd '|' | sed 's/|/; /g')
tally=$(grep -o "over all of them: .*" "$WORK/study.out" | sed 's/over all of them: //')
units=$(grep -c '^finished' "$WORK/study.err" || true)
echo "looks: $looks"
echo "verdicts: $tally"
echo "later looks: $units units in $minutes min; first look's units $first min (2 workers)"
python3 bench/record.py "make bench-sequential-study" \
    "the paper's plan on quick, --sequential $LOOKS: verdicts=$tally" \
    "the paper's plan on quick, --sequential $LOOKS: each look=$looks" \
    "the paper's plan on quick, --sequential $LOOKS: minutes, the first look's units (stored, over 2 workers) + the later looks' grids, study and questions=$first + $minutes"
# The other designs, replayed on the same stored runs (nothing trains).
python3 bench/sequential_levers.py "$WORK/runs" "$C"
