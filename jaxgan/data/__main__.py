"""Prepare and inspect data sets: ``python -m jaxgan.data {prepare,info,show} NAME``.

    python -m jaxgan.data prepare mnist [--manual_dir DIR] [--data_dir DIR]
    python -m jaxgan.data info mnist
    python -m jaxgan.data show mnist --num 64 --out real.png [--config.data.resolution=32]
    python -m jaxgan.data prepare image_folder --config.data.path=DIR --config.data.resolution=64 --config.data.channels=3

``prepare`` writes the array_record files once (needs the original files in the manual
directory, ``$JAXGAN_DATA_DIR/<name>`` by default); ``info`` prints splits, sizes, class
counts and where things are; ``show`` saves a grid of the first batch the trainer would
read (seeded, after the same preprocessing), for a look before training.
"""

from __future__ import annotations

import argparse
import sys

from jaxgan import cli
from jaxgan import config as config_lib
from jaxgan.data.tools import COMMANDS


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m jaxgan.data", description=__doc__.splitlines()[0])
  parser.add_argument("command", choices=tuple(COMMANDS))
  parser.add_argument("name", help="data set name, e.g. mnist, fashion_mnist, digits")
  parser.add_argument("--manual_dir", default="", help="original files (default $JAXGAN_DATA_DIR/NAME)")
  parser.add_argument("--data_dir", default="", help="prepared files (default ~/.cache/jaxgan/tensorflow_datasets)")
  parser.add_argument("--num", type=int, default=64)
  parser.add_argument("--out", default="real.png")

  def body():
    rest, overrides = config_lib.parse_cli_overrides(cli.argv_or_sys(argv))
    args = parser.parse_args(rest)
    config = config_lib.for_dataset(args.name, overrides, args.manual_dir, args.data_dir)
    return COMMANDS[args.command](args.name, config, args.num, args.out)

  return cli.run(body, cli.print_json)


if __name__ == "__main__":
  sys.exit(main())
