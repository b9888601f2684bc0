"""DCGAN-32 train step: jaxgan's vs. the same GAN written plainly in Flax, timed alternately.

    python benchmarks/dcgan32_plain_flax.py [--rounds 3] [--steps 5] [--batch 64]

The plain version is the textbook step: ``flax.linen`` ``Dense``/``ConvTranspose``/``Conv``/
``BatchNorm`` in the classic Radford et al. 2016 layout (G 100 -> 512x4x4 -> 256x8x8 ->
128x16x16 -> 3x32x32, D mirrored with LeakyReLU 0.2 and BatchNorm after the first layer),
non-saturating loss, one D and one G Adam update per step (lr 2e-4, beta1 0.5), the
generator run again for the G update, everything in one ``jax.jit``. jaxgan's step is
``configs/bench_dcgan32.py`` (same layout, loss, optimizers and batch) built by the
library. The two are timed in alternating rounds in one process, so a drift of the
machine's speed affects both; the JSON reports each round and the median ratio. Both run
in one process, so under the same host allocator setting (``--host_allocator``, default
``system``: glibc's defaults, as a plain Flax program has them; ``reuse``: see
:mod:`jaxgan.hostmem`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from jaxgan import config as config_lib
from jaxgan import data as data_lib
from jaxgan import hostmem
from jaxgan.run import build_step
from jaxgan.speed import matmul_gflops

CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs",
                      "bench_dcgan32.py")
INIT = nn.initializers.normal(0.02)


class PlainGenerator(nn.Module):
  """``z [B, 100] -> images [B, 32, 32, 3]`` with ``flax.linen`` layers only."""

  @nn.compact
  def __call__(self, z):
    x = nn.Dense(4 * 4 * 512, use_bias=False, kernel_init=INIT)(z).reshape((-1, 4, 4, 512))
    x = nn.relu(nn.BatchNorm(use_running_average=False, momentum=0.9)(x))
    for features in (256, 128):
      x = nn.ConvTranspose(features, (4, 4), (2, 2), padding="SAME", use_bias=False, kernel_init=INIT)(x)
      x = nn.relu(nn.BatchNorm(use_running_average=False, momentum=0.9)(x))
    return jnp.tanh(nn.ConvTranspose(3, (4, 4), (2, 2), padding="SAME", kernel_init=INIT)(x))


class PlainDiscriminator(nn.Module):
  """``images [B, 32, 32, 3] -> logits [B]`` with ``flax.linen`` layers only."""

  @nn.compact
  def __call__(self, x):
    x = nn.leaky_relu(nn.Conv(128, (4, 4), (2, 2), padding="SAME", kernel_init=INIT)(x), 0.2)
    for features in (256, 512):
      x = nn.Conv(features, (4, 4), (2, 2), padding="SAME", use_bias=False, kernel_init=INIT)(x)
      x = nn.leaky_relu(nn.BatchNorm(use_running_average=False, momentum=0.9)(x), 0.2)
    return nn.Dense(1, kernel_init=INIT)(x.reshape((x.shape[0], -1)))[:, 0]


def plain_step_and_state(batch_size: int, seed: int = 0):
  """The textbook jitted step ``(state, real [B, 32, 32, 3]) -> (state, (d_loss, g_loss))``."""
  g, d = PlainGenerator(), PlainDiscriminator()
  opt = optax.adam(2e-4, b1=0.5, b2=0.999)
  key_g, key_d, key = jax.random.split(jax.random.PRNGKey(seed), 3)
  g_vars = g.init(key_g, jnp.zeros((batch_size, 100)))
  d_vars = d.init(key_d, jnp.zeros((batch_size, 32, 32, 3)))
  state = dict(g=g_vars, d=d_vars, g_opt=opt.init(g_vars["params"]), d_opt=opt.init(d_vars["params"]), key=key)

  def run_d(params, stats, x):
    return d.apply({"params": params, "batch_stats": stats}, x, mutable=["batch_stats"])

  def run_g(params, stats, z):
    return g.apply({"params": params, "batch_stats": stats}, z, mutable=["batch_stats"])

  @jax.jit
  def step(state, real):
    key, key_d, key_g = jax.random.split(state["key"], 3)
    gv, dv = state["g"], state["d"]
    fake, g_upd = run_g(gv["params"], gv["batch_stats"], jax.random.normal(key_d, (batch_size, 100)))

    def d_loss(params):
      real_logits, upd = run_d(params, dv["batch_stats"], real)
      fake_logits, upd = run_d(params, upd["batch_stats"], fake)
      return jnp.mean(jax.nn.softplus(-real_logits) + jax.nn.softplus(fake_logits)), upd

    (dl, d_upd), d_grads = jax.value_and_grad(d_loss, has_aux=True)(dv["params"])
    updates, d_opt = opt.update(d_grads, state["d_opt"], dv["params"])
    dv = {"params": optax.apply_updates(dv["params"], updates), **d_upd}

    def g_loss(params):
      fake, upd = run_g(params, g_upd["batch_stats"], jax.random.normal(key_g, (batch_size, 100)))
      logits, _ = run_d(dv["params"], dv["batch_stats"], fake)
      return jnp.mean(jax.nn.softplus(-logits)), upd

    (gl, g_upd), g_grads = jax.value_and_grad(g_loss, has_aux=True)(gv["params"])
    updates, g_opt = opt.update(g_grads, state["g_opt"], gv["params"])
    gv = {"params": optax.apply_updates(gv["params"], updates), **g_upd}
    return dict(g=gv, d=dv, g_opt=g_opt, d_opt=d_opt, key=key), (dl, gl)

  return step, state


def jaxgan_step_and_state(config):
  """jaxgan's step for ``config``, with its state and a constant batch on the device."""
  setup = build_step(config)
  return setup.step_fn, setup.state, setup.batch


