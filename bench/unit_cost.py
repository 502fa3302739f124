"""Where a study's time goes: each unit's phases from its summary.json, summed per variant.

    convlab study --profile quick --units | python3 bench/unit_cost.py [CONVLAB]

Reads the unit lines (JSON, one per unit: variant, seed, run_dir) on stdin. Prints, per
variant and in total, the mean seconds of a unit's phases — setup (the data from its
cache, the model built), train (the optimizer steps), validate (one pass over the
validation split per epoch), write (history, checkpoints, events), finish (the chosen
checkpoint's test predictions) — and their share. A worker is one long-lived process that
runs unit after unit, so process start (exec, libtorch loaded) is paid once per worker:
it is timed here with `CONVLAB --version` (default target/release/convlab), beside them.
Phases are wall time inside the unit, measured while the grid's other workers ran.
"""
import json
import os
import subprocess
import sys
import time
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import measured, record  # noqa: E402

PHASES = ["setup", "train", "validate", "write", "finish"]


def process_start(exe, n=5):
    """The median wall time of starting convlab and loading libtorch, n times."""
    if not os.path.exists(exe):
        return None
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([exe, "--version"], capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return sorted(times)[n // 2]


def main():
    exe = sys.argv[1] if len(sys.argv) > 1 else "target/release/convlab"
    per = defaultdict(lambda: defaultdict(float))
    count = defaultdict(int)
    missing = 0
    for line in sys.stdin:
        line = line.strip()
        if not line.startswith("{"):
            continue
        unit = json.loads(line)
        p = os.path.join(unit["run_dir"], "summary.json")
        if not os.path.exists(p):
            missing += 1
            continue
        phases = json.load(open(p)).get("phases")
        if not phases:  # a run from before phases were recorded
            missing += 1
            continue
        count[unit["variant"]] += 1
        for k in PHASES:
            per[unit["variant"]][k] += phases.get(k, 0.0)
    if not count:
        sys.exit("bench/unit_cost.py: no finished unit with recorded phases on stdin; run the study first")
    print(f"{measured()}.\n")
    print("| variant | units | " + " | ".join(f"{k} (s)" for k in PHASES) + " | unit (s) |")
    print("|---|---|" + "---|" * (len(PHASES) + 1))
    total = defaultdict(float)
    for v in per:
        n = count[v]
        cells = [per[v][k] / n for k in PHASES]
        for k in PHASES:
            total[k] += per[v][k]
        print(f"| {v} | {n} | " + " | ".join(f"{c:.2f}" for c in cells) + f" | {sum(cells):.1f} |")
    all_s = sum(total.values())
    print(f"| **all units** | {sum(count.values())} | " + " | ".join(f"{total[k] / 60:.1f} min ({100 * total[k] / all_s:.1f}%)" for k in PHASES) + f" | {all_s / 60:.1f} min |")
    start = process_start(exe)
    if start is not None:
        print(f"\nProcess start (exec and libtorch loaded, once per worker): {start:.2f} s.")
    if missing:
        print(f"\n{missing} unit(s) not finished or without recorded phases were left out.")
    measures = [(f"{sum(count.values())} units' phases, total", ", ".join(f"{k} {total[k] / 60:.1f} min ({100 * total[k] / all_s:.0f}%)" for k in PHASES))]
    if start is not None:
        measures.append(("process start (once per worker)", f"{start:.2f} s"))
    record("make bench-units", measures)


if __name__ == "__main__":
    main()
