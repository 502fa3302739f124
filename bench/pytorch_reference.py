"""The paper's training pipeline in PyTorch, for a side-by-side benchmark with convlab.

torchvision ImageFolder + PIL decoding every epoch, DataLoader(num_workers=0),
ToTensor + Normalize, the same ResNet (torchvision's BasicBlock layout, with the
study's small stem and a base width), SGD(lr, momentum 0.9), batch 64, the same
number of threads, the same libtorch (torch 2.11.0) — run on the same ImageFolder
tree convlab reads (`convlab data export` writes one).

    python bench/pytorch_reference.py --root TREE --width 16 --small-stem --channels 1 --json out.json
"""
import argparse
import ctypes
import json
import resource
import time

import torch
import torch.nn as nn
import torchvision
from torchvision import transforms


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    """torchvision's resnet18 layout with a configurable stem and width."""

    def __init__(self, blocks, width, in_channels, num_classes, small_stem):
        super().__init__()
        if small_stem:
            self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
            self.maxpool = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(in_channels, width, 7, 2, 3, bias=False)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.bn1 = nn.BatchNorm2d(width)
        layers, c_in = [], width
        for i, n in enumerate(blocks):
            c_out = width * 2**i
            stride = 1 if i == 0 else 2
            layers.append(nn.Sequential(*[BasicBlock(c_in if j == 0 else c_out, c_out, stride if j == 0 else 1) for j in range(n)]))
            c_in = c_out
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True, help="ImageFolder tree with train/")
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--small-stem", action="store_true")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--steps", type=int, default=30, help="timed steps of the in-memory measurement")
    ap.add_argument("--channels-last", action="store_true", help="NHWC model and batches (not the paper's pipeline: for comparison)")
    ap.add_argument("--keep-freed-memory", action="store_true", help="glibc mallopt as convlab sets it (not the paper's pipeline: for comparison)")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.keep_freed_memory:  # M_MMAP_THRESHOLD = 32 MiB, M_TRIM_THRESHOLD = 1 GiB, M_TOP_PAD = 64 MiB
        libc = ctypes.CDLL("libc.so.6")
        for param, value in ((-3, 32 << 20), (-1, 1 << 30), (-2, 64 << 20)):
            libc.mallopt(param, value)
    torch.set_num_threads(args.threads)
    torch.manual_seed(20211108)

    tf = [transforms.Grayscale(1)] if args.channels == 1 else []
    train_set = torchvision.datasets.ImageFolder(f"{args.root}/train", transform=transforms.Compose(tf + [transforms.ToTensor(), transforms.Normalize([0.5] * args.channels, [0.25] * args.channels)]))
    loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True, num_workers=0)
    model = ResNet([2, 2, 2, 2], args.width, args.channels, len(train_set.classes), args.small_stem)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    # In-memory step (the model's ceiling), as convlab's `step` measurement.
    x, y = next(iter(loader))
    x = x.contiguous(memory_format=fmt)
    for _ in range(5):
        opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    step_img_s = 0.0
    for _ in range(3):  # best of three blocks, as convlab's bench
        t0 = time.perf_counter()
        for _ in range(args.steps):
            opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
        step_img_s = max(step_img_s, args.steps * x.shape[0] / (time.perf_counter() - t0))

    # The loader alone, then whole epochs (the paper's loop: running loss and corrects).
    t0 = time.perf_counter()
    for _ in loader:
        pass
    loader_s = time.perf_counter() - t0
    model.train()
    epoch_s = float("inf")
    for _ in range(args.epochs):  # the fastest epoch, as convlab's bench
        t0 = time.perf_counter()
        running_loss, running_corrects = 0.0, 0
        for inputs, labels in loader:
            inputs = inputs.contiguous(memory_format=fmt)
            opt.zero_grad()
            outputs = model(inputs)
            loss = loss_fn(outputs, labels)
            loss.backward()
            opt.step()
            running_loss += loss.item() * inputs.size(0)
            running_corrects += (outputs.argmax(1) == labels).sum().item()
        epoch_s = min(epoch_s, time.perf_counter() - t0)
    result = {
        "name": f"pytorch {'small' if args.small_stem else 'imagenet'}-stem w{args.width}"
        + (" NHWC" if args.channels_last else "") + (" mallopt" if args.keep_freed_memory else ""),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "images": len(train_set),
        "step_img_s": step_img_s,
        "epoch_seconds": epoch_s,
        "epoch_img_s": len(train_set) / epoch_s,
        "loader_share": loader_s / epoch_s,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(result, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
