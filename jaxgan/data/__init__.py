"""Data sets by name. ``build(config)`` -> a deterministic, checkpointable batch source.

Each registered data set is a :class:`DataSet` with ``spec(config)`` (cheap: shapes and
class count, no data loaded, used by sampling and evaluation) and ``source(config,
batch_size, seed)`` (the batches).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import ml_collections
import numpy as np

from jaxgan.data import folder, images, real, toy
from jaxgan.data.source import ArraySource, BatchSource, DataSpec, next_step_input, split_for_devices
from jaxgan.errors import DataError
from jaxgan.registry import Registry

__all__ = ["DATASETS", "DataSet", "DataSpec", "BatchSource", "build", "load_arrays", "named_config", "spec",
           "next_step_input", "split_for_devices"]


@dataclasses.dataclass(frozen=True)
class DataSet:
  spec: Callable[[ml_collections.ConfigDict], DataSpec]
  # (config, global batch size, seed, (process index, process count)) -> batch source
  source: Callable[[ml_collections.ConfigDict, int, int, tuple[int, int]], BatchSource]
  # (config, split) -> whole split as (x [N, ...] float32, labels [N] int32); None for
  # data sets that are sampled, not stored (the toy mixtures).
  arrays: Callable[[ml_collections.ConfigDict, str], tuple[np.ndarray, np.ndarray]] | None = None


DATASETS: Registry[DataSet] = Registry("data set")


def _toy(name: str) -> DataSet:
  return DataSet(
      spec=lambda cfg: DataSpec(name, (2,), len(toy.TOY_SETS[name][0]()), "points"),
      source=lambda cfg, batch_size, seed, shard: toy.MixtureSource(name, batch_size, seed, shard),
  )


for _name in toy.TOY_SETS:
  DATASETS.register(_name)(_toy(_name))


def _digits_spec(cfg: ml_collections.ConfigDict) -> DataSpec:
  if cfg.channels != 1:
    raise ValueError(f"digits is grayscale: data.channels must be 1, got {cfg.channels}")
  return DataSpec("digits", (cfg.resolution, cfg.resolution, 1), 10, "image")


def _digits_arrays(cfg, split):
  if split != "train":
    raise DataError(f"digits has one split, 'train' (all 1,797 images); got split={split!r}.")
  _digits_spec(cfg)
  return images.load_digits(cfg.resolution)


def _digits_source(cfg, batch_size, seed, shard):
  x, labels = _digits_arrays(cfg, "train")
  return ArraySource(_digits_spec(cfg), x, labels, batch_size, seed, shard)


DATASETS.register("digits")(DataSet(_digits_spec, _digits_source, _digits_arrays))


def _synthetic_spec(cfg: ml_collections.ConfigDict) -> DataSpec:
  return DataSpec("synthetic_images", (cfg.resolution, cfg.resolution, cfg.channels), 10, "image")


def _synthetic_source(cfg, batch_size, seed, shard):
  x, labels = images.synthetic_images(cfg.num_examples, cfg.resolution, cfg.channels, seed)
  return ArraySource(_synthetic_spec(cfg), x, labels, batch_size, seed, shard)


def _synthetic_arrays(cfg, split):
  # Splits are independent draws: 'train' uses seed 0, any other split its own seed.
  return images.synthetic_images(cfg.num_examples, cfg.resolution, cfg.channels,
                                 0 if split == "train" else 1 + sum(map(ord, split)))


DATASETS.register("synthetic_images")(DataSet(_synthetic_spec, _synthetic_source, _synthetic_arrays))


def _real(name: str) -> DataSet:
  return DataSet(
      spec=lambda cfg: real.spec(name, cfg),
      source=lambda cfg, batch_size, seed, shard: real.GrainSource(
          real.spec(name, cfg), real.data_source(name, cfg), batch_size, seed, cfg.prefetch,
          cfg.in_memory_mb, shard, cfg.workers),
      arrays=lambda cfg, split: real.arrays(real.spec(name, cfg), real.data_source(name, cfg, split)),
  )


for _name in real.NATIVE:
  DATASETS.register(_name)(_real(_name))


def _folder_source(cfg, batch_size, seed, shard):
  spec_ = folder.spec(cfg)
  return real.GrainSource(spec_, real.data_source("image_folder", cfg), batch_size, seed,
                          cfg.prefetch, cfg.in_memory_mb, shard, cfg.workers)


DATASETS.register("image_folder")(DataSet(
    spec=folder.spec, source=_folder_source,
    arrays=lambda cfg, split: real.arrays(folder.spec(cfg), real.data_source("image_folder", cfg, split))))


def spec(data_config: ml_collections.ConfigDict) -> DataSpec:
  """Shapes and class count of ``data_config.name`` without loading any data."""
  return DATASETS.get(data_config.name).spec(data_config)


def load_arrays(data_config: ml_collections.ConfigDict, split: str) -> tuple[np.ndarray, np.ndarray]:
  """A whole split as ``(x [N, R, R, C] float32 in [-1, 1], labels [N] int32)``, as training sees it."""
  dataset = DATASETS.get(data_config.name)
  if dataset.arrays is None:
    raise DataError(f"{data_config.name!r} is sampled, not stored: it has no splits to load.")
  return dataset.arrays(data_config, split)


def named_config(name: str, overrides: dict[str, str] | None = None, manual_dir: str = "",
                 data_dir: str = "") -> ml_collections.ConfigDict:
  """The default config with ``data.name = name`` at the data set's native resolution."""
  from jaxgan import config as config_lib
  config = config_lib.default_config()
  config.data.name = name
  if name in real.NATIVE:
    config.data.resolution, config.data.channels, _ = real.NATIVE[name]
  config_lib.apply_overrides(config, overrides or {})
  if manual_dir:
    config.data.manual_dir = manual_dir
  if data_dir:
    config.data.data_dir = data_dir
  return config


def build(data_config: ml_collections.ConfigDict, batch_size: int, seed: int,
          shard: tuple[int, int] = (0, 1)) -> BatchSource:
  """The batch source for ``data_config.name`` over global batches of ``batch_size``.

  ``shard=(p, P)``: process ``p`` of ``P`` gets (and reads) only its ``batch_size / P`` rows
  of each global batch; the default serves whole batches.
  """
  return DATASETS.get(data_config.name).source(data_config, batch_size, seed, shard)
