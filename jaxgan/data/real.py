"""Real image data sets through tfds data sources and grain: ``mnist``, ``fashion_mnist``,
``stacked_mnist``, ``cifar10``, ``celeb_a`` and ``image_folder`` (the user's own images).

``stacked_mnist`` (Metz et al. 2017, "Unrolled GANs"; Lin et al. 2018, PacGAN) stacks three
MNIST digits, drawn independently and uniformly from the same split, as the R, G and B
channels: 1,000 modes. Its label is the digit triple as ``100 * r + 10 * g + b``. It has as
many examples as the MNIST split (60,000 train, 10,000 test), and the draws are fixed by
the split name (``STACKED_SEEDS``), so every run and every evaluation sees the same set.

The pipeline is a grain ``MapDataset``: the prepared tfds data source (random access,
uint8; read once into host memory when the split is smaller than ``data.in_memory_mb``,
since decoding records costs ~0.15 ms each here -- 20 ms per batch of 64 streamed vs.
2.4 ms from memory, and 4 s to load MNIST's 60,000), shuffled with the run's seed and reshuffled every epoch, repeated, batched, then
converted per batch to float32 in [-1, 1] (and resized when ``data.resolution`` is not the
native 28) on the host. Because a ``MapDataset`` is random access, batch ``i`` is a pure
function of ``(seed, i)``: the iterator state saved in each checkpoint is the batch
position, and a resumed run continues at exactly the next batch. ``data.prefetch`` batches
are read ahead on ``data.workers`` host threads so the step does not wait for them.
"""

from __future__ import annotations

import numpy as np

from jaxgan.data import images, tfds_builders
from jaxgan.data.source import BatchSource
from jaxgan.spec import DataSpec
from jaxgan.errors import DataError

STACKED_SEEDS = {"train": 0, "test": 1}


def spec(name: str, cfg, channels: int, classes: int) -> DataSpec:
  """The spec of real data set ``name`` (``channels`` and ``classes`` from its entry)."""
  if cfg.channels != channels:
    raise DataError(f"{name} has {channels} channel(s): set data.channels={channels} "
                    f"(got {cfg.channels}).")
  return DataSpec(name, (cfg.resolution, cfg.resolution, channels), classes, "image")


def builder(name: str, cfg):
  """The prepared tfds builder of ``name``: jaxgan's offline builder, or the tfds catalog's."""
  if cfg.source == "tfds_catalog":
    return tfds_builders.catalog_builder(name, cfg.data_dir)
  return tfds_builders.prepare(name, cfg.manual_dir, cfg.data_dir)


def split_source(prepared, name: str, split: str):
  """Split ``split`` of a prepared builder as a random-access sequence of dicts."""
  splits = list(prepared.info.splits.keys())
  if split not in splits:
    raise DataError(f"{name} has splits {splits}; split {split!r} is not one of them.")
  return prepared.as_data_source(split=split)


class InMemory:
  """A data source's ``image``/``label`` records as two numpy arrays (random access)."""

  def __init__(self, source, chunk: int = 1000):
    if isinstance(source, InMemory):  # already in memory: share its arrays
      self.images, self.labels = source.images, source.labels
      return
    images, labels = [], []
    for start in range(0, len(source), chunk):
      records = source.__getitems__(list(range(start, min(start + chunk, len(source)))))
      images.append(np.stack([r["image"] for r in records]))
      labels.append(np.asarray([r["label"] for r in records]))
    self.images, self.labels = np.concatenate(images), np.concatenate(labels)

  @classmethod
  def from_arrays(cls, images: np.ndarray, labels: np.ndarray) -> "InMemory":
    out = cls.__new__(cls)
    out.images, out.labels = images, labels
    return out

  def __len__(self) -> int:
    return len(self.images)

  def __getitem__(self, index: int) -> dict[str, np.ndarray]:
    return {"image": self.images[index], "label": self.labels[index]}


