#!/usr/bin/env bash
# make bench-own-data: what a researcher's own 64×64 colour data costs on this machine.
# A generated tree in Tiny ImageNet's published layout — 200 classes × 500 training images,
# 50 validation images per class, 10,000 unlabelled test images, 64×64 JPEG: 120,000 files,
# the published set's shape — then
#   1. `convlab data inspect --profile quick` on all of it (headers only; run twice, the second
#      with the files in the page cache);
#   2. a quick-profile study of two sections (baseline, width: resnet18, xknet18, the half-width
#      net NCHW) on its first 10 classes, five seeds, scored on validation (its test split is
#      unlabelled): 15 units at 192 training images per class;
#   3. `convlab bench --profile full` on the same 10 classes: the full profile's xknet18 (width
#      64, 64×64, channels-last) step and epoch throughput, from which a full run's time follows.
# Results are recorded in bench/results.jsonl (bench/record.py) with the machine and commit.
#   CLASSES=20 bash bench/own_data.sh     # the study on more classes
set -euo pipefail
cd "$(dirname "$0")/.."
C=${CONVLAB:-target/release/convlab}
WORK=${WORK:-target/bench-own-data}
CLASSES=${CLASSES:-10}
mkdir -p "$WORK"
export CONVLAB_CACHE="$WORK/cache"
tree="$WORK/tiny-200"
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.1f}')"; }

if [ ! -f "$tree/wnids.txt" ]; then
    t0=$(now)
    "$C" data synth --layout tiny-imagenet --out "$tree.partial" --classes 200 --train-per-class 500 --val-per-class 50 --test 10000 --size 64 >/dev/null
    mv "$tree.partial" "$tree"
    echo "generated $tree (120,000 images) in $(secs "$t0" "$(now)") s"
fi

t0=$(now); "$C" data inspect --data "tiny:$tree" --profile quick > "$WORK/inspect.txt"; t1=$(now)
"$C" data inspect --data "tiny:$tree" --profile quick > /dev/null; t2=$(now)
inspect_first=$(secs "$t0" "$t1"); inspect_again=$(secs "$t1" "$t2")
echo "data inspect, 120,000 files: $inspect_first s, again $inspect_again s"

rm -rf "$WORK/runs" "$WORK/figures"
t0=$(now)
CONVLAB_RUNS="$WORK/runs" CONVLAB_FIGURES="$WORK/figures" "$C" study --profile quick --data "tiny:$tree" --classes "$CLASSES" \
    --score best-val --sections baseline,width > "$WORK/study.log" 2>&1
study_s=$(secs "$t0" "$(now)")
units=$(find "$WORK/runs" -name summary.json -path '*seed-*' | wc -l)
per_unit=$(python3 - "$WORK/runs" <<'PY'
import glob, json, sys
rows = {}
for f in glob.glob(f"{sys.argv[1]}/quick/*/seed-*/summary.json"):
    v = f.split("/")[-3]
    rows.setdefault(v, []).append(json.load(open(f))["wall_seconds"])
print("; ".join(f"{v} {sum(s) / len(s):.0f} s" for v, s in sorted(rows.items())))
PY
)
echo "quick study, $CLASSES classes, baseline + width, 5 seeds: $study_s s for $units units (mean per unit: $per_unit)"

"$C" bench --profile full --data "tiny:$tree" --classes "$CLASSES" --cache "$WORK/cache" --steps 5 --warmup 2 --epochs 1 \
    --json "$WORK/bench-full.json" | tee "$WORK/bench-full.md"
read -r step epoch < <(python3 -c "import json; r = json.load(open('$WORK/bench-full.json')); print(f\"{r['step_img_s']:.1f} {r['epoch_img_s']:.1f}\")")

python3 bench/record.py "make bench-own-data" \
    "data inspect --profile quick, 120,000-file Tiny ImageNet layout (64×64 JPEG), seconds (first / again)=$inspect_first / $inspect_again" \
    "quick study of baseline + width (15 units: resnet18, xknet18, xknet18-half NCHW; 5 seeds) on $CLASSES classes of it at 64×64, minutes=$(python3 -c "print(f'{$study_s / 60:.1f}')")" \
    "quick study's mean unit time on it=$per_unit" \
    "full profile xknet18 (width 64, 64×64 RGB, channels-last), images/s: train step / epoch with loader=$step / $epoch"
