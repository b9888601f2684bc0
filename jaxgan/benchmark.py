"""Step throughput: ``python -m jaxgan.benchmark --config configs/bench_dcgan32.py [--steps 20]``,
or ``python -m jaxgan.benchmark --suite`` for the standard cases (:data:`SUITE`).

Measures the real train step (same code as training) on a constant batch already on the
devices, and prints one JSON object:

* ``compile_s``: lowering + XLA compilation of the step;
* ``steps_per_sec_with_data``: the same, with each step's batch read from the data
  pipeline, split over devices and transferred one step ahead, as in training;
* ``steps_per_sec`` / ``images_per_sec``: steady state after ``--warmup`` steps, timed over
  ``--steps`` steps ended by ``block_until_ready`` (compilation excluded);
* ``xla_gflop_per_step`` and ``xla_gflops``: XLA's cost analysis of the compiled step,
  and that count times the measured rate (XLA counts the multiply-by-zero work of
  dilated convolutions, so this overstates useful work for generators);
* ``useful_gflop_per_step`` and ``useful_gflops``: the analytic count of
  :mod:`jaxgan.flops` (multiply-adds of every matmul and convolution in the traced step,
  without the zeros of dilated inputs), summed over devices, and that count times the rate;
* ``matmul_gflops``: a 2048x2048 fp32 matmul measured in the same process, the machine's
  practical peak, and ``fraction_of_matmul`` = ``useful_gflops / matmul_gflops``;
* ``peak_host_memory_mb``: the process's peak resident set size.

The recipe's ``dtype`` (mixed precision), ``train.grad_accum`` and
``train.steps_per_dispatch`` apply; with ``steps_per_dispatch = k`` each call runs ``k``
steps and every rate still counts steps.

``--suite`` runs each case of :data:`SUITE` in its own process (so the peak memory is the
case's own) and prints a JSON list of the results.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import os
import resource
import subprocess
import sys
import tempfile
import time
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from jaxgan import config as config_lib
from jaxgan import data as data_lib
from jaxgan import hostmem
from jaxgan.data.feed import DeviceFeed
from jaxgan.errors import JaxganError
from jaxgan.state import GANState, build_gan, create_state
from jaxgan.flops import count_flops
from jaxgan.parallel import AXIS, PARALLEL, multi_step, replicate, shard
from jaxgan.step import make_train_step
from jaxgan.train import select_devices


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
  """Best-of-``repeats`` fp32 ``n x n`` matmul rate on the default device, GFLOP/s."""
  a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32)
  b = jax.random.normal(jax.random.PRNGKey(1), (n, n), jnp.float32)
  f = jax.jit(lambda x, y: x @ y)
  f(a, b).block_until_ready()
  best = float("inf")
  for _ in range(repeats):
    t = time.perf_counter()
    f(a, b).block_until_ready()
    best = min(best, time.perf_counter() - t)
  return 2 * n ** 3 / best / 1e9


def _xla_flops(compiled) -> float:
  cost = compiled.cost_analysis()
  if isinstance(cost, (list, tuple)):
    return float(sum(c.get("flops", 0.0) for c in cost if c))
  return float((cost or {}).get("flops", 0.0))


class StepSetup(NamedTuple):
  """``config``'s train step as the trainer builds it, ready to time."""
  devices: list
  spec: data_lib.DataSpec
  source: data_lib.BatchSource
  batch: dict               # one constant input on the devices, ``steps_per_dispatch`` steps' worth
  state: GANState           # the initial state, replicated over ``devices``
  per_device_step: Callable  # one train step on one device's shard
  step_fn: Callable          # ``(state, batch) -> (state, metrics)`` over ``devices``


