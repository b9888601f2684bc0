"""Step throughput (the library behind ``python -m jaxgan.benchmark``): ``python -m jaxgan.benchmark --config configs/bench_dcgan32.py [--steps 20]``,
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
case's own) and prints a JSON list of the results; ``--cases a,b`` runs some of them. With
``--torch_python PATH`` (a separate environment with CPU PyTorch) the cases that name a
PyTorch eager step of the same GAN (DCGAN-32, SNGAN ResNet-32, the MLP toy GAN) alternate
``--rounds`` times with it and get ``torch_ratio``, jaxgan's steps/s over PyTorch's.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxgan import xlaflags
from jaxgan.errors import JaxganError
from jaxgan.flops import count_flops
from jaxgan.parallel import AXIS
from jaxgan.run import build_model, build_step, device_feed


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
  feed = device_feed(build_model(config), source, devices)
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
      "num_seeds": t.num_seeds,
      "member_steps_per_sec": round(steps_per_sec * t.num_seeds, 3),  # steps/s x members
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
      "xla_flags": xlaflags.in_effect(),
      "host": platform.processor() or platform.machine(),
      "date": datetime.date.today().isoformat(),
  }


CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")

class Case(NamedTuple):
  """A standard speed case: a recipe file of configs/ with overrides, timed for at most
  ``most_steps`` steps (the slow ones fewer), how a results table names it, and the
  PyTorch eager step of the same GAN (a script name, see :func:`torch_rate`) timed beside
  it when the suite is given a PyTorch environment."""
  name: str
  recipe: str
  overrides: dict
  most_steps: int
  label: str = ""
  torch: str = ""


SUITE = (
    Case("dcgan32_batch64", "bench_dcgan32.py", {}, 20, "DCGAN-32 (`bench_dcgan32`)", "torch_dcgan.py"),
    Case("dcgan32_batch128", "bench_dcgan32.py", {"train.batch_size": "128"}, 20, "DCGAN-32"),
    Case("dcgan32_batch64_bf16", "bench_dcgan32.py", {"dtype": "bfloat16"}, 20, "DCGAN-32"),
    Case("sngan_resnet32_batch64", "cifar10_sngan.py",
         {"data.name": "synthetic_images", "train.batch_size": "64", "train.num_devices": "1"}, 3,
         "SNGAN ResNet-32 (`cifar10_sngan`, 5 D steps per G step, synthetic data)", "torch_sngan.py"),
    Case("r3gan_fashion28_batch64", "fashion_mnist_r3gan.py",
         {"data.name": "synthetic_images", "data.resolution": "28", "data.channels": "1",
          "train.num_devices": "1"}, 5,
         "R3GAN-28 (`fashion_mnist_r3gan`, lazy R1 + R2, synthetic data)"),
    Case("stylegan2_fashion32_batch32", "fashion_mnist_stylegan2.py",
         {"data.name": "synthetic_images", "data.resolution": "32", "data.channels": "1",
          "train.num_devices": "1"}, 10,
         "StyleGAN2-32 (`fashion_mnist_stylegan2`, lazy R1, synthetic data)"),
    Case("mlp_ring8_batch256", "ring8_gan.py", {"train.num_devices": "1"}, 200, "MLP toy GAN (`ring8_gan`)",
         "torch_mlp.py"),
)


def _in_fresh_process(name: str, recipe: str, overrides: dict, steps: int, warmup: int) -> dict:
  """``python -m jaxgan.benchmark --config recipe`` with ``overrides``, in its own process."""
  with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "result.json")
    command = [sys.executable, "-m", "jaxgan.benchmark", "--config", recipe, "--steps", str(steps),
               "--warmup", str(warmup), "--out", out, *[f"--config.{k}={v}" for k, v in overrides.items()]]
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode:
      raise JaxganError(f"benchmark case {name} failed:\n{done.stderr[-2000:]}")
    with open(out) as f:
      return json.load(f)


TORCH_STEPS = os.path.join(os.path.dirname(CONFIGS), "benchmarks", "torch_reference")  # in a checkout
TORCH_SECONDS = 20.0  # timed seconds of each PyTorch round (after its own warm-up steps)


def torch_rate(python: str, script: str, batch: int, seconds: float = TORCH_SECONDS) -> float:
  """Steps/s of a PyTorch eager step script run by ``python`` (a separate environment:
  torch is never a dependency of jaxgan). The script takes ``[batch] [seconds]``, warms up,
  steps for about ``seconds`` and prints a JSON line with ``eager_steps_per_s`` last (the
  convention of ``benchmarks/torch_reference/``)."""
  done = subprocess.run([python, script, str(batch), str(seconds)], capture_output=True, text=True)
  if done.returncode:
    raise JaxganError(f"the PyTorch step {script} failed under {python}:\n{done.stderr[-2000:]}")
  try:
    return float(json.loads(done.stdout.strip().splitlines()[-1])["eager_steps_per_s"])
  except (IndexError, KeyError, ValueError) as e:
    raise JaxganError(f"the PyTorch step {script} printed no JSON line with eager_steps_per_s "
                      f"(its output ended: {done.stdout[-300:]!r})") from e


def _torch_script(name: str, dirs: list[str]) -> str:
  for folder in dirs:
    path = os.path.join(folder, name)
    if os.path.isfile(path):
      return path
  raise JaxganError(f"the PyTorch step {name} is in none of the --torch_steps folders {dirs}; "
                    f"pass the folder that holds it (e.g. --torch_steps ../shared/tools/torch_reference)")


def run_suite(steps: int, warmup: int, say=print, cases: list[str] | None = None, torch_python: str | None = None,
              torch_steps: list[str] | None = None, rounds: int = 2) -> list[dict]:
  """Each :data:`SUITE` case (or the ones named in ``cases``) in a fresh ``python -m
  jaxgan.benchmark`` process.

  With ``torch_python``, each case that names a PyTorch step runs ``rounds`` times,
  alternating with that step (:func:`torch_rate`; scripts looked up in ``torch_steps``,
  then in the checkout's ``benchmarks/torch_reference``), so a drift of the machine's
  speed affects both; the row is the first jaxgan round plus ``torch_steps_per_sec``
  (median), ``rounds`` (each round's pair) and ``torch_ratio`` (median of the per-round
  jaxgan / PyTorch ratios).
  """
  chosen = [Case(*c) for c in SUITE]  # plain tuples of the first four fields too
  if cases is not None:
    unknown = sorted(set(cases) - {c.name for c in chosen})
    if unknown:
      raise JaxganError(f"unknown suite case(s) {unknown}; the cases are {[c.name for c in chosen]}")
    chosen = [c for c in chosen if c.name in cases]
  dirs = [*(torch_steps or []), TORCH_STEPS]
  scripts = {c.name: _torch_script(c.torch, dirs) for c in chosen if torch_python and c.torch}  # fail first
  results = []
  for case in chosen:
    recipe = os.path.join(CONFIGS, case.recipe)
    say(f"[{len(results) + 1}/{len(chosen)}] {case.name}: {case.recipe} {case.overrides}")
    run = lambda: _in_fresh_process(case.name, recipe, case.overrides, min(steps, case.most_steps), warmup)
    row = {"case": case.name, "label": case.label or case.name, **run()}
    if case.name in scripts:
      pairs = []
      for r in range(rounds):
        ours = row if r == 0 else run()
        theirs = torch_rate(torch_python, scripts[case.name], row["batch_size"])
        say(f"  round {r + 1}/{rounds}: jaxgan {ours['steps_per_sec']:.4g} steps/s, PyTorch {theirs:.4g}")
        pairs.append({"jaxgan": ours["steps_per_sec"], "torch": round(theirs, 4)})
      row.update(torch_step=os.path.basename(scripts[case.name]), rounds=pairs,
                 torch_steps_per_sec=round(statistics.median(p["torch"] for p in pairs), 4),
                 torch_ratio=round(statistics.median(p["jaxgan"] / p["torch"] for p in pairs), 3))
    results.append(row)
  return results


def members_sweep(recipe: str, overrides: dict, counts: list[int], steps: int, warmup: int,
                  say=print) -> list[dict]:
  """``recipe`` timed with ``train.num_seeds = K`` for each K of ``counts`` (one fresh
  process each): steps/s, steps/s x members, and that aggregate over the first K's
  (``aggregate_speedup``), the figure a many-seed run is for (:mod:`jaxgan.members`)."""
  results = []
  for k in counts:
    say(f"[{len(results) + 1}/{len(counts)}] {os.path.basename(recipe)} with train.num_seeds={k}")
    result = _in_fresh_process(f"num_seeds={k}", recipe, {**overrides, "train.num_seeds": str(k)}, steps, warmup)
    base = results[0]["member_steps_per_sec"] if results else result["member_steps_per_sec"]
    results.append({**result, "aggregate_speedup": round(result["member_steps_per_sec"] / base, 3)})
  return results
