"""Evaluation: ``python -m jaxgan.evaluate --workdir runs/X [--metrics auto] [--num_samples N]``.

Each metric is an :class:`Evaluator` picked by name; ``auto`` picks those that apply to the
run's data set. Results are appended to ``WORKDIR/metrics/<name>.jsonl`` as one JSON line
holding the values, the checkpoint step and the protocol, and printed as a table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from typing import Callable

import numpy as np

from jaxgan import reporting
from jaxgan.data import DataSpec, toy
from jaxgan.errors import JaxganError
from jaxgan.metrics import digits, modes
from jaxgan.registry import Registry
from jaxgan.run import load_run
from jaxgan.state import generate_samples


@dataclasses.dataclass(frozen=True)
class Evaluator:
  applies: Callable[[DataSpec], bool]
  compute: Callable[[np.ndarray, DataSpec], dict]
  default_samples: int
  headline: tuple[str, ...]  # keys printed in the table


EVALUATORS: Registry[Evaluator] = Registry("metric")


def _modes(samples: np.ndarray, spec: DataSpec) -> dict:
  centers_fn, std = toy.TOY_SETS[spec.name]
  min_count = max(1, round(20 * len(samples) / 2500))
  return modes.mode_stats(samples, centers_fn(), std, min_count=min_count)


EVALUATORS.register("modes")(Evaluator(
    applies=lambda spec: spec.name in toy.TOY_SETS, compute=_modes, default_samples=2500,
    headline=("modes_captured", "num_modes", "high_quality_share", "reverse_kl")))
EVALUATORS.register("digits_classes")(Evaluator(
    applies=lambda spec: spec.name == "digits",
    compute=lambda samples, spec: digits.digits_class_stats(samples), default_samples=1000,
    headline=("classes_found", "max_class_share", "mean_top_prob")))


def evaluate(workdir: str, names: list[str] | None = None, num_samples: int | None = None,
             seed: int = 1, step: int | None = None) -> dict[str, dict]:
  """Computes metrics on a trained run and appends them to ``WORKDIR/metrics/<name>.jsonl``."""
  run = load_run(workdir, step, say=reporting.say)
  spec = run.gan.spec
  if not names:
    names = [n for n in EVALUATORS.names() if EVALUATORS.get(n).applies(spec)]
    if not names:
      raise JaxganError(f"No metric applies to data set {spec.name!r} yet.")
  results = {}
  os.makedirs(os.path.join(workdir, "metrics"), exist_ok=True)
  for name in names:
    evaluator = EVALUATORS.get(name)
    if not evaluator.applies(spec):
      raise JaxganError(f"Metric {name!r} does not apply to data set {spec.name!r}.")
    n = num_samples or evaluator.default_samples
    samples = generate_samples(run.gan, run.state, n, seed)
    result = evaluator.compute(samples, spec)
    result["protocol"].update({"latent_seed": seed, "generator": "ema" if run.state.ema_params
                               is not None else "live", "data": spec.name})
    record = {"metric": name, "step": run.step, "time": time.strftime("%Y-%m-%dT%H:%M:%S"), **result}
    with open(os.path.join(workdir, "metrics", f"{name}.jsonl"), "a") as f:
      f.write(json.dumps(record) + "\n")
    results[name] = record
  return results


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m jaxgan.evaluate", description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--metrics", default="auto", help=f"comma list of {EVALUATORS.names()} or 'auto'")
  parser.add_argument("--num_samples", type=int, default=None)
  parser.add_argument("--seed", type=int, default=1, help="latent seed of the evaluated samples")
  parser.add_argument("--step", type=int, default=None)
  args = parser.parse_args(sys.argv[1:] if argv is None else argv)
  names = None if args.metrics == "auto" else [m.strip() for m in args.metrics.split(",") if m.strip()]
  try:
    results = evaluate(args.workdir, names, args.num_samples, args.seed, args.step)
  except (JaxganError, ValueError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  for name, record in results.items():
    headline = EVALUATORS.get(name).headline
    values = ", ".join(f"{k}={record[k]:.4g}" if isinstance(record[k], float) else f"{k}={record[k]}"
                       for k in headline)
    protocol = ", ".join(f"{k}={v}" for k, v in record["protocol"].items())
    print(f"{name} @ step {record['step']}: {values}\n  protocol: {protocol}")
  print(f"Appended to {os.path.join(args.workdir, 'metrics')}/<metric>.jsonl")
  return 0


if __name__ == "__main__":
  sys.exit(main())
