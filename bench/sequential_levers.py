"""What each lever of a sequential study gives, replayed on stored runs without training.

    python3 bench/sequential_levers.py RUNS [CONVLAB]     # RUNS: a runs directory holding quick/

A comparison's decision at a look depends only on the first n seeds of its two sides, so any
design whose units are all stored is judged exactly by `convlab study --sequential L --status`
and `--units` (nothing trains). For each design: comparisons decided, units, and the minutes
those units take at the fixed study's per-unit times (runs/quick's mean wall time per variant,
over 2 workers; probes and the depth benchmark left out). A design whose units are not all
stored is marked so. Records one line in bench/results.jsonl (bench/record.py).
"""
import glob
import json
import os
import subprocess
import sys

from record import record

DESIGNS = ["5", "5,10,15,20", "pocock:5,10,15,20", "5,10,15", "pocock:5,10,15", "5,10,20"]


def unit_seconds(quiet_runs):
    out = {}
    for d in glob.glob(os.path.join(quiet_runs, "*", "")):
        w = [json.load(open(f))["wall_seconds"] for f in glob.glob(d + "seed-*/summary.json")]
        if w:
            out[os.path.basename(d.rstrip("/"))] = sum(w) / len(w)
    return out


def lever(convlab, runs, looks, seconds):
    base = [convlab, "study", "--profile", "quick", "--runs", runs, "--figures", os.path.join(runs, "..", "levers-figures"), "--sequential", looks]
    status = subprocess.run(base + ["--status"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    units = [json.loads(l) for l in subprocess.run(base + ["--units"], capture_output=True, text=True, check=True).stdout.splitlines()]
    units = [u for u in units if not u["variant"].startswith("probe-")]
    done = sum(u["state"] == "done" for u in units)
    minutes = sum(seconds[u["run_dir"].rstrip("/").split("/")[-2]] for u in units) / 2 / 60
    decided = status.split(": ", 1)[1].split(" comparisons")[0]
    stored = "" if done == len(units) else f", {len(units) - done} units not stored: not final"
    return f"{looks}: {decided} decided, {len(units)} units, {minutes:.1f} min{stored}"


def main():
    runs = sys.argv[1]
    convlab = sys.argv[2] if len(sys.argv) > 2 else "target/release/convlab"
    seconds = unit_seconds("runs/quick")
    lines = [lever(convlab, runs, looks, seconds) for looks in DESIGNS]
    print("\n".join(lines))
    record("make bench-sequential-study", [("the paper's plan on quick, designs replayed on the same stored runs: decided, units, minutes at the fixed study's per-unit times (2 workers)", "; ".join(lines))])


if __name__ == "__main__":
    main()
