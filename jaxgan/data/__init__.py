"""Data sets by name. ``build(config)`` -> a deterministic, checkpointable batch source.

Each registered data set is a :class:`DataSet` that carries its own facts: its kind
(images or points), its native resolution and channels, its class count, the real split
metrics compare with, its mode centres (mixtures), the feature extractor its metrics use
by default, the metrics only it has, and how it is prepared. ``spec(config)`` is cheap
(shapes and class count, no data loaded, used by sampling and evaluation) and
``source(config, batch_size, seed, shard)`` serves the batches. Adding a data set is one
registration here (and its reading code in a module of this package).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import ml_collections
import numpy as np

from jaxgan.data import folder, images, real, tfds_builders, toy
from jaxgan.data.source import ArraySource, BatchSource, next_step_input, split_for_devices
from jaxgan.errors import ConfigError, DataError
from jaxgan.registry import Registry
from jaxgan.spec import DataSpec

__all__ = ["DATASETS", "DataSet", "DataSpec", "BatchSource", "build", "dataset", "load_arrays", "spec",
           "next_step_input", "split_for_devices", "reference_points"]

Shard = tuple[int, int]  # (process index, process count)


def _inception(spec_: DataSpec) -> str:
  return "inception"


def _lenet(spec_: DataSpec) -> str:
  return "lenet"


@dataclasses.dataclass(frozen=True)
class DataSet:
  """A data set and its facts.

  Attributes:
    spec: ``data config -> DataSpec`` (no data read).
    source: ``(data config, global batch size, seed, shard) -> batch source``.
    arrays: ``(data config, split) -> (x [N, ...] float32, labels [N] int32)``, a whole
      split; None for data sets that are sampled, not stored (the mixtures).
    kind: ``'image'`` or ``'points'``.
    native: ``(resolution, channels)`` the data set is stored at; None when it has none
      (sampled or user data: the config's values are used as they are).
    reference_split: the real split metrics compare with by default.
    modes: ``() -> (centres [K, 2], std)`` of a Gaussian mixture; None otherwise.
    feature_extractor: ``spec -> name`` of the extractor its feature metrics use by
      default (``'lenet'`` for MNIST-like grey images, else ``'inception'``).
    metrics: metrics of this data set alone (e.g. ``digits_classes``).
    prepare: ``data config -> prepared builder`` (``python -m jaxgan.data prepare``);
      None when nothing needs preparing.
  """
  spec: Callable[[ml_collections.ConfigDict], DataSpec]
  source: Callable[[ml_collections.ConfigDict, int, int, Shard], BatchSource]
  arrays: Callable[[ml_collections.ConfigDict, str], tuple[np.ndarray, np.ndarray]] | None = None
  kind: str = "image"
  native: tuple[int, int] | None = None
  reference_split: str = "train"
  modes: Callable[[], tuple[np.ndarray, float]] | None = None
  subsets: bool = False  # data.limit can train on a subset of it (stored data sets)
  feature_extractor: Callable[[DataSpec], str] = _inception
  metrics: tuple[str, ...] = ()
  prepare: Callable[[ml_collections.ConfigDict], Any] | None = None


DATASETS: Registry[DataSet] = Registry("data set")


def _mixture(name: str) -> DataSet:
  centers_fn, std = toy.TOY_SETS[name]
  return DataSet(
      spec=lambda cfg: DataSpec(name, (2,), len(centers_fn()), "points"),
      source=lambda cfg, batch_size, seed, shard: toy.MixtureSource(name, batch_size, seed, shard),
      kind="points", modes=lambda: (centers_fn(), std))


for _name in toy.TOY_SETS:
  DATASETS.register(_name)(_mixture(_name))


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


DATASETS.register("digits")(DataSet(_digits_spec, _digits_source, _digits_arrays,
                                    feature_extractor=_lenet, metrics=("digits_classes",)))


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


def _stored(name: str, spec_fn, split_fn, **facts) -> DataSet:
  """A data set read from prepared files: ``split_fn(cfg, split)`` is a split's data source."""
  return DataSet(
      spec=spec_fn,
      source=lambda cfg, batch_size, seed, shard: real.GrainSource(
          spec_fn(cfg), _limited(split_fn(cfg, cfg.split), cfg), batch_size, seed, cfg.prefetch,
          cfg.in_memory_mb, shard, cfg.workers),
      arrays=lambda cfg, split: real.arrays(spec_fn(cfg), split_fn(cfg, split)),
      subsets=True, **facts)


def _limited(source, cfg):
  """The training source, or its ``data.limit``-example subset (:func:`jaxgan.data.real.subset`)."""
  return real.subset(source, cfg.limit, f"{cfg.name}'s {cfg.split} split") if cfg.limit > 0 else source


def _real(name: str, resolution: int, channels: int, classes: int, **facts) -> DataSet:
  """One of the real data sets jaxgan's tfds builders prepare (or the tfds catalog holds)."""
  return _stored(name, lambda cfg: real.spec(name, cfg, channels, classes),
                 lambda cfg, split: real.split_source(real.builder(name, cfg), name, split),
                 native=(resolution, channels), reference_split="test",
                 prepare=lambda cfg: tfds_builders.prepare(name, cfg.manual_dir, cfg.data_dir), **facts)


DATASETS.register("mnist")(_real("mnist", 28, 1, 10, feature_extractor=_lenet))
DATASETS.register("fashion_mnist")(_real("fashion_mnist", 28, 1, 10, feature_extractor=_lenet))
DATASETS.register("cifar10")(_real("cifar10", 32, 3, 10))
DATASETS.register("celeb_a")(_real("celeb_a", 64, 3, 1))
# Three MNIST digits as RGB channels: 1,000 modes (jaxgan.data.real.stacked), drawn over
# the prepared MNIST, which is what `prepare` makes.
DATASETS.register("stacked_mnist")(_stored(
    "stacked_mnist", lambda cfg: real.spec("stacked_mnist", cfg, 3, 1000), real.stacked_source,
    native=(28, 3), reference_split="test", metrics=("stacked_modes",),
    prepare=lambda cfg: tfds_builders.prepare("mnist", cfg.manual_dir, cfg.data_dir)))
DATASETS.register("image_folder")(_stored(
    "image_folder", folder.spec,
    lambda cfg, split: real.split_source(folder.prepare(cfg), "image_folder", split),
    feature_extractor=lambda spec_: "lenet" if spec_.shape[-1] == 1 else "inception",
    prepare=folder.prepare))


def dataset(data_config: ml_collections.ConfigDict) -> DataSet:
  """The registry entry of ``data_config.name`` (refusing a ``data.limit`` it cannot honour)."""
  entry = DATASETS.get(data_config.name)
  if data_config.get("limit", 0) > 0 and not entry.subsets:
    stored = ", ".join(n for n in DATASETS if DATASETS.get(n).subsets)
    raise ConfigError(f"data.limit={data_config.limit} trains on a subset of a stored data set ({stored}); "
                      f"{data_config.name!r} is not one. Set data.limit=0.")
  return entry


def spec(data_config: ml_collections.ConfigDict) -> DataSpec:
  """Shapes and class count of ``data_config.name`` without loading any data."""
  return dataset(data_config).spec(data_config)


def load_arrays(data_config: ml_collections.ConfigDict, split: str) -> tuple[np.ndarray, np.ndarray]:
  """A whole split as ``(x [N, R, R, C] float32 in [-1, 1], labels [N] int32)``, as training sees it."""
  entry = dataset(data_config)
  if entry.arrays is None:
    raise DataError(f"{data_config.name!r} is sampled, not stored: it has no splits to load.")
  return entry.arrays(data_config, split)


def reference_points(data_config: ml_collections.ConfigDict, num: int, seed: int) -> np.ndarray | None:
  """``num`` real points of a 2D data set (drawn with ``seed``), for scatter plots; None for images."""
  if dataset(data_config).kind != "points":
    return None
  return build(data_config, num, seed).batch_at(0)["x"]


def build(data_config: ml_collections.ConfigDict, batch_size: int, seed: int,
          shard: Shard = (0, 1)) -> BatchSource:
  """The batch source for ``data_config.name`` over global batches of ``batch_size``.

  ``shard=(p, P)``: process ``p`` of ``P`` gets (and reads) only its ``batch_size / P`` rows
  of each global batch; the default serves whole batches.
  """
  return dataset(data_config).source(data_config, batch_size, seed, shard)
