"""Why members do not multiply throughput on a CPU: one small matmul vs. the same product
batched over K members (what ``jax.vmap`` of a step makes of each dense layer).

    python benchmarks/member_matmul.py [--rows 100] [--width 400] [--members 1,4,8,16]

Prints, for each member count K, the median time and GFLOP/s of ``einsum('kbi,kio->kbo')``
with K weight matrices (``[K, rows, width] x [K, width, width]``), next to the same rows
through one matmul (``[K * rows, width] x [width, width]``, the rate a shared weight would
reach) and the 2048x2048 matmul (the machine's practical peak). When the batched rate
stays at the one-member rate, a member axis adds work at the same speed and the aggregate
steps/s of a many-seed run stays flat (README, "Many seeds in one run").
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np


def median_s(fn, *args, repeats: int = 50) -> float:
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
  parser.add_argument("--rows", type=int, default=100, help="batch rows per member (default 100)")
  parser.add_argument("--width", type=int, default=400, help="layer width (default 400)")
  parser.add_argument("--members", default="1,4,8,16")
  args = parser.parse_args()
  n, w = args.rows, args.width
  key = jax.random.PRNGKey(0)
  big = jax.random.normal(key, (2048, 2048))
  peak = 2 * 2048 ** 3 / median_s(lambda a: a @ a, big, repeats=10) / 1e9
  print(f"2048x2048 matmul: {peak:.1f} GFLOP/s")
  print("members | batched (K weights) GFLOP/s | one matmul of K*rows GFLOP/s")
  for k in (int(x) for x in args.members.split(",")):
    x = jax.random.normal(key, (k, n, w))
    ws = jax.random.normal(jax.random.fold_in(key, 1), (k, w, w))
    flop = 2 * k * n * w * w
    batched = flop / median_s(lambda a, b: jnp.einsum("kbi,kio->kbo", a, b), x, ws) / 1e9
    flat = flop / median_s(lambda a, b: a @ b, x.reshape(k * n, w), ws[0]) / 1e9
    print(f"{k:7d} | {batched:27.1f} | {flat:.1f}")


if __name__ == "__main__":
  main()
