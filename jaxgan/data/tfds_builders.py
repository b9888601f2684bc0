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
2017), both from the four IDX gzip files of the official distribution.
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np

from jaxgan.data import idx
from jaxgan.errors import DataError
from jaxgan.registry import Registry

DATA_DIR_ENV = "JAXGAN_DATA_DIR"
DEFAULT_PREPARED_DIR = os.path.join("~", ".cache", "jaxgan", "tensorflow_datasets")

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
  missing = [os.path.join(directory, f) for f in files if not os.path.isfile(os.path.join(directory, f))]
  if missing:
    raise DataError(f"Data set {name!r}: missing {len(missing)} of {len(files)} files in "
                    f"{directory}.\nExpected exactly these files there:\n  "
                    + "\n  ".join(files) + "\nMissing:\n  " + "\n  ".join(missing)
                    + f"\nPut the original files there, or point config.data.manual_dir / "
                    f"{DATA_DIR_ENV} at the directory that has them.")


def _builder_class(name: str, class_names: tuple[str, ...] | int, description: str):
  import tensorflow_datasets as tfds  # imported lazily: only real data sets need it

  class IdxBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    VERSION = tfds.core.Version("1.0.0")
    # No checksums file next to the code: the data comes from the manual directory. (This
    # also keeps tfds from resolving the code path through importlib_resources.)
    code_path = None
    RELEASE_NOTES = {"1.0.0": "jaxgan builder from the original IDX gzip files."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = ("Put " + ", ".join(IDX_FILE_NAMES)
                                    + f" in the manual directory ($JAXGAN_DATA_DIR/{name}).")

    def _info(self):
      labels = (tfds.features.ClassLabel(names=list(class_names)) if isinstance(class_names, tuple)
                else tfds.features.ClassLabel(num_classes=class_names))
      return tfds.core.DatasetInfo(
          builder=self, description=description,
          features=tfds.features.FeaturesDict({
              "image": tfds.features.Tensor(shape=(28, 28, 1), dtype=np.uint8),
              "label": labels,
          }),
          supervised_keys=("image", "label"))

    def _split_generators(self, dl_manager):
      directory = str(dl_manager.manual_dir)  # its files were checked by prepare()
      return {split: self._generate_examples(os.path.join(directory, images_file),
                                             os.path.join(directory, labels_file))
              for split, (images_file, labels_file) in IDX_FILES.items()}

    def _generate_examples(self, images_path, labels_path):
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

  IdxBuilder.name = name
  IdxBuilder.__name__ = IdxBuilder.__qualname__ = f"{name}_builder"
  return IdxBuilder


BUILDERS: Registry[Callable[[], type]] = Registry("tfds builder")
BUILDERS.register("mnist")(lambda: _builder_class(
    "mnist", 10, "MNIST handwritten digits (LeCun et al. 1998), 28x28 grayscale, from IDX files."))
BUILDERS.register("fashion_mnist")(lambda: _builder_class(
    "fashion_mnist", FASHION_CLASSES,
    "Fashion-MNIST (Xiao, Rasul & Vollgraf 2017), 28x28 grayscale, from IDX files."))


def builder(name: str, manual: str = "", data_dir: str = ""):
  """The tfds builder for ``name`` reading ``manual`` and writing under ``data_dir``."""
  import tensorflow_datasets as tfds
  cls = BUILDERS.get(name)()
  config = tfds.download.DownloadConfig(manual_dir=manual_dir(name, manual))
  return cls(data_dir=prepared_dir(data_dir), file_format="array_record"), config


def prepare(name: str, manual: str = "", data_dir: str = ""):
  """Prepares ``name`` once (no-op when already prepared); returns the builder."""
  b, download_config = builder(name, manual, data_dir)
  if not b.is_prepared():
    _check_files(name, str(download_config.manual_dir), IDX_FILE_NAMES)
    b.download_and_prepare(download_config=download_config)
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
