"""Sampling: ``python -m jaxgan.sample --workdir runs/digits --num 64 --out grid.png [--npz x.npz]``.

Restores the newest checkpoint (or ``--step``), uses the EMA generator when the run keeps
one, samples one class with ``--label K`` (class-conditional runs; otherwise every class
in turn), one member of a many-seed run with ``--member i`` (default 0), and writes an image grid (a scatter plot against real points for 2D data) and/or
the raw samples as ``.npz`` (``x [N, *shape]`` in the data's range, ``step``): one call of
:func:`jaxgan.sampling.write_samples`.
"""

from __future__ import annotations

import argparse
import sys

from jaxgan import cli
from jaxgan.sampling import write_samples


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m jaxgan.sample", description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--num", type=int, default=64, help="number of samples (default 64)")
  parser.add_argument("--out", default=None, help="PNG path (default: WORKDIR/samples/sample.png)")
  parser.add_argument("--npz", default=None, help="also write raw samples to this .npz")
  parser.add_argument("--seed", type=int, default=0, help="latent seed (default 0)")
  parser.add_argument("--step", type=int, default=None, help="checkpoint step (default: newest)")
  parser.add_argument("--best", action="store_true", help="the best checkpoint kept by config.eval")
  parser.add_argument("--member", type=int, default=None,
                      help="a run of several seeds (train.num_seeds): the member to sample (default 0)")
  parser.add_argument("--label", type=int, default=None,
                      help="class-conditional runs: sample this class only (default: all classes in turn)")
  parser.add_argument("--truncation", type=float, default=None,
                      help="truncation psi in [0, 1] (generators with a mapping network: stylegan2)")
  args = parser.parse_args(cli.argv_or_sys(argv))
  if args.num < 1:
    parser.error("--num must be >= 1")

  def show(w):
    print(f"Wrote {w.num} samples from step {w.step} ({w.weights}{w.of_member}): " + ", ".join(w.paths))

  return cli.run(lambda: write_samples(args.workdir, args.num, args.out, args.npz, args.seed,
                                       args.step, args.best, args.label, member=args.member,
                                       truncation=args.truncation), show)


if __name__ == "__main__":
  sys.exit(main())
