"""jaxgan's own tensorflow-datasets builders, prepared offline and read without TensorFlow.

Each builder reads the original files from a *manual directory* the user names
(``config.data.manual_dir``, default ``$JAXGAN_DATA_DIR/<name>``), writes the examples once
as ``array_record`` under ``config.data.data_dir`` (default
``~/.cache/jaxgan/tensorflow_datasets``), and is read back with ``as_data_source`` -- random
access, no TensorFlow. Features are ``tfds.features.Tensor`` (uint8 images, exactly as
stored in the source files) and ``ClassLabel``; ``tfds.features.Image`` would need
TensorFlow to encode.

tfds prepares into an ``incomplete.*`` directory and renames it only when every split is
written, so a failed or interrupted preparation never leaves a data set a later run
would trust.

Builders: ``mnist`` (LeCun et al. 1998) and ``fashion_mnist`` (Xiao, Rasul & Vollgraf
2017), both from the four IDX gzip files of the official distribution; ``cifar10``
(Krizhevsky 2009) from the python-version batches (``data_batch_1..5``, ``test_batch``; read
with ``pickle``, the format they are published in -- only point it at files you trust);
``celeb_a`` (Liu et al. 2015) from ``img_align_celeba/`` and ``list_eval_partition.txt``,
each face's central 140x140 crop resized to 64x64 (Lanczos) at preparation. Image folders
(:mod:`jaxgan.data.folder`) use the same machinery.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import warnings
from typing import Any, Callable, Iterator

import numpy as np

from jaxgan.data import idx
from jaxgan.data import images as images_lib
from jaxgan.errors import DataError
from jaxgan.registry import Registry

DATA_DIR_ENV = "JAXGAN_DATA_DIR"
DEFAULT_PREPARED_DIR = os.path.join("~", ".cache", "jaxgan", "tensorflow_datasets")
SOURCE_RECORD = "jaxgan_source.json"  # beside a prepared copy: the directory it was prepared from

IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
IDX_FILE_NAMES = [f for pair in IDX_FILES.values() for f in pair]
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")


def manual_dir(name: str, configured: str = "") -> str:
  """``configured`` if set, else ``$JAXGAN_DATA_DIR/<name>``."""
  if configured:
    return os.path.expanduser(configured)
  root = os.environ.get(DATA_DIR_ENV)
  if not root:
    raise DataError(f"Data set {name!r} reads its original files from a directory you name: "
                    f"set config.data.manual_dir (--config.data.manual_dir=DIR) or the "
                    f"environment variable {DATA_DIR_ENV} (files are then read from "
                    f"${DATA_DIR_ENV}/{name}/). Nothing is downloaded.")
  return os.path.join(os.path.expanduser(root), name)


def prepared_dir(configured: str = "") -> str:
  return os.path.expanduser(configured or DEFAULT_PREPARED_DIR)


def _check_files(name: str, directory: str, files: list[str]) -> None:
  missing = [os.path.join(directory, f) for f in files if not os.path.exists(os.path.join(directory, f))]
  if missing:
    raise DataError(f"Data set {name!r}: missing {len(missing)} of {len(files)} files in "
                    f"{directory}.\nExpected exactly these files there:\n  "
                    + "\n  ".join(files) + "\nMissing:\n  " + "\n  ".join(missing)
                    + f"\nPut the original files there, or point config.data.manual_dir / "
                    f"{DATA_DIR_ENV} at the directory that has them.")


@dataclasses.dataclass(frozen=True)
class BuilderSpec:
  """What a jaxgan tfds builder writes: features, and the examples of each split.

  ``files`` are the paths (relative to the manual directory) checked before preparation;
  ``splits(manual_dir)`` returns ``{split: iterator of (key, {'image', 'label'})}``.
  """
  description: str
  shape: tuple[int, int, int]
  classes: tuple[str, ...] | int
  files: tuple[str, ...]
  splits: Callable[[str], dict[str, Iterator[tuple[Any, dict]]]]
  instructions: str


def _builder_class(name: str, spec: BuilderSpec):
  import tensorflow_datasets as tfds  # imported lazily: only real data sets need it

  class Builder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    VERSION = tfds.core.Version("1.0.0")
    # No checksums file next to the code: the data comes from the manual directory. (This
    # also keeps tfds from resolving the code path through importlib_resources.)
    code_path = None
    RELEASE_NOTES = {"1.0.0": "jaxgan builder from the original files."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = spec.instructions

    def _info(self):
      labels = (tfds.features.ClassLabel(names=list(spec.classes)) if isinstance(spec.classes, tuple)
                else tfds.features.ClassLabel(num_classes=spec.classes))
      return tfds.core.DatasetInfo(
          builder=self, description=spec.description,
          features=tfds.features.FeaturesDict({
              "image": tfds.features.Tensor(shape=spec.shape, dtype=np.uint8),
              "label": labels,
          }),
          supervised_keys=("image", "label"))

    def _split_generators(self, dl_manager):
      # The manual directory's files were checked by prepare().
      return {split: self._generate_examples(examples)
              for split, examples in spec.splits(str(dl_manager.manual_dir)).items()}

    def _generate_examples(self, examples):
      yield from examples

    def _log_download_bytes(self) -> None:
      # tfds says "Downloading and preparing dataset ..." here; nothing is downloaded.
      print(f"Preparing {name} from its original files (nothing is downloaded) into {self.data_dir} ...",
            flush=True)

  Builder.name = name
  Builder.__name__ = Builder.__qualname__ = f"{name}_builder"
  return Builder


# ---------------------------------------------------------------- MNIST-like IDX files

def _idx_examples(name: str, images_path: str, labels_path: str):
  try:
    images = idx.read_idx(images_path, idx.IMAGES_MAGIC)
    labels = idx.read_idx(labels_path, idx.LABELS_MAGIC)
  except idx.IdxError as e:
    raise DataError(f"Data set {name!r}: {e}") from e
  if len(images) != len(labels) or images.shape[1:] != (28, 28):
    raise DataError(f"Data set {name!r}: {images_path} holds images {images.shape} but "
                    f"{labels_path} holds {len(labels)} labels; expected [N, 28, 28] and N.")
  for i in range(len(images)):
    yield i, {"image": images[i][..., None], "label": int(labels[i])}


def _idx_spec(name: str, classes, description: str) -> BuilderSpec:
  return BuilderSpec(
      description=description, shape=(28, 28, 1), classes=classes, files=tuple(IDX_FILE_NAMES),
      splits=lambda d: {split: _idx_examples(name, os.path.join(d, images), os.path.join(d, labels))
                        for split, (images, labels) in IDX_FILES.items()},
      instructions="Put " + ", ".join(IDX_FILE_NAMES) + f" in the manual directory ($JAXGAN_DATA_DIR/{name}).")


# ---------------------------------------------------------------- CIFAR-10 python batches

CIFAR10_FILES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def _cifar10_examples(directory: str, files: tuple[str, ...]):
  for file in files:
    path = os.path.join(directory, file)
    try:
      with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")  # the official "python version" format
      data = np.asarray(batch[b"data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
      labels = np.asarray(batch[b"labels"], np.int64)
    except (OSError, EOFError, pickle.UnpicklingError, KeyError, TypeError, ValueError) as e:
      raise DataError(f"Data set 'cifar10': {path} is not a CIFAR-10 python batch ({e!r}); "
                      "expected the files of cifar-10-python.tar.gz (cifar-10-batches-py/).") from e
    if len(labels) != len(data):
      raise DataError(f"Data set 'cifar10': {path} holds {len(data)} images and {len(labels)} labels.")
    for i in range(len(data)):
      yield f"{file}_{i}", {"image": data[i], "label": int(labels[i])}


CIFAR10 = BuilderSpec(
    description="CIFAR-10 (Krizhevsky 2009), 32x32 RGB, 10 classes, from the python-version batches.",
    shape=(32, 32, 3), classes=CIFAR10_CLASSES, files=CIFAR10_FILES["train"] + CIFAR10_FILES["test"],
    splits=lambda d: {split: _cifar10_examples(d, files) for split, files in CIFAR10_FILES.items()},
    instructions="Extract cifar-10-python.tar.gz and put the files of cifar-10-batches-py/ "
                 "(data_batch_1..5, test_batch) in the manual directory ($JAXGAN_DATA_DIR/cifar10).")


# ---------------------------------------------------------------- CelebA aligned JPEGs

CELEBA_PARTITION = "list_eval_partition.txt"
CELEBA_IMAGES = "img_align_celeba"
CELEBA_SPLITS = {"train": "0", "validation": "1", "test": "2"}
CELEBA_CROP = 140  # central 140x140 of the aligned 178x218 faces, then resized to 64x64
CELEBA_RESOLUTION = 64


def _celeba_examples(directory: str, split_id: str):
  with open(os.path.join(directory, CELEBA_PARTITION)) as f:
    names = [parts[0] for parts in (line.split() for line in f) if len(parts) == 2 and parts[1] == split_id]
  images = [os.path.join(directory, CELEBA_IMAGES, n) for n in names]
  yield from images_lib.image_examples("celeb_a", images, [0] * len(images), CELEBA_RESOLUTION, 3,
                                   crop=CELEBA_CROP)


CELEB_A = BuilderSpec(
    description="CelebA aligned faces (Liu et al. 2015), central 140x140 crop resized to 64x64 RGB.",
    shape=(CELEBA_RESOLUTION, CELEBA_RESOLUTION, 3), classes=1, files=(CELEBA_PARTITION, CELEBA_IMAGES),
    splits=lambda d: {split: _celeba_examples(d, i) for split, i in CELEBA_SPLITS.items()},
    instructions=f"Put {CELEBA_IMAGES}/ (the aligned JPEGs) and {CELEBA_PARTITION} in the manual "
                 "directory ($JAXGAN_DATA_DIR/celeb_a).")


BUILDERS: Registry[BuilderSpec] = Registry("tfds builder")
BUILDERS.register("mnist")(_idx_spec(
    "mnist", 10, "MNIST handwritten digits (LeCun et al. 1998), 28x28 grayscale, from IDX files."))
BUILDERS.register("fashion_mnist")(_idx_spec(
    "fashion_mnist", FASHION_CLASSES,
    "Fashion-MNIST (Xiao, Rasul & Vollgraf 2017), 28x28 grayscale, from IDX files."))
BUILDERS.register("cifar10")(CIFAR10)
BUILDERS.register("celeb_a")(CELEB_A)


def builder(name: str, manual: str = "", data_dir: str = "", spec: BuilderSpec | None = None):
  """The tfds builder for ``name`` (or ``spec``) reading ``manual`` and writing under ``data_dir``."""
  import tensorflow_datasets as tfds
  cls = _builder_class(name, spec or BUILDERS.get(name))
  config = tfds.download.DownloadConfig(manual_dir=manual if spec else manual_dir(name, manual))
  return cls(data_dir=prepared_dir(data_dir), file_format="array_record"), config


def prepare(name: str, manual: str = "", data_dir: str = "", spec: BuilderSpec | None = None):
  """Prepares ``name`` once (no-op when already prepared); returns the builder.

  ``spec`` gives a builder that is not in :data:`BUILDERS` (an image folder).
  """
  b, download_config = builder(name, manual, data_dir, spec)
  source = os.path.abspath(str(download_config.manual_dir))
  record = os.path.join(str(b.data_dir), SOURCE_RECORD)
  if not b.is_prepared():
    spec = spec or BUILDERS.get(name)
    _check_files(name, source, list(spec.files))
    b.download_and_prepare(download_config=download_config)
    with open(record, "w") as f:
      json.dump({"manual_dir": source}, f)
    return b
  try:
    with open(record) as f:
      prepared_from = json.load(f)["manual_dir"]
  except (OSError, ValueError, KeyError):
    prepared_from = None
  spec = spec or BUILDERS.get(name)
  if prepared_from and prepared_from != source and all(
      os.path.exists(os.path.join(source, f)) for f in spec.files):
    warnings.warn(f"{name}: using the copy prepared earlier from {prepared_from} (in {b.data_dir}); "
                  f"the files in {source} are not read. To prepare from them, pass another "
                  "--data_dir (config.data.data_dir) or delete that prepared copy.", stacklevel=2)
  return b


def catalog_builder(name: str, data_dir: str = ""):
  """The standard tfds catalogue builder (needs TensorFlow, and a prepared or downloadable set)."""
  import tensorflow_datasets as tfds
  try:
    import tensorflow  # noqa: F401
  except ImportError as e:
    raise DataError("config.data.source='tfds_catalog' uses tensorflow-datasets' own builders, "
                    "which need TensorFlow (pip install -e '.[tf]'); the default "
                    "source='jaxgan' needs neither TensorFlow nor a download.") from e
  b = tfds.builder(name, data_dir=prepared_dir(data_dir) if data_dir else None)
  b.download_and_prepare(file_format="array_record")
  return b
