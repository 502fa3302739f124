#!/usr/bin/env bash
# make bench-variance: where the quick profile's seed-to-seed spread of best validation
# accuracy comes from. The quick profile's xknet18 and its no-BN dropout 0.1, each trained
# SEEDS times with every source of randomness varying, then with one source varying and the
# others fixed (train.init_seed / data_seed / dropout_seed = 0): the weights' init, the data
# order and augmentation, dropout. Every run also scores its chosen checkpoint and its last
# epoch on Fashion-MNIST's 10,000 test images. bench/variance.py prints the decomposition.
#
#   SEEDS=1,2,3,4,5 bash bench/variance.sh       # fewer seeds
# Runs go to $WORK (kept: a second call reuses them); two experiments train at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
C=${CONVLAB:-target/release/convlab}
WORK=${WORK:-target/bench-variance}
SEEDS=${SEEDS:-1,2,3,4,5,6,7,8,9,10}
PARAMS=${PARAMS:-}   # more flags for every run, e.g. "--warmup 0.5" (then use another WORK)
# The quick profile's recipe (src/study/profile.rs) as flags; the test split whole (10,000).
# TRAIN_PER_CLASS and CLIP (empty: no clipping) reproduce earlier profiles, e.g. the one
# docs/decisions/quick-profile.md decomposes: TRAIN_PER_CLASS=256 CLIP= bash bench/variance.sh
TRAIN_PER_CLASS=${TRAIN_PER_CLASS:-192}
CLIP=${CLIP-3}
QUICK=(--data fashion-mnist --train-per-class "$TRAIN_PER_CLASS" --val-per-class 100 --preset xknet18 --width 16
       --epochs 6 --batch-size 64 --lr 0.02 --schedule step:2:0.1 --channels-last --device cpu --threads 1 --score-last-epoch)
if [ -n "$CLIP" ]; then QUICK+=(--set "train.clip_grad_norm=$CLIP"); fi
run() {  # name, then its own flags
    local name=$1; shift
    # shellcheck disable=SC2086
    "$C" train --name "$name" "${QUICK[@]}" --seeds "$SEEDS" --runs "$WORK" $PARAMS "$@" > "$WORK/$name.log" 2>&1
}
mkdir -p "$WORK"
fix_all_but() {  # the seeds to fix, all but one source
    case $1 in
        init) echo "--set train.data_seed=0 --set train.dropout_seed=0" ;;
        data) echo "--set train.init_seed=0 --set train.dropout_seed=0" ;;
        dropout) echo "--set train.init_seed=0 --set train.data_seed=0" ;;
    esac
}
NOBN=(--norm none --dropout 0.1)
# shellcheck disable=SC2046
{ run xknet18-all & run xknet18-init $(fix_all_but init) & wait; }
# shellcheck disable=SC2046
{ run xknet18-data $(fix_all_but data) & run nobn-dropout-0.1-all "${NOBN[@]}" & wait; }
# shellcheck disable=SC2046
{ run nobn-dropout-0.1-init "${NOBN[@]}" $(fix_all_but init) & run nobn-dropout-0.1-data "${NOBN[@]}" $(fix_all_but data) & wait; }
# shellcheck disable=SC2046
run nobn-dropout-0.1-dropout "${NOBN[@]}" $(fix_all_but dropout)
python3 bench/variance.py "$WORK" --record "quick profile recipe, $TRAIN_PER_CLASS images/class, clip ${CLIP:-none}${PARAMS:+, $PARAMS}, seeds $SEEDS"
