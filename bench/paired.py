"""Would paired differences help? Per-seed correlation of a study's comparisons.

    convlab study --units [--seeds …] | python3 bench/paired.py [reference …]

Every variant of a seed sees the same data order and augmentation draws (common random
numbers; tests/study.rs checks it), and variants that keep the model's shape start from
the same weights. If that shared noise were a large part of the seed spread, a variant's
score and its reference's would be correlated across seeds, and a paired t-test on the
per-seed differences would be sharper than Welch's. For each variant against the
reference named (default xknet18) this prints, over the seeds both have: Pearson's r of
the test accuracy of the best epoch (else best validation accuracy), and the variance of
the paired differences as a share of the variances' sum (what Welch's test uses): below 1
the two sides share noise, at 1 they do not. Whether a paired test then detects smaller
effects depends on the seeds too (it has half the degrees of freedom): bench/paired_power.py.
"""
import json
import os
import statistics
import sys
from collections import defaultdict


def main():
    refs = sys.argv[1:] or ["xknet18"]
    score = defaultdict(dict)
    for line in sys.stdin:
        if not line.startswith("{"):
            continue
        u = json.loads(line)
        p = os.path.join(u["run_dir"], "summary.json")
        if os.path.exists(p):
            s = json.load(open(p))
            score[u["variant"]][u["seed"]] = s.get("test_acc") if s.get("test_acc") is not None else s["best_val_acc"]
    print("| variant | reference | seeds | Pearson r | var(paired Δ) / (var a + var b) |")
    print("|---|---|---|---|---|")
    for ref in refs:
        for v, by_seed in score.items():
            if v == ref or v.startswith("probe-"):
                continue
            seeds = sorted(set(by_seed) & set(score[ref]))
            if len(seeds) < 3:
                continue
            a = [by_seed[s] for s in seeds]
            b = [score[ref][s] for s in seeds]
            r = statistics.correlation(a, b)
            d = [x - y for x, y in zip(a, b)]
            share = statistics.variance(d) / (statistics.variance(a) + statistics.variance(b))
            print(f"| {v} | {ref} | {len(seeds)} | {r:+.2f} | {share:.2f} |")


if __name__ == "__main__":
    main()
