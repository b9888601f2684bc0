"""Where the SNGAN ResNet-32 step's time goes, op by op: each layer pattern of
``configs/cifar10_sngan.py`` (batch 64) timed as jaxgan computes it on this backend, as
XLA's plain op, and, with ``--torch_python``, as PyTorch eager (oneDNN) computes it, in
one run (the machine's speed drifts, so the three are timed back to back per op).

  python benchmarks/sngan_ops.py [--torch_python ../torchenv/bin/python] [--repeats 3] [--md]

Rows: the 3x3 stride-1 convolutions of G (256 channels at 8, 16, 32 px) and D (128 at 32,
16, 8; the 3-channel first layer), the 1x1 shortcuts, forward / input gradient / weight
gradient each; the nearest 2x upsample, BatchNorm (training, forward + backward), the 2x2
average pool and its gradient, one spectral-norm power iteration, and Adam over G's and D's
parameter counts. Times are the best of ``--repeats`` calls of a jit-compiled function
(torch: of the eager call), in ms; GFLOP/s counts multiply-adds x2 of the convolutions.
Prints a JSON list (and a Markdown table with ``--md``). Synthetic inputs; nothing is
downloaded; torch is never a dependency of jaxgan (the torch side is a subprocess).
"""

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time

B = 64
# (name, kind, H (input side), C_in, C_out, kernel): the layers of the SNGAN CIFAR-10 networks.
CONVS = [
    ("G conv3x3 256 @8", 3, 8, 256, 256), ("G conv3x3 256 @16", 3, 16, 256, 256),
    ("G conv3x3 256 @32", 3, 32, 256, 256), ("G out conv3x3 256->3 @32", 3, 32, 256, 3),
    ("G shortcut 1x1 256 @32", 1, 32, 256, 256),
    ("D first conv3x3 3->128 @32", 3, 32, 3, 128), ("D conv3x3 128 @32", 3, 32, 128, 128),
    ("D conv3x3 128 @16", 3, 16, 128, 128), ("D conv3x3 128 @8", 3, 8, 128, 128),
    ("D shortcut 1x1 128 @16", 1, 16, 128, 128),
]
OTHERS = [  # (name, kind, shape NHWC)
    ("nearest upsample 2x fwd+bwd", "upsample", (B, 16, 16, 256)),
    ("BatchNorm train fwd+bwd", "batchnorm", (B, 32, 32, 256)),
    ("avg pool 2x2 fwd+bwd", "avgpool", (B, 32, 32, 128)),
    ("spectral norm power iteration [1152, 128]", "sn", (1152, 128)),
    ("Adam, G's 4.3M parameters", "adam", (4_300_000,)),
    ("Adam, D's 1.1M parameters", "adam", (1_100_000,)),
]

TORCH_SIDE = textwrap.dedent("""
    import json, sys, time, torch, torch.nn.functional as F
    torch.set_num_threads(int(sys.argv[1])); spec = json.loads(sys.stdin.read()); reps = int(sys.argv[2])
    def best(f):
      f(); t = 1e9
      for _ in range(reps):
        s = time.perf_counter(); f(); t = min(t, time.perf_counter() - s)
      return t * 1e3
    out = {}
    for name, k, h, ci, co in spec["convs"]:
      x, w = torch.randn(spec["B"], ci, h, h), torch.randn(co, ci, k, k) * 0.05
      p = k // 2; g = torch.randn(spec["B"], co, h, h)
      bw = lambda m: torch.ops.aten.convolution_backward(g, x, w, None, [1, 1], [p, p], [1, 1], False, [0, 0], 1, m)
      out[name] = [best(lambda: F.conv2d(x, w, padding=p)), best(lambda: bw([True, False, False])),
                   best(lambda: bw([False, True, False]))]
    for name, kind, shape in spec["others"]:
      if kind == "upsample":
        x = torch.randn(shape[0], shape[3], shape[1], shape[2], requires_grad=True)
        g2 = torch.randn(shape[0], shape[3], 2 * shape[1], 2 * shape[2])
        f = lambda: F.interpolate(x, scale_factor=2).backward(g2)
      elif kind == "batchnorm":
        x = torch.randn(shape[0], shape[3], shape[1], shape[2], requires_grad=True); bn = torch.nn.BatchNorm2d(shape[3])
        g = torch.randn(x.shape); f = lambda: bn(x).backward(g)
      elif kind == "avgpool":
        x = torch.randn(shape[0], shape[3], shape[1], shape[2], requires_grad=True)
        gp = torch.randn(shape[0], shape[3], shape[1] // 2, shape[2] // 2)
        f = lambda: F.avg_pool2d(x, 2).backward(gp)
      elif kind == "sn":
        w = torch.randn(*shape); u = F.normalize(torch.randn(shape[1]), dim=0)
        def f():
          v = F.normalize(w @ u, dim=0); uu = F.normalize(w.t() @ v, dim=0); return (w @ uu) @ v
      else:
        p = torch.nn.Parameter(torch.randn(*shape)); p.grad = torch.randn(*shape)
        opt = torch.optim.Adam([p], 2e-4, betas=(0.0, 0.9)); f = opt.step
      out[name] = [best(f)]
    print(json.dumps(out))
""")


