"""Preparing and inspecting data sets (the library behind ``python -m jaxgan.data``)."""

from __future__ import annotations

import numpy as np

from jaxgan import data as data_lib
from jaxgan import reporting
from jaxgan.data import real
from jaxgan.errors import JaxganError


def _summary(name: str, b) -> dict:
  return {"name": name, "prepared_at": str(b.data_dir),
          "splits": {k: v.num_examples for k, v in b.info.splits.items()}}


def _prepared(name: str, config):
  entry = data_lib.DATASETS.get(name)
  if entry.prepare is None:
    prepared = [n for n in data_lib.DATASETS if data_lib.DATASETS.get(n).prepare is not None]
    raise JaxganError(f"{name!r} is not a prepared data set; those are {prepared} (the others "
                      "need no preparation).")
  return entry.prepare(config.data)


def prepare(name: str, config) -> dict:
  """Writes the array_record files of ``name`` once (from its original files)."""
  return _summary(name, _prepared(name, config))


def info(name: str, config) -> dict:
  """Splits, sizes, features and class counts of a prepared data set."""
  b = _prepared(name, config)
  result = _summary(name, b)
  result["features"] = str(b.info.features)
  result["class_counts"] = {split: np.bincount(real.InMemory(b.as_data_source(split=split)).labels).tolist()
                            for split in b.info.splits}
  return result


def show(name: str, config, num: int, out: str) -> dict:
  """A grid of the first batch the trainer would read (seeded, after the same preprocessing)."""
  source = data_lib.build(config.data, num, config.seed)
  batch = source.next()
  reporting.save_image_grid(out, batch["x"])
  return {"name": name, "wrote": out, "shape": list(batch["x"].shape),
          "labels": batch["label"].tolist()}


COMMANDS = {"prepare": lambda name, config, num, out: prepare(name, config),
            "info": lambda name, config, num, out: info(name, config),
            "show": show}
