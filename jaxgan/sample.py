"""Sampling: ``python -m jaxgan.sample --workdir runs/digits --num 64 --out grid.png [--npz x.npz]``.

Restores the newest checkpoint (or ``--step``), uses the EMA generator when the run keeps
one, samples one class with ``--label K`` (class-conditional runs; otherwise every class
in turn), one member of a many-seed run with ``--member i`` (default 0), and writes an image grid (a scatter plot against real points for 2D data) and/or
the raw samples as ``.npz`` (``x [N, *shape]`` in the data's range, ``step``): one call of
:func:`jaxgan.sampling.write_samples`. Generators with a mapping network (``stylegan2``) also
draw a style-mixing grid (``--style_mixing 4x6 [--mix_at 4]``) or a truncation sweep
(``--truncation_sweep 1,0.7,0.5,0``, ``--num`` rows).
"""

from __future__ import annotations

import argparse
import sys

from jaxgan import cli
from jaxgan.sampling import write_samples, write_style_mixing, write_truncation_sweep
from jaxgan.styles import COARSE_LAYERS


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
  parser.add_argument("--style_mixing", default=None, metavar="ROWSxCOLS",
                      help="write a style-mixing grid instead (e.g. 4x6; generators with a mapping network)")
  parser.add_argument("--mix_at", type=int, default=COARSE_LAYERS,
                      help=f"style-mixing grid: layers below this take the left column's styles (default {COARSE_LAYERS})")
  parser.add_argument("--truncation_sweep", default=None, metavar="PSI,PSI,...",
                      help="write a truncation sweep instead: --num latents as rows, one column per psi")
  args = parser.parse_args(cli.argv_or_sys(argv))
  if args.num < 1:
    parser.error("--num must be >= 1")
  if args.style_mixing and args.truncation_sweep:
    parser.error("choose one of --style_mixing and --truncation_sweep")

  def show(w):
    print(f"Wrote {w.num} samples from step {w.step} ({w.weights}{w.of_member}): " + ", ".join(w.paths))

  common = dict(out=args.out, seed=args.seed, step=args.step, best=args.best, member=args.member)
  if args.style_mixing:
    try:
      rows, cols = (int(v) for v in args.style_mixing.lower().split("x"))
    except ValueError:
      parser.error(f"--style_mixing takes ROWSxCOLS, e.g. 4x6; got {args.style_mixing!r}")
    return cli.run(lambda: write_style_mixing(args.workdir, rows, cols, args.mix_at, truncation=args.truncation,
                                              **common), show)
  if args.truncation_sweep:
    try:
      psis = [float(v) for v in args.truncation_sweep.split(",")]
    except ValueError:
      parser.error(f"--truncation_sweep takes comma-separated psi values, e.g. 1,0.7,0.5,0; got {args.truncation_sweep!r}")
    return cli.run(lambda: write_truncation_sweep(args.workdir, psis, args.num, **common), show)
  return cli.run(lambda: write_samples(args.workdir, args.num, args.out, args.npz, args.seed,
                                       args.step, args.best, args.label, member=args.member,
                                       truncation=args.truncation), show)


if __name__ == "__main__":
  sys.exit(main())
