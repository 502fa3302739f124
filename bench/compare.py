"""Print convlab's and the PyTorch pipeline's figures side by side, with ratios.

    python bench/compare.py convlab.json pytorch.json
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import machine, record  # noqa: E402

c = json.load(open(sys.argv[1]))
p = json.load(open(sys.argv[2]))
cpu, _ = machine()
print(f"machine: {cpu}, {c['threads']} threads; {c['name']} on {c['device']}, batch {c['batch_size']}")
print("| measure | convlab | PyTorch pipeline | ratio |")
print("|---|---|---|---|")
print(f"| epoch seconds ({p['images']} images) | {c['epoch_seconds']:.2f} | {p['epoch_seconds']:.2f} | {c['epoch_seconds'] / p['epoch_seconds']:.2f}× the time |")
print(f"| epoch img/s | {c['epoch_img_s']:.0f} | {p['epoch_img_s']:.0f} | {c['epoch_img_s'] / p['epoch_img_s']:.2f}× |")
print(f"| train step img/s (in memory) | {c['step_img_s']:.0f} | {p['step_img_s']:.0f} | {c['step_img_s'] / p['step_img_s']:.2f}× |")
print(f"| loader share of the epoch | {100 * c['loader_share']:.2f}% | {100 * p['loader_share']:.1f}% | |")
print(f"| convlab step vs raw libtorch step | {c['step_img_s']:.0f} vs {c['raw_step_img_s']:.0f} img/s | | {c['step_img_s'] / c['raw_step_img_s']:.3f} |")
print(f"| peak RSS MiB | {c['peak_rss_mib']:.0f} | {p['peak_rss_mib']:.0f} | |")
record(
    "make bench",
    [
        (f"epoch time, convlab / PyTorch pipeline ({p['images']} images, {c['threads']} threads)", f"{c['epoch_seconds']:.2f} s / {p['epoch_seconds']:.2f} s = {c['epoch_seconds'] / p['epoch_seconds']:.2f}×"),
        ("train step img/s, convlab / PyTorch pipeline", f"{c['step_img_s']:.0f} / {p['step_img_s']:.0f}"),
        ("loader share of the epoch, convlab / PyTorch pipeline", f"{100 * c['loader_share']:.2f}% / {100 * p['loader_share']:.1f}%"),
        ("convlab step / libtorch's own SGD step", f"{c['step_img_s'] / c['raw_step_img_s']:.3f}"),
        ("peak RSS, convlab / PyTorch pipeline", f"{c['peak_rss_mib']:.0f} / {p['peak_rss_mib']:.0f} MiB"),
    ],
)
