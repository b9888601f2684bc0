"""Yardstick: the MLP toy GAN of configs/ring8_gan.py (G 64 -> 128 -> 128 -> 128 -> 2 with ReLU,
D 2 -> 128 -> 128 -> 128 -> 1 with LeakyReLU 0.2, non-saturating loss, Adam(1e-3, 0.5, 0.999) for
both, batch 256, one D and one G update per step, the G update reusing the generated batch) in
PyTorch eager on CPU, written plainly. Prints one JSON line with eager_steps_per_s.
Usage: torch_mlp.py [batch] [seconds]. Needs torch and numpy (never a dependency of jaxgan);
synthetic inputs (8 Gaussians on the unit circle, std 0.01), nothing is downloaded."""
import json, math, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

B = int(sys.argv[1]) if len(sys.argv) > 1 else 256
T = float(sys.argv[2]) if len(sys.argv) > 2 else 20
Z, W = 64, 128


def mlp(sizes, act):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


g = mlp([Z, W, W, W, 2], nn.ReLU)
d = mlp([2, W, W, W, 1], lambda: nn.LeakyReLU(0.2))
og = torch.optim.Adam(g.parameters(), 1e-3, betas=(0.5, 0.999))
od = torch.optim.Adam(d.parameters(), 1e-3, betas=(0.5, 0.999))
angles = torch.randint(0, 8, (B,)).float() * (2 * math.pi / 8)
real = torch.stack([angles.cos(), angles.sin()], 1) + 0.01 * torch.randn(B, 2)


def step():
    fake = g(torch.randn(B, Z))
    loss = F.softplus(-d(real)).mean() + F.softplus(d(fake.detach())).mean()
    od.zero_grad(set_to_none=True); loss.backward(); od.step()
    gl = F.softplus(-d(fake)).mean(); og.zero_grad(set_to_none=True); gl.backward(); og.step()
    return gl.item()


for _ in range(20):
    step()
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < T or n < 2:
    step(); n += 1
print(json.dumps({"framework": "torch " + torch.__version__, "threads": torch.get_num_threads(), "batch": B,
                  "eager_steps_per_s": n / (time.perf_counter() - t0)}))
