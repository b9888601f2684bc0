"""The resizes feature extractors feed their network with, by name (the filter alone moves
FID by points: Parmar et al. 2022, "On Aliased Resizing and Surprising Subtleties in GAN
Evaluation"), so each metric record can say which one it used.

* ``bilinear``: half-pixel centres (output pixel ``j`` samples input
  ``(j + 0.5) * in / out - 0.5``), no antialiasing: ``jax.image.resize(..., 'bilinear',
  antialias=False)``, as PyTorch's ``interpolate(mode='bilinear', align_corners=False)``.
* ``tf_bilinear``: TF1's ``tf.image.resize_bilinear(align_corners=False)``, the resize
  inside the 2015-12-05 FID Inception graph (TTUR's ``fid.py``, stylegan2-ada's
  ``inception-2015-12-05`` detector, clean-fid's ``legacy_tensorflow``): output pixel ``j``
  samples input ``j * in / out`` (no half-pixel shift), the index clamped at the last
  pixel; no antialiasing.

Both take ``x [N, H, W, C]`` to ``[N, size, size, C]`` and are separable, so each is two
small matrix products.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.registry import Registry

METHODS: Registry[Callable[[jax.Array, int], jax.Array]] = Registry("resize method")


def tf_bilinear_matrix(size_in: int, size_out: int) -> np.ndarray:
  """``[size_out, size_in]`` weights of TF1's asymmetric bilinear resize along one axis."""
  src = np.arange(size_out, dtype=np.float64) * (size_in / size_out)
  lo = np.minimum(np.floor(src).astype(np.int64), size_in - 1)
  hi = np.minimum(lo + 1, size_in - 1)
  frac = src - lo
  m = np.zeros((size_out, size_in), np.float64)
  np.add.at(m, (np.arange(size_out), lo), 1.0 - frac)
  np.add.at(m, (np.arange(size_out), hi), frac)
  return m.astype(np.float32)


@METHODS.register("tf_bilinear")
def tf_bilinear(x: jax.Array, size: int) -> jax.Array:
  rows = jnp.asarray(tf_bilinear_matrix(x.shape[1], size))
  cols = jnp.asarray(tf_bilinear_matrix(x.shape[2], size))
  hp = jax.lax.Precision.HIGHEST
  x = jnp.einsum("oh,nhwc->nowc", rows, x, precision=hp)
  return jnp.einsum("pw,nowc->nopc", cols, x, precision=hp)


@METHODS.register("bilinear")
def bilinear(x: jax.Array, size: int) -> jax.Array:
  return jax.image.resize(x, (x.shape[0], size, size, x.shape[3]), "bilinear", antialias=False)


def resize(x: jax.Array, size: int, method: str) -> jax.Array:
  """``x [N, H, W, C]`` -> ``[N, size, size, C]`` by ``method`` (unchanged when already that size)."""
  if x.shape[1:3] == (size, size):
    return x
  return METHODS.get(method)(x, size)