def build_step(config) -> StepSetup:
  """Builds ``config``'s step, initial state and a constant input, as the trainer would."""
  devices = select_devices(config)
  spec = data_lib.spec(config.data)
  gan = build_gan(config, spec)
  t = config.train
  source = data_lib.build(config.data, t.batch_size, config.seed)
  k = t.steps_per_dispatch  # train steps per call
  batch = shard(data_lib.next_step_input(source, t.n_critic, len(devices), k), devices)
  state = replicate(jax.device_get(create_state(gan, config.seed)), devices)
  per_device_step = make_train_step(gan, t.batch_size // len(devices))
  step_fn = PARALLEL.get(t.parallel)(multi_step(per_device_step, k), devices)
  return StepSetup(devices, spec, source, batch, state, per_device_step, step_fn)


def benchmark(config, steps: int = 20, warmup: int = 3) -> dict:
  """Times ``config``'s train step; see the module docstring for the fields."""
  devices, spec, source, batch, state, per_device_step, step_fn = build_step(config)
  t = config.train
  k = t.steps_per_dispatch  # train steps per call
  first = lambda tree: jax.tree.map(lambda x: x[0], tree)
  one_step_batch = jax.tree.map(lambda x: x[:, 0], batch) if k > 1 else batch
  useful = len(devices) * count_flops(per_device_step, first(state), first(one_step_batch),
                                      axis_env=[(AXIS, len(devices))])

  began = time.perf_counter()
  compiled = step_fn.lower(state, batch).compile()
  compile_s = time.perf_counter() - began
  for _ in range(warmup):
    state, metrics = compiled(state, batch)
  jax.block_until_ready(state)
  began = time.perf_counter()
  for _ in range(steps):
    state, metrics = compiled(state, batch)
  jax.block_until_ready((state, metrics))
  elapsed = time.perf_counter() - began

  steps_per_sec = steps * k / elapsed

  # The same steps fed from the data pipeline (read, split, transfer every step), as in
  # training, to show whether the step waits for data.
  feed = DeviceFeed(source, t.n_critic, len(devices), lambda b: shard(b, devices))
  state, metrics = compiled(state, feed.take(k))
  jax.block_until_ready(state)
  began = time.perf_counter()
  for _ in range(steps):
    state, metrics = compiled(state, feed.take(k))
    feed.prefetch(k)  # as the trainer does: the next input is read while this step runs
  jax.block_until_ready((state, metrics))
  data_steps_per_sec = steps * k / (time.perf_counter() - began)
  flops = _xla_flops(compiled) / k
  peak = matmul_gflops()
  achieved = flops * steps_per_sec / 1e9
  useful_rate = useful * steps_per_sec / 1e9
  device = devices[0]
  return {
      "generator": config.model.generator,
      "discriminator": config.model.discriminator,
      "data_shape": list(spec.shape),
      "batch_size": t.batch_size,
      "n_critic": t.n_critic,
      "steps_per_dispatch": k,
      "dtype": config.dtype,
      "grad_accum": t.grad_accum,
      "devices": len(devices),
      "platform": device.platform,
      "device_kind": device.device_kind,
      "parallel": t.parallel,
      "compile_s": round(compile_s, 3),
      "steps_per_sec": round(steps_per_sec, 3),
      "images_per_sec": round(steps_per_sec * t.batch_size, 1),
      "steps_per_sec_with_data": round(data_steps_per_sec, 3),
      "xla_gflop_per_step": round(flops / 1e9, 3),
      "xla_gflops": round(achieved, 2),
      "useful_gflop_per_step": round(useful / 1e9, 3),
      "useful_gflops": round(useful_rate, 2),
      "matmul_gflops": round(peak, 2),
      "fraction_of_matmul": float(f"{useful_rate / peak:.3g}") if peak else None,  # 3 significant digits
      "peak_host_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
      "timed_steps": steps * k,
      "jax_version": jax.__version__,
      "host": platform.processor() or platform.machine(),
      "date": datetime.date.today().isoformat(),
  }


CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")

# (name, recipe, overrides, most timed steps): the standard speed cases.
SUITE = (
    ("dcgan32_batch64", "bench_dcgan32.py", {}, 20),
    ("dcgan32_batch128", "bench_dcgan32.py", {"train.batch_size": "128"}, 20),
    ("dcgan32_batch64_bf16", "bench_dcgan32.py", {"dtype": "bfloat16"}, 20),
    ("sngan_resnet32_batch64", "cifar10_sngan.py",
     {"data.name": "synthetic_images", "train.batch_size": "64", "train.num_devices": "1"}, 3),
    ("mlp_ring8_batch256", "ring8_gan.py", {"train.num_devices": "1"}, 200),
)


def run_suite(steps: int, warmup: int, say=print) -> list[dict]:
  """Each :data:`SUITE` case in a fresh ``python -m jaxgan.benchmark`` process."""
  results = []
  for name, recipe, overrides, most_steps in SUITE:
    with tempfile.TemporaryDirectory() as tmp:
      out = os.path.join(tmp, "result.json")
      command = [sys.executable, "-m", "jaxgan.benchmark", "--config", os.path.join(CONFIGS, recipe),
                 "--steps", str(min(steps, most_steps)), "--warmup", str(warmup), "--out", out,
                 *[f"--config.{k}={v}" for k, v in overrides.items()]]
      say(f"[{len(results) + 1}/{len(SUITE)}] {name}: {' '.join(command[1:])}")
      done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
      if done.returncode:
        raise JaxganError(f"benchmark case {name} failed:\n{done.stderr[-2000:]}")
      with open(out) as f:
        results.append({"case": name, **json.load(f)})
  return results


def main(argv: list[str] | None = None) -> int:
  argv = sys.argv[1:] if argv is None else argv
  parser = argparse.ArgumentParser(prog="python -m jaxgan.benchmark", description=__doc__.splitlines()[0])
  what = parser.add_mutually_exclusive_group(required=True)
  what.add_argument("--config", help="a recipe to time")
  what.add_argument("--suite", action="store_true", help="every case of jaxgan.benchmark.SUITE")
  parser.add_argument("--steps", type=int, default=20, help="timed steps (suite: at most, per case)")
  parser.add_argument("--warmup", type=int, default=3)
  parser.add_argument("--out", default=None, help="also write the JSON here")
  try:
    rest, overrides = config_lib.parse_cli_overrides(argv)
    args = parser.parse_args(rest)
    if args.suite:
      if overrides:
        parser.error("--suite runs fixed cases; --config.* overrides apply to --config runs")
      result = run_suite(args.steps, args.warmup, say=lambda m: print(m, file=sys.stderr))
    else:
      config = config_lib.load(args.config, overrides)
      allocator = hostmem.apply(config.train.host_allocator)  # before any JAX computation starts XLA's threads
      result = {"config": args.config, "overrides": overrides, **benchmark(config, args.steps, args.warmup),
                "host_allocator": allocator}
  except JaxganError as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  text = json.dumps(result, indent=2)
  print(text)
  if args.out:
    with open(args.out, "w") as f:
      f.write(text + "\n")
  return 0


if __name__ == "__main__":
  sys.exit(main())
