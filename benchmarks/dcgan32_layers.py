"""Per-layer timings of the DCGAN-32 convolutions: plain XLA ops vs. jaxgan's layers.

    python benchmarks/dcgan32_layers.py [--batch 64] [--repeats 7]

For each layer of the classic DCGAN-32 (G: 512x4x4 -> 256x8x8 -> 128x16x16 -> 3x32x32
transposed convs; D: the mirrored strided convs) it prints the median time and useful
GFLOP/s of the forward pass, the input gradient (dX) and the weight gradient (dW), first
for the plain ``lax`` op (what ``flax.linen.Conv``/``ConvTranspose`` run), then for the
``jaxgan.models.layers`` function the models use. Each op is jitted alone, so the numbers
show where a layer is slow, not the exact share of a fused train step.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.models import layers


def median_time(fn, *args, repeats: int) -> float:
  fn = jax.jit(fn)
  jax.block_until_ready(fn(*args))
  times = []
  for _ in range(repeats):
    began = time.perf_counter()
    jax.block_until_ready(fn(*args))
    times.append(time.perf_counter() - began)
  return float(np.median(times))


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch", type=int, default=64)
  parser.add_argument("--repeats", type=int, default=7)
  args = parser.parse_args()
  conv = lambda f: (lambda x, w: f(x, w, (2, 2), "SAME"))
  rows = [  # name, (plain, jaxgan), input [H, C_in], C_out
      ("D0 conv 32x32x3->16x16x128", (layers.plain_conv2d, layers.conv2d), (32, 3), 128),
      ("D1 conv 16x16x128->8x8x256", (layers.plain_conv2d, layers.conv2d), (16, 128), 256),
      ("D2 conv 8x8x256->4x4x512", (layers.plain_conv2d, layers.conv2d), (8, 256), 512),
      ("G0 convT 4x4x512->8x8x256", (layers.plain_conv_transpose, layers.conv_transpose), (4, 512), 256),
      ("G1 convT 8x8x256->16x16x128", (layers.plain_conv_transpose, layers.conv_transpose), (8, 256), 128),
      ("G2 convT 16x16x128->32x32x3", (layers.plain_conv_transpose, layers.conv_transpose), (16, 128), 3),
  ]
  key = jax.random.PRNGKey(0)
  print(f"{'layer':30s} {'impl':6s} {'fwd ms (GF/s)':>16s} {'dX ms (GF/s)':>16s} {'dW ms (GF/s)':>16s}")
  for name, impls, (size, c_in), c_out in rows:
    x = jax.random.normal(key, (args.batch, size, size, c_in))
    w = 0.02 * jax.random.normal(key, (4, 4, c_in, c_out))
    for tag, f in zip(("plain", "jaxgan"), impls):
      f = conv(f)
      y = f(x, w)
      g = jnp.ones_like(y)
      small = min(x.shape[1], y.shape[1])
      flops = 2 * args.batch * small * small * 16 * c_in * c_out
      cells = []
      for op in (lambda x, w, g: f(x, w),
                 lambda x, w, g: jax.vjp(lambda x: f(x, w), x)[1](g)[0],
                 lambda x, w, g: jax.vjp(lambda w: f(x, w), w)[1](g)[0]):
        t = median_time(op, x, w, g, repeats=args.repeats)
        cells.append(f"{t * 1e3:7.1f} ({flops / t / 1e9:5.0f})")
      print(f"{name:30s} {tag:6s} " + " ".join(f"{c:>16s}" for c in cells))


if __name__ == "__main__":
  main()