def time_steps(step, state, batch, steps: int):
  """Steps/s over ``steps`` calls ended by ``block_until_ready``; returns (rate, state)."""
  began = time.perf_counter()
  for _ in range(steps):
    state, out = step(state, batch)
  jax.block_until_ready((state, out))
  return steps / (time.perf_counter() - began), state


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--rounds", type=int, default=3)
  parser.add_argument("--steps", type=int, default=5, help="timed steps per round and version")
  parser.add_argument("--batch", type=int, default=64)
  parser.add_argument("--host_allocator", default="system", help="jaxgan.hostmem setting for this process")
  args = parser.parse_args()
  config = config_lib.load(CONFIG, {"train.batch_size": str(args.batch),
                                    "train.host_allocator": args.host_allocator})
  allocator = hostmem.apply(config.train.host_allocator)  # for both versions, before XLA starts
  plain, plain_state = plain_step_and_state(args.batch)
  real = data_lib.next_step_input(data_lib.build(config.data, args.batch, 0), 1, 1, 1)["x"].reshape(
      (args.batch, 32, 32, 3))
  ours, our_state, our_batch = jaxgan_step_and_state(config)
  for _ in range(2):  # compile and warm up both
    plain_state, _ = plain(plain_state, real)
    our_state, _ = ours(our_state, our_batch)
  jax.block_until_ready((plain_state, our_state))
  rounds = []
  for _ in range(args.rounds):
    plain_rate, plain_state = time_steps(plain, plain_state, real, args.steps)
    our_rate, our_state = time_steps(ours, our_state, our_batch, args.steps)
    rounds.append({"plain_flax_steps_per_sec": round(plain_rate, 3), "jaxgan_steps_per_sec": round(our_rate, 3),
                   "ratio": round(our_rate / plain_rate, 2)})
  print(json.dumps({
      "batch_size": args.batch, "steps_per_round": args.steps, "rounds": rounds,
      "median_ratio": statistics.median(r["ratio"] for r in rounds),
      "matmul_gflops": round(matmul_gflops(), 1), "host_allocator": allocator,
      "platform": jax.devices()[0].platform,
      "jax_version": jax.__version__}, indent=2))


if __name__ == "__main__":
  main()
