"""Data sets by name. ``build(config)`` -> a deterministic, checkpointable batch source.

Each registered data set is a :class:`DataSet` with ``spec(config)`` (cheap: shapes and
class count, no data loaded, used by sampling and evaluation) and ``source(config,
batch_size, seed)`` (the batches).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import ml_collections

from jaxgan.data import images, real, toy
from jaxgan.data.source import ArraySource, BatchSource, DataSpec, split_for_devices
from jaxgan.registry import Registry

__all__ = ["DATASETS", "DataSet", "DataSpec", "BatchSource", "build", "spec", "split_for_devices"]


@dataclasses.dataclass(frozen=True)
class DataSet:
  spec: Callable[[ml_collections.ConfigDict], DataSpec]
  source: Callable[[ml_collections.ConfigDict, int, int], BatchSource]


DATASETS: Registry[DataSet] = Registry("data set")


def _toy(name: str) -> DataSet:
  return DataSet(
      spec=lambda cfg: DataSpec(name, (2,), len(toy.TOY_SETS[name][0]()), "points"),
      source=lambda cfg, batch_size, seed: toy.MixtureSource(name, batch_size, seed),
  )


for _name in toy.TOY_SETS:
  DATASETS.register(_name)(_toy(_name))


def _digits_spec(cfg: ml_collections.ConfigDict) -> DataSpec:
  if cfg.channels != 1:
    raise ValueError(f"digits is grayscale: data.channels must be 1, got {cfg.channels}")
  return DataSpec("digits", (cfg.resolution, cfg.resolution, 1), 10, "image")


def _digits_source(cfg, batch_size, seed):
  x, labels = images.load_digits(cfg.resolution)
  return ArraySource(_digits_spec(cfg), x, labels, batch_size, seed)


DATASETS.register("digits")(DataSet(_digits_spec, _digits_source))


def _synthetic_spec(cfg: ml_collections.ConfigDict) -> DataSpec:
  return DataSpec("synthetic_images", (cfg.resolution, cfg.resolution, cfg.channels), 10, "image")


def _synthetic_source(cfg, batch_size, seed):
  x, labels = images.synthetic_images(cfg.num_examples, cfg.resolution, cfg.channels, seed)
  return ArraySource(_synthetic_spec(cfg), x, labels, batch_size, seed)


DATASETS.register("synthetic_images")(DataSet(_synthetic_spec, _synthetic_source))


def _real(name: str) -> DataSet:
  return DataSet(
      spec=lambda cfg: real.spec(name, cfg),
      source=lambda cfg, batch_size, seed: real.GrainSource(
          real.spec(name, cfg), real.data_source(name, cfg), batch_size, seed, cfg.prefetch,
          cfg.in_memory_mb),
  )


for _name in real.NATIVE:
  DATASETS.register(_name)(_real(_name))


def spec(data_config: ml_collections.ConfigDict) -> DataSpec:
  """Shapes and class count of ``data_config.name`` without loading any data."""
  return DATASETS.get(data_config.name).spec(data_config)


def build(data_config: ml_collections.ConfigDict, batch_size: int, seed: int) -> BatchSource:
  """The batch source for ``data_config.name`` serving global batches of ``batch_size``."""
  return DATASETS.get(data_config.name).source(data_config, batch_size, seed)
