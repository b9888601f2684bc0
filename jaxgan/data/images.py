"""In-memory image sets that need no files: ``digits`` and ``synthetic_images``.

* ``digits``: scikit-learn's bundled copy of the UCI handwritten digits (1,797 8x8
  images, 10 classes; Alpaydin & Kaynak 1998). Pixel values 0..16 are scaled to [-1, 1]
  and resized bilinearly to ``data.resolution`` (16 by default).
* ``synthetic_images``: ``data.num_examples`` uniform-noise images of any resolution and
  channel count, deterministic from the seed; for speed measurements and shape tests.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

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
