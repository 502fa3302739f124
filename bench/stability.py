"""Verdict stability: the same profile's comparisons on two sets of seeds.

    python3 bench/stability.py A/tables/comparisons.csv B/tables/comparisons.csv [NAME_A NAME_B]

Both files are `convlab report`'s comparisons table (figures/PROFILE/tables/comparisons.csv)
of one plan under one profile, on different seeds: disjoint ones (e.g. the study's five
against --seeds 5,6,7,8,9) test whether a verdict holds on new seeds. NAME_A and NAME_B head
the columns (default: the seed counts).
Prints one row per comparison: Δ (pp), its 95% CI, the minimum detectable effect and the
verdict of each, and whether the verdicts agree, then the tally.
"""
import csv
import sys


def load(path):
    with open(path, newline="") as f:
        return {(r["section"], r["variant"], r["reference"]): r for r in csv.DictReader(f)}


def col(row, name):
    """A comparison's `name` column, whichever score its study compared (`test_at_best_delta_pp`,
    `best_val_delta_pp`; `delta_pp` in tables of before); the paper's own column is not it."""
    for k, v in row.items():
        if (k == name or k.endswith("_" + name)) and not k.startswith("paper_"):
            return v
    return "—"


def main():
    if len(sys.argv) not in (3, 5):
        sys.exit(__doc__)
    few, many = load(sys.argv[1]), load(sys.argv[2])
    keys = [k for k in few if k in many]
    if not keys:
        sys.exit(f"bench/stability.py: {sys.argv[1]} and {sys.argv[2]} share no comparison")
    if len(sys.argv) == 5:
        n_few, n_many = sys.argv[3], sys.argv[4]
    else:
        n_few = few[keys[0]]["seeds"].split("/")[0] + " seeds"
        n_many = many[keys[0]]["seeds"].split("/")[0] + " seeds"
    print(f"| comparison | Δ, {n_few} (pp) | 95% CI | MDE | verdict | Δ, {n_many} (pp) | 95% CI | MDE | verdict | agree |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    agree = 0
    for k in keys:
        a, b = few[k], many[k]
        same = a["verdict"] == b["verdict"]
        agree += same
        ci = lambda r: f"[{col(r, 'ci95_lo_pp')}, {col(r, 'ci95_hi_pp')}]"
        print(f"| {k[1]} vs {k[2]} | {col(a, 'delta_pp')} | {ci(a)} | {col(a, 'mde_pp')} | {a['verdict']} | "
              f"{col(b, 'delta_pp')} | {ci(b)} | {col(b, 'mde_pp')} | {b['verdict']} | {'yes' if same else '**no**'} |")
    print(f"\n{agree} of {len(keys)} verdicts agree.")


if __name__ == "__main__":
    main()