def jax_times(repeats: int) -> dict:
  """``{row: [jaxgan ms, plain XLA ms] per part}`` for every row."""
  import jax
  import jax.numpy as jnp
  import optax
  from jaxgan.models import blocks, layers

  def best(f, *args):
    f = jax.jit(f)
    jax.block_until_ready(f(*args))
    t = float("inf")
    for _ in range(repeats):
      s = time.perf_counter()
      jax.block_until_ready(f(*args))
      t = min(t, time.perf_counter() - s)
    return t * 1e3

  key = jax.random.PRNGKey(0)
  out = {}
  for name, k, h, ci, co in CONVS:
    x = jax.random.normal(key, (B, h, h, ci))
    w = jax.random.normal(key, (k, k, ci, co)) * 0.05
    g = jax.random.normal(key, (B, h, h, co))
    row = []
    for conv in (layers.conv2d, layers.plain_conv2d):
      f = lambda x, w: conv(x, w, (1, 1), "SAME")
      row.append([best(f, x, w), best(lambda x, w, g: jax.vjp(f, x, w)[1](g)[0], x, w, g),
                  best(lambda x, w, g: jax.vjp(f, x, w)[1](g)[1], x, w, g)])
    out[name] = row
  for name, kind, shape in OTHERS:
    x = jax.random.normal(key, shape)
    if kind == "upsample":  # forward and the VJP of a random cotangent (not foldable)
      up = blocks.upsample2x
      g2 = jax.random.normal(key, (shape[0], 2 * shape[1], 2 * shape[2], shape[3]))
      f = lambda x: (up(x), jax.vjp(up, x)[1](g2)[0])
    elif kind == "batchnorm":
      bn = layers.batch_norm(True, None)
      v = bn.init(key, x)
      f = jax.grad(lambda x: jnp.sum(bn.apply(v, x, mutable=["batch_stats"])[0] * x))
    elif kind == "avgpool":
      pool = blocks.avg_pool2x
      gp = jax.random.normal(key, (B, 16, 16, shape[3]))
      f = lambda x: (pool(x), jax.vjp(pool, x)[1](gp)[0])
    elif kind == "sn":
      u = jax.random.normal(key, (shape[1],))
      def f(w):
        v = w @ u / jnp.linalg.norm(w @ u)
        uu = w.T @ v / jnp.linalg.norm(w.T @ v)
        return (w @ uu) @ v
    else:
      opt = optax.adam(2e-4, b1=0.0, b2=0.9)
      st = opt.init(x)  # an argument, so nothing of the update is constant-folded
      f = lambda g, st: optax.apply_updates(g, opt.update(g, st, g)[0])
    t = best(f, x, st) if kind == "adam" else best(f, x)
    out[name] = [[t], [t]]
  return out


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--torch_python", help="a Python with torch (CPU) and numpy, to time PyTorch too")
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--md", action="store_true", help="also print a Markdown table")
  args = parser.parse_args()
  os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=1")
  import jax
  threads = os.cpu_count()
  torch = {}
  if args.torch_python:
    spec = {"B": B, "convs": [[n, k, h, ci, co] for n, k, h, ci, co in CONVS], "others": OTHERS}
    done = subprocess.run([args.torch_python, "-c", TORCH_SIDE, str(threads), str(args.repeats)],
                          input=json.dumps(spec), capture_output=True, text=True)
    if done.returncode:
      sys.exit(f"error: the torch side failed:\n{done.stderr[-2000:]}")
    torch = json.loads(done.stdout)
  ours = jax_times(args.repeats)
  rows = []
  for name, k, h, ci, co in CONVS:
    flop = 2 * B * h * h * ci * co * k * k
    for i, part in enumerate(("forward", "input grad", "weight grad")):
      r = {"op": f"{name} {part}", "jaxgan_ms": ours[name][0][i], "xla_plain_ms": ours[name][1][i],
           "jaxgan_gflops": flop / ours[name][0][i] / 1e6}
      if name in torch:
        r["torch_ms"] = torch[name][i]
        r["torch_over_jaxgan"] = torch[name][i] / ours[name][0][i]
      rows.append(r)
  for name, _, _ in OTHERS:
    r = {"op": name, "jaxgan_ms": ours[name][0][0], "xla_plain_ms": ours[name][1][0]}
    if name in torch:
      r["torch_ms"] = torch[name][0]
      r["torch_over_jaxgan"] = torch[name][0] / ours[name][0][0]
    rows.append(r)
  print(json.dumps({"backend": jax.default_backend(), "threads": threads, "batch": B, "rows": rows}, indent=1))
  if args.md:
    print("| op (batch 64) | jaxgan ms | XLA plain ms | PyTorch ms | PyTorch / jaxgan |\n|---|---|---|---|---|")
    for r in rows:
      t = f"{r['torch_ms']:.1f} | {r['torch_over_jaxgan']:.2f}" if "torch_ms" in r else "- | -"
      print(f"| {r['op']} | {r['jaxgan_ms']:.1f} | {r['xla_plain_ms']:.1f} | {t} |")


if __name__ == "__main__":
  main()
