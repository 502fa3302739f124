"""Execute convlab's evcxr notebooks headless with the 'convlab' kernel.

    run_notebooks.py [--in-place] [--html DIR] NOTEBOOK...
    run_notebooks.py --warm

--warm compiles the notebooks' dependencies (libtorch's bindings, polars,
plotters, convlab) into the kernel's first build slot by running a two-cell
notebook, so that the first notebook a user opens starts in seconds.

Each notebook runs with its own directory as the kernel's working directory (so
`:dep convlab = { path = "..", default-features = false }` finds the crate). With --in-place the executed
notebook replaces the original (atomically); without it, outputs go to a
temporary copy and the originals stay untouched (what CI does). Any error
output fails the run, naming the notebook and cell. The profile is whatever
CONVLAB_PROFILE / convlab.toml say.
"""
import argparse
import os
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("notebooks", nargs="*")
    ap.add_argument("--warm", action="store_true", help="only compile the notebooks' dependencies into a build slot")
    ap.add_argument("--in-place", action="store_true", help="write outputs into the notebooks")
    ap.add_argument("--html", help="also export HTML into this directory")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    args = ap.parse_args()
    if args.warm:
        return warm()
    if not args.notebooks:
        ap.error("name at least one notebook (or --warm)")
    scratch = tempfile.mkdtemp(prefix="convlab-notebooks-")
    failed = []
    for path in args.notebooks:
        path = os.path.abspath(path)
        nb = nbformat.read(path, as_version=4)
        t0 = time.time()
        client = NotebookClient(
            nb,
            timeout=args.timeout,
            kernel_name="convlab",
            resources={"metadata": {"path": os.path.dirname(path)}},
            record_timing=False,  # no timestamps in committed notebooks
        )
        try:
            client.execute()
        except CellExecutionError as e:
            failed.append(path)
            print(f"FAILED {path}:\n{str(e)[-3000:]}", file=sys.stderr)
        errors = [
            (i, o.get("ename"), o.get("evalue"))
            for i, c in enumerate(nb.cells)
            for o in c.get("outputs", [])
            if o.get("output_type") == "error"
        ]
        if errors and path not in failed:
            failed.append(path)
            print(f"FAILED {path}: error outputs in cells {errors}", file=sys.stderr)
        out = path if args.in_place else os.path.join(scratch, os.path.basename(path))
        tmp = out + ".tmp"
        nbformat.write(nb, tmp)
        os.replace(tmp, out)
        if args.html:
            from nbconvert import HTMLExporter

            os.makedirs(args.html, exist_ok=True)
            body, _ = HTMLExporter().from_notebook_node(nb)
            html = os.path.join(args.html, os.path.basename(path).replace(".ipynb", ".html"))
            with open(html + ".tmp", "w") as f:
                f.write(body)
            os.replace(html + ".tmp", html)
        status = "failed" if path in failed else "ok"
        print(f"{os.path.basename(path)}: {status} in {time.time() - t0:.0f} s -> {out}", flush=True)
    n = len(args.notebooks)
    print(f"notebooks: {n - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def warm() -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(':dep convlab = { path = "..", default-features = false }'),
        nbformat.v4.new_code_cell('use convlab::prelude::*;\nprintln!("{}", libtorch_info());'),
    ]
    t0 = time.time()
    client = NotebookClient(nb, timeout=3600, kernel_name="convlab", resources={"metadata": {"path": os.path.join(root, "notebooks")}})
    try:
        client.execute()
    except CellExecutionError as e:
        print(f"warming the notebook build failed:\n{str(e)[-3000:]}", file=sys.stderr)
        return 1
    print(f"notebook build slot warm in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
