"""The spread decomposition of bench/variance.sh's runs, as Markdown tables.

    python3 bench/variance.py target/bench-variance
    python3 bench/variance.py target/bench-variance --record "quick profile, seeds 1-10"   # also into bench/results.jsonl

For each experiment (a variant with every source of randomness varying over the seeds, or
one source varying and the others fixed): runs, mean and standard deviation over seeds of
the best validation accuracy (1,000 images, the epoch chosen by it), of the test accuracy
of that same checkpoint (10,000 held-out images), and of the last epoch's; the binomial SD
of a single accuracy on 1,000 and on 10,000 images; the optimism of choosing the best of
the epochs on the validation split that then scores it; and runs that stalled.
"""
import json
import math
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import measured, record  # noqa: E402

STALL = 0.6  # best validation accuracy below this: the run stalled (healthy no-BN runs reach ~0.7)


def runs(exp_dir):
    out = []
    for d in sorted(os.listdir(exp_dir)):
        p = os.path.join(exp_dir, d, "summary.json")
        if d.startswith("seed-") and os.path.exists(p):
            out.append(json.load(open(p)))
    return out


def pp(x):
    return f"{100 * x:.2f}"


def main():
    if len(sys.argv) not in (2, 4) or (len(sys.argv) == 4 and sys.argv[2] != "--record"):
        sys.exit("usage: variance.py RUNS_DIR [--record LABEL]")
    root = sys.argv[1]
    label = sys.argv[3] if len(sys.argv) == 4 else None
    exps = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    results = []
    print(f"{measured()}; runs in {root}.\n")
    print("| experiment | runs | best val: mean | SD (pp) | test @ best: mean | SD (pp) | last epoch test: SD (pp) | val − test @ best (pp) | last epoch val − test (pp) | stalled |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for e in exps:
        rs = runs(os.path.join(root, e))
        if len(rs) < 2 or any(r.get("test_acc") is None for r in rs):
            continue
        bv = [r["best_val_acc"] for r in rs]
        tb = [r["test_acc"] for r in rs]
        ft = [r.get("final_test_acc") for r in rs]
        fv = [r["final_val_acc"] for r in rs]
        gap_best = statistics.mean(bv) - statistics.mean(tb)
        gap_last = statistics.mean(fv) - statistics.mean(ft) if None not in ft else float("nan")
        stalled = sum(1 for x in bv if x < STALL)
        print(
            f"| {e} | {len(rs)} | {statistics.mean(bv):.4f} | {pp(statistics.stdev(bv))} | {statistics.mean(tb):.4f} | {pp(statistics.stdev(tb))} | "
            f"{pp(statistics.stdev(ft)) if None not in ft else '—'} | {pp(gap_best)} | {pp(gap_last)} | {stalled} |"
        )
        results.append((f"seed-to-seed SD of best val acc / of test acc at best, {e}, {len(rs)} runs ({label})",
                        f"{pp(statistics.stdev(bv))} pp / {pp(statistics.stdev(tb))} pp; {stalled} stalled"))
    print()
    for n in (1000, 10000):
        p = 0.8
        print(f"Binomial SD of one accuracy of {p:.0%} on {n:,} images: {pp(math.sqrt(p * (1 - p) / n))} pp.")
    print(f"Stalled: best validation accuracy below {STALL}. The selection optimism of the best epoch is "
          "(val − test @ best) − (last epoch val − test): what choosing the epoch on the split that scores it adds.")
    if label and results:
        record("make bench-variance", results)


if __name__ == "__main__":
    main()
