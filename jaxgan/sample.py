"""Sampling: ``python -m jaxgan.sample --workdir runs/digits --num 64 --out grid.png [--npz x.npz]``.

Restores the newest checkpoint (or ``--step``), uses the EMA generator when the run keeps
one, samples one class with ``--label K`` (class-conditional runs; otherwise every class
in turn), and writes an image grid (a scatter plot against real points for 2D data) and/or
the raw samples as ``.npz`` (``x [N, *shape]`` in the data's range, ``step``).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from jaxgan import reporting
from jaxgan.errors import JaxganError
from jaxgan.run import load_run
from jaxgan.state import generate_samples, sample_labels


def _labels(gan, args) -> dict:
  labels = sample_labels(gan, args.num, args.label)
  return {} if labels is None else {"label": labels}


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m jaxgan.sample", description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--num", type=int, default=64, help="number of samples (default 64)")
  parser.add_argument("--out", default=None, help="PNG path (default: WORKDIR/samples/sample.png)")
  parser.add_argument("--npz", default=None, help="also write raw samples to this .npz")
  parser.add_argument("--seed", type=int, default=0, help="latent seed (default 0)")
  parser.add_argument("--step", type=int, default=None, help="checkpoint step (default: newest)")
  parser.add_argument("--best", action="store_true", help="the best checkpoint kept by config.eval")
  parser.add_argument("--label", type=int, default=None,
                      help="class-conditional runs: sample this class only (default: all classes in turn)")
  args = parser.parse_args(sys.argv[1:] if argv is None else argv)
  if args.num < 1:
    parser.error("--num must be >= 1")
  try:
    run = load_run(args.workdir, args.step, say=reporting.say, best=args.best)
    samples = generate_samples(run.gan, run.state, args.num, args.seed, label=args.label)
    out = args.out or os.path.join(args.workdir, "samples", "sample.png")
    reporting.save_samples_picture(out, samples, run.gan.spec, run.config.seed,
                                   f"{run.gan.spec.name}, step {run.step}")
    written = [out]
    if args.npz:
      os.makedirs(os.path.dirname(os.path.abspath(args.npz)), exist_ok=True)
      np.savez(args.npz, x=samples, step=run.step, **_labels(run.gan, args))
      written.append(args.npz)
  except (JaxganError, OSError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  weights = "EMA" if run.state.ema_params is not None else "live"
  print(f"Wrote {args.num} samples from step {run.step} ({weights} generator weights): "
        + ", ".join(written))
  return 0


if __name__ == "__main__":
  sys.exit(main())
