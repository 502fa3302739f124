#!/usr/bin/env bash
# The GPU half of the performance targets, for a session that is lent a GPU machine.
#
# Built here, run there: the machine has PyTorch 2.11.0+cu130 under /opt/torch/.venv
# but no Rust, so carry the binary built here against the same torch:
#   make build
#   device run: command "bash bench/gpu.sh", carry ["target/release/convlab"], timeout 600 s
# It writes a 50,000-image, 100-class 64×64 synthetic ImageFolder tree (timing
# only: the images are seeded noise with class-coloured shapes), then
#   1. `convlab bench --profile full` on it: train step, raw libtorch step,
#      evaluation, epoch with the GPU-resident loader (channels-last, bf16 autocast);
#   2. the full-profile xknet18 run, 25 epochs, timed end to end (target: < 3 min on one H100).
#   3. the grid (`convlab study`) of the width section with 1 and 2 workers per GPU;
#   4. the bench again in NCHW fp32 (one epoch), for what channels-last + bf16 bring.
# Results go to $OUT (bench.json, bench-nchw-fp32.json, bench.md, train.log, history.csv, gpu.txt).
#
# A CPU dry run of the same steps, small: DEVICE=cpu CLASSES=4 PER_CLASS=16 EPOCHS=1 WIDTH=16 STEPS=2 bash bench/gpu.sh
set -euo pipefail

OUT=${OUT:-target/gpu-bench}
WORK=${WORK:-/tmp/convlab-gpu}
C=${CONVLAB:-target/release/convlab}
DEVICE=${DEVICE:-cuda}
CLASSES=${CLASSES:-100}
PER_CLASS=${PER_CLASS:-500}   # 100 × 500 = 50,000 training images
EPOCHS=${EPOCHS:-25}
WIDTH=${WIDTH:-64}
STEPS=${STEPS:-30}
PY=$(command -v python3 || echo /opt/torch/.venv/bin/python)
mkdir -p "$OUT" "$WORK"

# The machine's own libtorch (the binary's rpath points at this machine's venv, absent there).
for lib in /opt/torch/.venv/lib/python3*/site-packages/torch/lib; do
    [ -d "$lib" ] && export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
[ -x "$C" ] || { echo "bench/gpu.sh: $C not found: run make build here and carry target/release/convlab" >&2; exit 2; }
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"; nproc; } | tee "$OUT/gpu.txt"
"$C" train --help > /dev/null  # fails here, clearly, if libtorch cannot be loaded

t0=$(date +%s)
[ -d "$WORK/tree/train" ] || "$C" data synth --out "$WORK/tree" --classes "$CLASSES" --train-per-class "$PER_CLASS" \
    --val-per-class 50 --test 0 --size 64 --seed 0
echo "synthetic tree: $(( $(date +%s) - t0 )) s" | tee -a "$OUT/gpu.txt"

"$C" bench --profile full --data "imagefolder:$WORK/tree" --cache "$WORK/cache" --device "$DEVICE" \
    --width "$WIDTH" --steps "$STEPS" --json "$OUT/bench.json" | tee "$OUT/bench.md"

t0=$(date +%s.%N)
"$C" train --name xknet18-full --preset xknet18 --data "imagefolder:$WORK/tree" --cache "$WORK/cache" --size 64 \
    --channels 3 --width "$WIDTH" --epochs "$EPOCHS" --device "$DEVICE" --bf16 --channels-last \
    --runs "$WORK/runs" --force 2>&1 | tee "$OUT/train.log"
t1=$(date +%s.%N)
cp "$WORK"/runs/xknet18-full/seed-*/history.csv "$OUT/history.csv"
"$PY" - "$t0" "$t1" "$EPOCHS" "$OUT/history.csv" <<'EOF' | tee -a "$OUT/gpu.txt"
import csv, sys
t0, t1, epochs, path = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = list(csv.DictReader(open(path)))
train_s = sum(float(r["seconds"]) for r in rows)
print(f"xknet18 full profile, {epochs} epochs: {t1 - t0:.1f} s wall (process start to exit), "
      f"{train_s:.1f} s in epochs (training + evaluation); best val acc {max(float(r['val_acc']) for r in rows):.4f}; "
      f"img/s per epoch {', '.join(r['images_per_s'] for r in rows)}")
EOF

# The grid on the GPU(s): the width section's units (2 variants × 2 seeds, 2 epochs each) with one
# and with two workers per GPU (`--jobs-per-gpu`), wall time of each launch.
for k in 1 2; do
    rm -rf "$WORK/grid-$k"
    t0=$(date +%s.%N)
    CONVLAB_RUNS="$WORK/grid-$k" CONVLAB_FIGURES="$WORK/grid-$k-figures" CONVLAB_CACHE="$WORK/cache" \
        "$C" study --profile full --data "imagefolder:$WORK/tree" --device "$DEVICE" --sections width --seeds 1,2 --epochs 2 \
        --jobs-per-gpu "$k" > "$OUT/grid-$k.log" 2>&1
    t1=$(date +%s.%N)
    echo "grid: width section, 4 units × 2 epochs, $k worker(s) per GPU: $("$PY" -c "print(f'{$t1 - $t0:.1f}')") s wall" | tee -a "$OUT/gpu.txt"
done

# Last, the least needed: the same bench without the GPU switches (NCHW, fp32), one epoch,
# to show what channels-last + bf16 bring.
"$C" bench --profile full --data "imagefolder:$WORK/tree" --cache "$WORK/cache" --device "$DEVICE" \
    --width "$WIDTH" --steps "$STEPS" --epochs 1 --nchw --fp32 --json "$OUT/bench-nchw-fp32.json" | tail -n 1 | tee -a "$OUT/bench.md"
