"""In-memory image sets that need no files: ``digits`` and ``synthetic_images``.

* ``digits``: scikit-learn's bundled copy of the UCI handwritten digits (1,797 8x8
  images, 10 classes; Alpaydin & Kaynak 1998). Pixel values 0..16 are scaled to [-1, 1]
  and resized bilinearly to ``data.resolution`` (16 by default).
* ``synthetic_images``: ``data.num_examples`` uniform-noise images of any resolution and
  channel count, deterministic from the seed; for speed measurements and shape tests.
"""

from __future__ import annotations

import warnings
from typing import Iterator

import numpy as np
from PIL import Image

from jaxgan.errors import DataError

DIGITS_MAX = 16.0


def resize_images(x: np.ndarray, resolution: int) -> np.ndarray:
  """Bilinear resize of ``[N, H, W, C]`` float images to ``[N, resolution, resolution, C]``."""
  if x.shape[1] == resolution and x.shape[2] == resolution:
    return x
  out = np.empty((x.shape[0], resolution, resolution, x.shape[3]), np.float32)
  for i in range(x.shape[0]):
    for c in range(x.shape[3]):
      img = Image.fromarray(x[i, :, :, c].astype(np.float32), mode="F")
      out[i, :, :, c] = np.asarray(img.resize((resolution, resolution), Image.BILINEAR))
  return out


def load_digits(resolution: int = 16) -> tuple[np.ndarray, np.ndarray]:
  """Returns ``images [1797, R, R, 1]`` in [-1, 1] and ``labels [1797]`` int32."""
  from sklearn.datasets import load_digits as sk_load_digits  # bundled, no download
  digits = sk_load_digits()
  x = (digits.images.astype(np.float32) / DIGITS_MAX) * 2.0 - 1.0
  x = resize_images(x[..., None], resolution)
  return np.clip(x, -1.0, 1.0), digits.target.astype(np.int32)


def synthetic_images(num: int, resolution: int, channels: int, seed: int,
                     num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
  """``num`` uniform [-1, 1] images ``[num, R, R, C]`` and random labels."""
  rng = np.random.default_rng([seed, 7])
  x = rng.uniform(-1, 1, size=(num, resolution, resolution, channels)).astype(np.float32)
  return x, rng.integers(0, num_classes, size=num).astype(np.int32)


def load_image(path: str, resolution: int, channels: int, crop: int | None = None) -> np.ndarray:
  """``uint8 [R, R, C]``: the central square (side ``crop``, default the shorter side) resized."""
  with Image.open(path) as img:
    img = img.convert("L" if channels == 1 else "RGB")
    w, h = img.size
    side = min(crop or min(w, h), w, h)
    left, top = (w - side) // 2, (h - side) // 2
    img = img.crop((left, top, left + side, top + side)).resize((resolution, resolution), Image.LANCZOS)
    pixels = np.asarray(img, np.uint8)
  return pixels[..., None] if channels == 1 else pixels


def image_examples(name: str, paths: list[str], labels: list[int], resolution: int, channels: int,
                   crop: int | None = None) -> Iterator[tuple[int, dict]]:
  """Yields ``(i, {'image', 'label'})`` for every readable file; warns once about the others."""
  skipped = []
  for i, (path, label) in enumerate(zip(paths, labels)):
    try:
      image = load_image(path, resolution, channels, crop)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
      skipped.append(f"{path} ({type(e).__name__})")
      continue
    yield i, {"image": image, "label": int(label)}
  if skipped and len(skipped) == len(paths):
    raise DataError(f"{name}: none of the {len(paths)} image files could be read, e.g. {skipped[0]}.")
  if skipped:
    warnings.warn(f"{name}: skipped {len(skipped)} of {len(paths)} image files that could not be "
                  f"read: {', '.join(skipped[:5])}{' ...' if len(skipped) > 5 else ''}", stacklevel=2)
