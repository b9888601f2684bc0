"""Step throughput: ``python -m jaxgan.benchmark --config configs/bench_dcgan32.py [--steps 20]``,
or ``python -m jaxgan.benchmark --suite`` for the standard cases, or ``--config R --members
1,4,8,16`` for a recipe trained as that many seeds at once (``train.num_seeds``).

Flags, then one call of :func:`jaxgan.speed.benchmark` (or :func:`jaxgan.speed.run_suite`,
:func:`jaxgan.speed.members_sweep`);
see :mod:`jaxgan.speed` for the fields of the JSON it prints.
"""

from __future__ import annotations

import argparse
import json
import sys

from jaxgan import api, cli
from jaxgan import config as config_lib
from jaxgan import hostmem
from jaxgan.speed import benchmark, members_sweep, run_suite


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m jaxgan.benchmark", description=__doc__.splitlines()[0])
  what = parser.add_mutually_exclusive_group(required=True)
  what.add_argument("--config", help="a recipe to time")
  what.add_argument("--suite", action="store_true", help="every case of jaxgan.speed.SUITE")
  parser.add_argument("--steps", type=int, default=20, help="timed steps (suite: at most, per case)")
  parser.add_argument("--warmup", type=int, default=3)
  parser.add_argument("--members", default="", help="with --config: comma list of train.num_seeds "
                      "values to time, each in its own process (e.g. 1,4,8,16)")
  parser.add_argument("--out", default=None, help="also write the JSON here")
  parser.add_argument("--cases", default="", help="with --suite: a comma list of its cases to run (default: all)")
  parser.add_argument("--torch_python", default=None, help="with --suite: a Python with PyTorch (CPU); each case "
                      "with a PyTorch step is then timed alternately with it and gets the jaxgan / PyTorch ratio")
  parser.add_argument("--torch_steps", action="append", default=[], help="a folder of PyTorch step scripts "
                      "(repeatable; searched before the checkout's benchmarks/torch_reference)")
  parser.add_argument("--rounds", type=int, default=2, help="with --torch_python: alternating rounds per case")

  def body():
    rest, overrides = config_lib.parse_cli_overrides(cli.argv_or_sys(argv))
    args = parser.parse_args(rest)
    if args.suite:
      if overrides:
        parser.error("--suite runs fixed cases; --config.* overrides apply to --config runs")
      if args.rounds < 1:
        parser.error("--rounds must be >= 1")
      return args, run_suite(args.steps, args.warmup, say=lambda m: print(m, file=sys.stderr),
                             cases=[c for c in args.cases.split(",") if c] or None,
                             torch_python=args.torch_python, torch_steps=args.torch_steps, rounds=args.rounds)
    if args.cases or args.torch_python or args.torch_steps:
      parser.error("--cases, --torch_python and --torch_steps go with --suite")
    if args.members:
      if args.suite:
        parser.error("--members goes with --config")
      try:
        counts = [int(k) for k in args.members.split(",")]
      except ValueError:
        parser.error(f"--members takes a comma list of member counts, e.g. 1,4,8,16; got {args.members!r}")
      if min(counts) < 1:
        parser.error("--members counts must be >= 1")
      recipe = api.recipe_path(args.config)
      api.load_recipe(recipe, overrides)  # bad recipes and overrides fail here, before any process starts
      return args, members_sweep(recipe, overrides, counts, args.steps, args.warmup,
                                 say=lambda m: print(m, file=sys.stderr))
    config = api.load_recipe(args.config, overrides)  # a recipe file, or the name of one of jaxgan's
    allocator = hostmem.apply(config.train.host_allocator)  # before any JAX computation starts XLA's threads
    return args, {"config": args.config, "overrides": overrides,
                  **benchmark(config, args.steps, args.warmup), "host_allocator": allocator}

  def show(done):
    args, result = done
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
      with open(args.out, "w") as f:
        f.write(text + "\n")

  return cli.run(body, show)


if __name__ == "__main__":
  sys.exit(main())
