"""convlab's TensorBoard event files, read back by the `tensorboard` package's own reader.

    python tests/tensorboard_events.py

Run by `make test` (target test-tensorboard) with the project venv's Python. It trains a
small run with `convlab train` on a synthetic tree, kills it (SIGKILL) once three
epochs are on disk, resumes it with `--resume`, and checks with TensorBoard's
EventAccumulator that every epoch's scalars equal `history.csv` (as float32), that no
step appears twice across the two processes' files, and that the run's config is there
as text.
"""
import csv
import os
import shutil
import subprocess
import sys
import tempfile

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util import tensor_util

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXE = os.path.join(ROOT, "target", "release", "convlab")
EPOCHS = 8
TAGS = {"train/loss": "train_loss", "train/acc": "train_acc", "val/loss": "val_loss", "val/acc": "val_acc", "val/top5": "val_top5", "lr": "lr", "images_per_s": "images_per_s"}


def fail(msg):
    print(f"tensorboard: FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    tmp = tempfile.mkdtemp(prefix="convlab-tb-")
    try:
        tree, runs, cache = (os.path.join(tmp, d) for d in ("tree", "runs", "cache"))
        subprocess.run([EXE, "data", "synth", "--out", tree, "--classes", "4", "--train-per-class", "150", "--val-per-class", "20", "--size", "16"], check=True, capture_output=True)
        cmd = [EXE, "train", "--name", "tb", "--data", f"imagefolder:{tree}", "--width", "4", "--epochs", str(EPOCHS), "--batch-size", "16",
               "--runs", runs, "--seed", "1", "--threads", "1", "--cache", cache]
        # Killed once epoch 3 is logged (it is on disk by then): a crash, not a clean stop.
        p = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        killed = False
        for line in p.stderr:
            if f" epoch  3/{EPOCHS}" in line:
                p.kill()
                killed = True
                break
        p.wait()
        if not killed:
            fail("the run finished before it could be killed after epoch 3")
        run = os.path.join(runs, "tb", "seed-1")
        subprocess.run(cmd + ["--resume"], check=True, capture_output=True)

        with open(os.path.join(run, "history.csv")) as f:
            history = list(csv.DictReader(f))
        if [int(r["epoch"]) for r in history] != list(range(1, EPOCHS + 1)):
            fail(f"history.csv has epochs {[r['epoch'] for r in history]}")
        files = sorted(f for f in os.listdir(run) if f.startswith("events.out.tfevents."))
        if len(files) != 2:
            fail(f"expected one event file per process (2), found {files}")

        ea = EventAccumulator(run, size_guidance={"scalars": 0, "tensors": 0})
        ea.Reload()
        for tag, column in TAGS.items():
            events = ea.Scalars(tag)
            steps = [e.step for e in events]
            if steps != list(range(1, EPOCHS + 1)):
                fail(f"{tag}: steps {steps}, expected each epoch once")
            for e, r in zip(events, history):
                want = float(r[column])
                if abs(e.value - want) > 1e-6 * max(1.0, abs(want)):
                    fail(f"{tag} at epoch {e.step}: {e.value} in the events, {want} in history.csv")
        config = ea.Tensors("config")
        if len(config) != 1:
            fail(f"config: {len(config)} text events, expected 1")
        text = tensor_util.make_ndarray(config[0].tensor_proto).item().decode()
        if '"model"' not in text or '"epochs": 8' not in text:
            fail(f"config text: {text[:200]!r}")

        # A run recorded before the writer existed: `convlab runs --tensorboard` writes its
        # events with the wall times it trained at — the last epoch when history.csv was last
        # written, each earlier one its successors' seconds before.
        for f in files:
            os.remove(os.path.join(run, f))
        end = os.path.getmtime(os.path.join(run, "history.csv"))
        subprocess.run([EXE, "runs", "--runs", runs, "--tensorboard"], check=True, capture_output=True)
        ea = EventAccumulator(run, size_guidance={"scalars": 0, "tensors": 0})
        ea.Reload()
        events = ea.Scalars("val/acc")
        if [e.step for e in events] != list(range(1, EPOCHS + 1)):
            fail(f"backfill: steps {[e.step for e in events]}")
        if abs(events[-1].wall_time - end) > 1e-3:
            fail(f"backfill: the last epoch at {events[-1].wall_time}, history.csv written at {end}")
        for a, b, r in zip(events, events[1:], history[1:]):
            if abs((b.wall_time - a.wall_time) - float(r["seconds"])) > 1e-3:
                fail(f"backfill: epochs {a.step}→{b.step} {b.wall_time - a.wall_time:.3f} s apart, history.csv says {r['seconds']} s")
        print(f"tensorboard: passed ({len(TAGS)} scalars × {EPOCHS} epochs equal history.csv, killed after epoch 3 and resumed, {len(files)} event files, no step twice, config as text; backfilled at the epochs' own wall times)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
