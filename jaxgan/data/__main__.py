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

import numpy as np

from jaxgan import cli
from jaxgan import config as config_lib
from jaxgan import data as data_lib
from jaxgan.data import folder, real, tfds_builders
from jaxgan.errors import JaxganError


def _summary(name: str, b) -> dict:
  return {"name": name, "prepared_at": str(b.data_dir),
          "splits": {k: v.num_examples for k, v in b.info.splits.items()}}


def _prepared(name: str, config):
  if name == "image_folder":
    return folder.prepare(config.data)
  return tfds_builders.prepare(name, config.data.manual_dir, config.data.data_dir)


def prepare(name: str, config) -> dict:
  return _summary(name, _prepared(name, config))


def info(name: str, config) -> dict:
  b = _prepared(name, config)
  result = _summary(name, b)
  result["features"] = str(b.info.features)
  result["class_counts"] = {split: np.bincount(real.InMemory(b.as_data_source(split=split)).labels).tolist()
                            for split in b.info.splits}
  return result


def show(name: str, config, num: int, out: str) -> dict:
  from jaxgan import reporting
  source = data_lib.build(config.data, num, config.seed)
  batch = source.next()
  reporting.save_image_grid(out, batch["x"])
  return {"name": name, "wrote": out, "shape": list(batch["x"].shape),
          "labels": batch["label"].tolist()}


def main(argv: list[str] | None = None) -> int:
  argv = sys.argv[1:] if argv is None else argv
  parser = argparse.ArgumentParser(prog="python -m jaxgan.data", description=__doc__.splitlines()[0])
  parser.add_argument("command", choices=("prepare", "info", "show"))
  parser.add_argument("name", help="data set name, e.g. mnist, fashion_mnist, digits")
  parser.add_argument("--manual_dir", default="", help="original files (default $JAXGAN_DATA_DIR/NAME)")
  parser.add_argument("--data_dir", default="", help="prepared files (default ~/.cache/jaxgan/tensorflow_datasets)")
  parser.add_argument("--num", type=int, default=64)
  parser.add_argument("--out", default="real.png")

  def body():
    rest, overrides = config_lib.parse_cli_overrides(argv)
    args = parser.parse_args(rest)
    config = data_lib.named_config(args.name, overrides, args.manual_dir, args.data_dir)
    prepared = sorted(tfds_builders.BUILDERS) + ["image_folder"]
    if args.command in ("prepare", "info") and args.name not in prepared:
      raise JaxganError(f"{args.command}: {args.name!r} is not a prepared data set; those are "
                        f"{prepared} (the others need no preparation).")
    return {"prepare": lambda: prepare(args.name, config), "info": lambda: info(args.name, config),
            "show": lambda: show(args.name, config, args.num, args.out)}[args.command]()

  return cli.run_json(body)

if __name__ == "__main__":
  sys.exit(main())
