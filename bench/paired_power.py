"""Would a paired t-test detect smaller effects than Welch's? The MDE of each, side by side.

    python3 bench/paired_power.py [--seeds 5,10] [--ratios 0.47,0.5,0.55] [--family 15]

Needs scipy (`pip install scipy`). For n seeds a side and a spread s equal on both sides,
the minimum detectable effect at 80% power after Holm's first threshold (α = 0.05 / family,
two-sided) is, by the usual approximation (t₁₋α/₂ + t₀.₈) × SE:
  Welch (unpaired): SE = s·√(2/n), df = 2n − 2;
  paired:           SE = s·√(2·ratio/n), df = n − 1,
where ratio = var(paired Δ) / (var a + var b), as bench/paired.py measures it.
Prints both MDEs in units of s and the paired one as a share of Welch's.
"""
import argparse
import math

from scipy import stats


def mde(n, ratio, alpha, paired):
    df = n - 1 if paired else 2 * n - 2
    se = math.sqrt(2 * (ratio if paired else 1.0) / n)
    return (stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(0.8, df)) * se, df


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="5,10")
    ap.add_argument("--ratios", default="0.47,0.5,0.55")
    ap.add_argument("--family", type=int, default=15)
    a = ap.parse_args()
    alpha = 0.05 / a.family
    print("| seeds | ratio | Welch MDE / s (df) | paired MDE / s (df) | paired / Welch |")
    print("|---|---|---|---|---|")
    for n in map(int, a.seeds.split(",")):
        for ratio in map(float, a.ratios.split(",")):
            w, wdf = mde(n, 1.0, alpha, False)
            p, pdf = mde(n, ratio, alpha, True)
            print(f"| {n} | {ratio:.2f} | {w:.2f} ({wdf}) | {p:.2f} ({pdf}) | {p / w:.2f} |")


if __name__ == "__main__":
    main()
