"""Train the LeNet feature extractor: ``python -m jaxgan.classifier --data mnist [--epochs N] [--out PATH]``.

Flags, then one call of :func:`jaxgan.metrics.classifier.train_classifier` (see there for
what is trained and where it is saved). Prints one JSON summary.
"""

from __future__ import annotations

import argparse
import sys

from jaxgan import cli
from jaxgan import config as config_lib
from jaxgan.metrics.classifier import train_classifier


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m jaxgan.classifier", description=__doc__.splitlines()[0])
  parser.add_argument("--data", required=True, help="data set name, e.g. mnist, fashion_mnist, digits")
  parser.add_argument("--epochs", type=int, default=None)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--out", default="", help="default <data_dir>/jaxgan_classifiers/lenet_<name>_<res>.npz")
  parser.add_argument("--manual_dir", default="", help="original files (default $JAXGAN_DATA_DIR/NAME)")
  parser.add_argument("--data_dir", default="", help="prepared files (default ~/.cache/jaxgan/tensorflow_datasets)")

  def body():
    rest, overrides = config_lib.parse_cli_overrides(cli.argv_or_sys(argv))
    args = parser.parse_args(rest)
    config = config_lib.for_dataset(args.data, overrides, args.manual_dir, args.data_dir)
    return train_classifier(config.data, args.epochs, args.out, args.seed)

  return cli.run(body, cli.print_json)


if __name__ == "__main__":
  sys.exit(main())
