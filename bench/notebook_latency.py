"""Notebook latency, as a user waits for it: the kernel "Rust (convlab)" started
fresh in notebooks/, then its first cells (`:dep`, `use` + `Study`), then one
ablation cell re-run on stored runs (twice).

    bench/notebook_latency.py [--repeat 3] [--variant instance]

Needs the quick profile's stored runs of the variant (`make study`, or
`convlab study --sections normalization`): the point is what re-running a cell
costs when nothing is trained. Prints one line per repeat and the median.
Targets (issue #11, 2-core machine, warm build pool): first cells < 45 s,
re-run of one ablation cell < 20 s.
"""
import argparse
import os
import statistics
import sys
import time

from jupyter_client.manager import start_new_kernel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import record  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(kc, code, timeout=1800):
    """Execute `code`; return (seconds, error or None)."""
    t0 = time.time()
    msg_id = kc.execute(code)
    error = None
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "error":
            error = f"{msg['content']['ename']}: {msg['content']['evalue']}"
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return time.time() - t0, error


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--variant", default="instance")
    args = ap.parse_args()
    profile = os.environ.get("CONVLAB_PROFILE", "quick")
    runs = os.environ.get("CONVLAB_RUNS", os.path.join(ROOT, "runs"))
    stored = os.path.join(runs, profile, args.variant)
    if not os.path.exists(os.path.join(stored, "summary.json")):
        print(f"no stored runs in {stored}: run `make study` (or `convlab study --sections …`) first", file=sys.stderr)
        return 1
    cells = [
        ':dep convlab = { path = "..", default-features = false }',
        'use convlab::prelude::*;\nlet study = Study::from_env()?;\nprintln!("{}", study.describe());',
    ]
    ablation = f'let one = study.run_variant("{args.variant}")?;\none.seed_curves()'
    rows = []
    for r in range(args.repeat):
        t0 = time.time()
        km, kc = start_new_kernel(kernel_name="convlab", cwd=os.path.join(ROOT, "notebooks"), startup_timeout=120)
        try:
            start = time.time() - t0
            times = []
            for c in cells:
                s, err = run(kc, c)
                if err:
                    print(f"cell failed: {err}\n{c}", file=sys.stderr)
                    return 1
                times.append(s)
            first = time.time() - t0
            reruns = []
            for _ in range(2):
                s, err = run(kc, ablation)
                if err:
                    print(f"ablation cell failed: {err}", file=sys.stderr)
                    return 1
                reruns.append(s)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
        rows.append((first, reruns[1]))
        print(
            f"repeat {r + 1}: kernel start {start:.1f} s, :dep {times[0]:.1f} s, use+Study {times[1]:.1f} s → first cells {first:.1f} s; "
            f"ablation cell `{args.variant}` {reruns[0]:.1f} s, again {reruns[1]:.1f} s",
            flush=True,
        )
    first, rerun = statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
    record(
        "make bench-notebook",
        [
            (f"a fresh kernel's first cells (start, `:dep`, `use` + `Study::from_env`), median of {len(rows)}", f"{first:.1f} s (target < 45 s)"),
            (f"re-running one ablation cell (`{args.variant}` and its figure, runs stored), median of {len(rows)}", f"{rerun:.1f} s (target < 20 s)"),
        ],
    )
    print(
        f"median of {len(rows)}: first cells {statistics.median(r[0] for r in rows):.1f} s (target < 45 s), "
        f"re-run of one ablation cell {statistics.median(r[1] for r in rows):.1f} s (target < 20 s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
