"""Export a generator: ``python -m jaxgan.export --workdir runs/digits --out G.jaxexport``.

Flags, then one call of :func:`jaxgan.exporting.write_export`: the run's sampling function
(EMA weights baked in, batch size symbolic) serialised with ``jax.export``, runnable with
only ``jax`` installed. See :mod:`jaxgan.exporting` for how to call it.
"""

from __future__ import annotations

import argparse
import sys

from jaxgan import cli, reporting
from jaxgan.exporting import PLATFORMS, write_export
from jaxgan.run import load_run


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m jaxgan.export", description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--out", required=True, help="file to write, e.g. G.jaxexport")
  parser.add_argument("--step", type=int, default=None, help="checkpoint step (default: newest)")
  parser.add_argument("--best", action="store_true", help="the best checkpoint kept by config.eval")
  parser.add_argument("--member", type=int, default=None,
                      help="a run of several seeds (train.num_seeds): the member to export")
  parser.add_argument("--platforms", default=",".join(PLATFORMS),
                      help=f"platforms to lower for, comma list of {list(PLATFORMS)} (default: all)")
  args = parser.parse_args(cli.argv_or_sys(argv))
  platforms = [p.strip() for p in args.platforms.split(",") if p.strip()]

  def body():
    run = load_run(args.workdir, args.step, say=reporting.say, best=args.best, member=args.member)
    return write_export(run, args.workdir, args.out, platforms)

  return cli.run(body, cli.print_json)


if __name__ == "__main__":
  sys.exit(main())
