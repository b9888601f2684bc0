"""Differentiable augmentation of D's inputs (DiffAugment: Zhao, Liu, Lin, Zhu & Han 2020,
"Differentiable Augmentation for Data-Efficient GAN Training", arXiv:2006.10738).

``train.augment`` is a comma list of policies from :data:`AUGMENTATIONS`, applied in that
order to real *and* generated images every time D sees them (D updates and G updates),
so G's gradient flows through the augmentation. Each op transforms one image
``[H, W, C]`` (values in [-1, 1]) with its own randomness; :func:`augment_batch` gives
example ``i`` of the global batch the key ``fold_in(key, i)``, so a run does not depend
on the device count.

Ops, as in the paper's reference implementation:

* ``color``: brightness ``+U(-0.5, 0.5)``, saturation ``x (U(0, 2))`` about the channel mean,
  contrast ``x (U(0.5, 1.5))`` about the image mean.
* ``translation``: integer shift of up to 1/8 of the image side on each axis, zero fill.
* ``cutout``: a zeroed square of half the image side at a random centre.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
from jax import lax

from jaxgan.errors import ConfigError
from jaxgan.registry import Registry

ImageOp = Callable[[jax.Array, jax.Array], jax.Array]  # (image [H, W, C], key) -> image
AUGMENTATIONS: Registry[ImageOp] = Registry("augmentation")


@AUGMENTATIONS.register("color")
def color(x: jax.Array, key: jax.Array) -> jax.Array:
  kb, ks, kc = jax.random.split(key, 3)
  x = x + (jax.random.uniform(kb, (), x.dtype) - 0.5)
  mean = jnp.mean(x, axis=-1, keepdims=True)
  x = (x - mean) * (2.0 * jax.random.uniform(ks, (), x.dtype)) + mean
  mean = jnp.mean(x)
  return (x - mean) * (jax.random.uniform(kc, (), x.dtype) + 0.5) + mean


@AUGMENTATIONS.register("translation")
def translation(x: jax.Array, key: jax.Array, ratio: float = 0.125) -> jax.Array:
  h, w, c = x.shape
  sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
  dy = jax.random.randint(jax.random.fold_in(key, 0), (), -sh, sh + 1)
  dx = jax.random.randint(jax.random.fold_in(key, 1), (), -sw, sw + 1)
  padded = jnp.pad(x, ((sh, sh), (sw, sw), (0, 0)))
  # Output pixel (i, j) reads input (i - dy, j - dx): padded (i - dy + sh, j - dx + sw).
  return lax.dynamic_slice(padded, (sh - dy, sw - dx, 0), (h, w, c))


@AUGMENTATIONS.register("cutout")
def cutout(x: jax.Array, key: jax.Array, ratio: float = 0.5) -> jax.Array:
  h, w, _ = x.shape
  ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
  cy = jax.random.randint(jax.random.fold_in(key, 0), (), 0, h + (1 - ch % 2))
  cx = jax.random.randint(jax.random.fold_in(key, 1), (), 0, w + (1 - cw % 2))
  rows, cols = jnp.arange(h)[:, None], jnp.arange(w)[None, :]
  inside = ((rows >= cy - ch // 2) & (rows < cy - ch // 2 + ch)
            & (cols >= cx - cw // 2) & (cols < cx - cw // 2 + cw))
  return x * (~inside)[:, :, None].astype(x.dtype)


def parse_policy(policy: str) -> tuple[str, ...]:
  """``'color, translation'`` -> ``('color', 'translation')``, each checked against the registry."""
  names = tuple(p.strip() for p in policy.split(",") if p.strip())
  for name in names:
    AUGMENTATIONS.get(name)
  return names


def check_policy(policy: str, data_kind: str) -> tuple[str, ...]:
  """The parsed policy; refuses augmentation of non-image data."""
  names = parse_policy(policy)
  if names and data_kind != "image":
    raise ConfigError(f"train.augment={policy!r}: DiffAugment transforms images, but the data "
                      f"are {data_kind}; set train.augment=''.")
  return names


def row_keys(key: jax.Array, first_row: jax.Array | int, count: int) -> jax.Array:
  """Keys ``fold_in(key, first_row + i)`` for ``i < count``: one per example, by its row in the
  global batch, so an augmentation does not depend on how the batch is split over devices."""
  return jax.vmap(lambda i: jax.random.fold_in(key, i))(first_row + jnp.arange(count))


def augment_batch(x: jax.Array, key: jax.Array, policy: tuple[str, ...], first_row: jax.Array | int = 0
                  ) -> jax.Array:
  """Applies ``policy`` to ``x [B, H, W, C]``; example ``i`` uses ``fold_in(key, first_row + i)``.

  ``first_row`` is the index of ``x[0]`` in the global batch (device index x per-device batch).
  """
  if not policy:
    return x
  keys = row_keys(key, first_row, x.shape[0])

  def one(image, k):
    for n, name in enumerate(policy):
      image = AUGMENTATIONS.get(name)(image, jax.random.fold_in(k, n))
    return image

  return jax.vmap(one)(x, keys)
