# References for convlab's optimizer and loss tests (src/train/optim.rs, src/train/fit.rs),
# printed by the project venv's torch 2.11.0 / torchvision 0.26.0:
#   $CONVLAB_VENV/bin/python tests/references/optimizers.py
import torch
torch.set_default_dtype(torch.float32)
W0 = [[0.5, -0.25], [1.0, 0.75]]; T = [[0.1, 0.2], [-0.3, 0.4]]; B0 = [0.3, -0.6]
def run(make, filt):
    w = torch.tensor(W0, requires_grad=True); b = torch.tensor(B0, requires_grad=True)
    groups = [{"params": [w]}, {"params": [b], "weight_decay": 0.0}] if filt else [{"params": [w, b]}]
    opt = make(groups)
    for _ in range(3):
        opt.zero_grad()
        loss = 0.5 * ((w - torch.tensor(T)) ** 2).sum() + (b ** 3).sum() / 3
        loss.backward(); opt.step()
    return [round(x, 9) for x in w.detach().flatten().tolist()], [round(x, 9) for x in b.detach().tolist()]
sgd = lambda g: torch.optim.SGD(g, lr=0.1, momentum=0.9, weight_decay=0.05, nesterov=True)
adamw = lambda g: torch.optim.AdamW(g, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
for name, make in [("sgd", sgd), ("adamw", adamw)]:
    for filt in [False, True]:
        print(name, "filter" if filt else "all", run(make, filt))
logits = torch.tensor([[1.0, 2.0, 0.5], [0.1, -1.0, 3.0]], requires_grad=True); labels = torch.tensor([1, 2])
loss = torch.nn.functional.cross_entropy(logits, labels, label_smoothing=0.1); loss.backward()
print("ce_ls", repr(loss.item()), [round(x, 9) for x in logits.grad.flatten().tolist()])
import torchvision
m = torchvision.models.resnet18(num_classes=10)
no_decay = sorted(n for n, p in m.named_parameters() if p.ndim <= 1 or n.endswith(".bias"))
print("no_decay", len(no_decay), len(list(m.parameters())), no_decay[:3], no_decay[-3:])
print(torch.__version__, torchvision.__version__)
# clip_grad_norm_(max_norm=0.5) before each of 3 steps of the SGD above (weight decay on both)
w = torch.tensor(W0, requires_grad=True); b = torch.tensor(B0, requires_grad=True)
opt = sgd([{"params": [w, b]}])
for _ in range(3):
    opt.zero_grad()
    loss = 0.5 * ((w - torch.tensor(T)) ** 2).sum() + (b ** 3).sum() / 3
    loss.backward(); torch.nn.utils.clip_grad_norm_([w, b], max_norm=0.5); opt.step()
print("sgd clip", [round(x, 9) for x in w.detach().flatten().tolist()], [round(x, 9) for x in b.detach().tolist()])
