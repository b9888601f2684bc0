"""Feature-extractor weights: ``python -m jaxgan.weights convert SOURCE.pth OUT.npz``.

Converts the PyTorch FID Inception-v3 weights (needs torch) into the ``.npz`` that
``python -m jaxgan.evaluate --inception_weights`` reads; one call of
:func:`jaxgan.metrics.inception.convert_torch_file`.
"""

from __future__ import annotations

import argparse
import sys

from jaxgan import cli
from jaxgan.metrics import inception


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m jaxgan.weights",
                                   description="Convert the PyTorch FID Inception weights to .npz")
  parser.add_argument("command", choices=("convert",))
  parser.add_argument("source", help=inception.WEIGHTS_FILE)
  parser.add_argument("out", help="output .npz")
  args = parser.parse_args(cli.argv_or_sys(argv))
  return cli.run(lambda: inception.convert_torch_file(args.source, args.out),
                 lambda count: print(f"Wrote {args.out} ({count} tensors)"))


if __name__ == "__main__":
  sys.exit(main())
