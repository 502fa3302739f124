"""Append benchmark results to bench/results.jsonl, each with the machine, date and commit.

    from record import record            # from another bench script
    record("make bench", [("epoch seconds, convlab / PyTorch pipeline", "0.72×"), …])
    python3 bench/record.py "make bench-grid" "measure=value" …   # from a shell script

One JSON line per measure: bench, measure, value, cpu (the model name lscpu reports),
cores, date, commit (with `+dirty` when the crate's code differed from it). bench/table.py turns the
file into the book's benchmark table; nothing there is typed by hand.
"""
import datetime
import json
import os
import platform
import subprocess
import sys

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.jsonl")


def machine():
    """The CPU model (as lscpu names it) and the core count."""
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
    return cpu, os.cpu_count()


def measured():
    """`Measured <date> on <cpu> (<n> cores), convlab <commit>`: the line a bench's printed table opens with."""
    cpu, cores = machine()
    return f"Measured {datetime.date.today()} on {cpu} ({cores} cores), convlab {commit()}"


def commit():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        sha = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        # Dirty when the code measured differs from the commit (not the docs or the scripts).
        code = ["src", "benches", "build.rs", "Cargo.toml", "Cargo.lock"]
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no", "--", *code], capture_output=True, text=True).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def record(bench, measures, path=RESULTS):
    cpu, cores = machine()
    stamp = {"cpu": cpu, "cores": cores, "date": datetime.date.today().isoformat(), "commit": commit()}
    with open(path, "a") as f:
        for measure, value in measures:
            f.write(json.dumps({"bench": bench, "measure": measure, "value": value, **stamp}, ensure_ascii=False) + "\n")
    print(f"recorded {len(measures)} result(s) of {bench} in {os.path.relpath(path)}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 3 or any("=" not in a for a in sys.argv[2:]):
        sys.exit("usage: record.py BENCH MEASURE=VALUE …")
    record(sys.argv[1], [tuple(a.split("=", 1)) for a in sys.argv[2:]])