SUBSET_SEED = 0x5B5E7  # the examples of a data.limit subset do not depend on the run's seed


def subset(source, limit: int, name: str) -> "InMemory":
  """``limit`` examples of ``source`` chosen at random with a fixed seed (:data:`SUBSET_SEED`),
  in memory: the limited-data sets of ADA's experiments (Karras et al. 2020, Sec. 4: 2k-140k
  images of FFHQ). The same ``limit`` gives the same images in every run; a larger one
  holds them all (each subset is a prefix of one fixed permutation)."""
  if limit > len(source):
    raise DataError(f"data.limit={limit} exceeds the {len(source)} examples of {name}; choose at most "
                    f"{len(source)} (0 uses them all).")
  order = np.random.default_rng(SUBSET_SEED).permutation(len(source))[:limit]
  if isinstance(source, InMemory):
    return InMemory.from_arrays(source.images[order], source.labels[order])
  records = [source[int(i)] for i in order]
  return InMemory.from_arrays(np.stack([r["image"] for r in records]), np.asarray([r["label"] for r in records]))


def stacked_source(cfg, split: str) -> "InMemory":
  """Stacked MNIST's ``split``, drawn over the same split of MNIST (:func:`stacked`)."""
  return stacked(InMemory(split_source(builder("mnist", cfg), "mnist", split)), STACKED_SEEDS.get(split, 2))


def stacked(mnist: InMemory, seed: int) -> InMemory:
  """Stacked MNIST over an MNIST split: example i stacks digits ``idx[i]`` as RGB channels."""
  idx = np.random.default_rng([seed, 1000]).integers(0, len(mnist), size=(len(mnist), 3))
  return InMemory.from_arrays(
      np.ascontiguousarray(mnist.images[idx][..., 0].transpose(0, 2, 3, 1)),  # [N, 28, 28, 3]
      (mnist.labels[idx].astype(np.int64) * np.array([100, 10, 1])).sum(axis=1))


def to_model_input(images_uint8: np.ndarray, resolution: int) -> np.ndarray:
  """uint8 ``[N, H, W, C]`` -> float32 in [-1, 1], resized bilinearly to ``resolution``."""
  return images.resize_images(images_uint8.astype(np.float32) * (2.0 / 255.0) - 1.0, resolution)


def arrays(spec_: DataSpec, source) -> tuple[np.ndarray, np.ndarray]:
  """A whole split as ``(x [N, R, R, C] float32 in [-1, 1], labels [N] int32)``."""
  split = InMemory(source)
  return to_model_input(split.images, spec_.shape[0]), split.labels.astype(np.int32)


class GrainSource(BatchSource):
  """Batches ``{'x': [B, R, R, C] float32 in [-1, 1], 'label': [B] int32}`` from a data source."""

  def __init__(self, spec_: DataSpec, source, batch_size: int, seed: int, prefetch: int = 2,
               in_memory_mb: float = 2048, shard: tuple[int, int] = (0, 1), workers: int = 1):
    import grain  # third-party, imported where used: 0.7 s that digits and toy runs never need
    super().__init__(spec_, batch_size, seed, prefetch, shard, workers)
    if len(source) == 0:
      raise DataError(f"{spec_.name}: the data source is empty.")
    if len(source) * np.asarray(source[0]["image"]).nbytes <= in_memory_mb * 2 ** 20:
      source = InMemory(source)
    resolution = spec_.shape[0]

    def convert(batch):
      return {"x": to_model_input(batch["image"], resolution), "label": batch["label"].astype(np.int32)}

    self.num_examples = len(source)
    # Batches of the local size: global batch i is local batches i*P .. i*P + P-1 in order,
    # and process p reads only batch i*P + p.
    self._dataset = (grain.MapDataset.source(source).shuffle(seed=seed).repeat()
                     .batch(self.batch_size).map(convert))

  def batch_at(self, index: int) -> dict[str, np.ndarray]:
    process, count = self.shard
    return self._dataset[index * count + process]
