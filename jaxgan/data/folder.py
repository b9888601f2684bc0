"""A directory of the user's own images as a data set: ``data.name='image_folder'``, ``data.path=DIR``.

Layout: either images directly in ``DIR`` (and its sub-folders; one class), or one
sub-folder per class (``DIR/cat/*.jpg``, ``DIR/dog/*.png``; the sorted folder names are the
classes, giving labels). Files ending in one of :data:`IMAGE_EXTENSIONS` are read with
Pillow, converted to grayscale or RGB (``data.channels``), center-cropped to a square and
resized to ``data.resolution`` with a Lanczos filter. Unreadable or corrupt files are
skipped and counted in one warning.

The result is prepared once through a jaxgan tfds builder (array_record in
``data.data_dir``), like the other real data sets, under the name
``image_folder_<key>``: the key hashes the folder's path, every file's name, size and
modification time, the resolution and the channels, so a changed folder or setting is
prepared anew and an unchanged one is reused.
"""

from __future__ import annotations

import hashlib
import os

from jaxgan.data import tfds_builders
from jaxgan.data.images import image_examples
from jaxgan.spec import DataSpec
from jaxgan.errors import DataError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def scan(path: str) -> tuple[list[str], list[int], tuple[str, ...]]:
  """``(files, labels, class names)`` of an image folder (see the module docstring)."""
  if not path:
    raise DataError("data.name='image_folder' needs data.path: --config.data.path=/dir/of/images")
  path = os.path.expanduser(path)
  if not os.path.isdir(path):
    raise DataError(f"data.path={path!r} is not a directory.")

  def images_under(directory: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(directory):
      dirs[:] = sorted(d for d in dirs if not d.startswith("."))
      found += [os.path.join(root, f) for f in sorted(files)
                if f.lower().endswith(IMAGE_EXTENSIONS) and not f.startswith(".")]
    return found

  entries = sorted(e for e in os.listdir(path) if not e.startswith("."))
  subdirs = [e for e in entries if os.path.isdir(os.path.join(path, e))]
  top_files = [e for e in entries if e.lower().endswith(IMAGE_EXTENSIONS)]
  if subdirs and not top_files:  # one sub-folder per class
    classes = tuple(d for d in subdirs if images_under(os.path.join(path, d)))
    files, labels = [], []
    for label, name in enumerate(classes):
      found = images_under(os.path.join(path, name))
      files += found
      labels += [label] * len(found)
  else:
    files, classes = images_under(path), ("image",)
    labels = [0] * len(files)
  if not files:
    raise DataError(f"No images in {path} (looked for {', '.join(IMAGE_EXTENSIONS)}, directly or "
                    "in sub-folders).")
  return files, labels, classes


def _key(path: str, files: list[str], resolution: int, channels: int) -> str:
  h = hashlib.sha256(f"{os.path.abspath(path)}|{resolution}|{channels}".encode())
  for f in files:
    st = os.stat(f)
    h.update(f"{os.path.relpath(f, path)}|{st.st_size}|{st.st_mtime_ns};".encode())
  return h.hexdigest()[:12]


def spec(cfg) -> DataSpec:
  _, _, classes = scan(cfg.path)
  return DataSpec("image_folder", (cfg.resolution, cfg.resolution, cfg.channels), len(classes), "image")


def prepare(cfg):
  """The prepared tfds builder of the folder ``cfg.path`` at ``cfg.resolution``/``cfg.channels``."""
  if cfg.channels not in (1, 3):
    raise DataError(f"image_folder: data.channels must be 1 (grayscale) or 3 (RGB), got {cfg.channels}")
  files, labels, classes = scan(cfg.path)
  name = f"image_folder_{_key(os.path.expanduser(cfg.path), files, cfg.resolution, cfg.channels)}"
  builder_spec = tfds_builders.BuilderSpec(
      description=f"Images from {cfg.path}, center-cropped and resized to {cfg.resolution}x{cfg.resolution}.",
      shape=(cfg.resolution, cfg.resolution, cfg.channels), classes=classes, files=(),
      splits=lambda _: {"train": image_examples("image_folder", files, labels, cfg.resolution, cfg.channels)},
      instructions=f"Images are read from data.path={cfg.path}.")
  return tfds_builders.prepare(name, os.path.expanduser(cfg.path), cfg.data_dir, spec=builder_spec)
