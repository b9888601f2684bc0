"""Pixel likelihoods of explicit density models, and the binarizations that some need.

A :class:`PixelLikelihood` turns a decoder's output into a distribution over one image and
answers ``log p(x)`` per image in nats, its mean and a draw from it. The registry
:data:`PIXEL_LIKELIHOODS` is chosen by ``vae.likelihood``:

* ``bernoulli``: one logit per pixel and channel, over binary pixels (binarized MNIST, the
  setting of Kingma & Welling 2014, Burda et al. 2016 and the PixelCNN papers);
* ``categorical``: a 256-way softmax per pixel and channel over 8-bit levels (the PixelCNN
  papers' output, van den Oord et al. 2016, arXiv:1601.06759, Sec. 3.4);
* ``logistic``: the discretized logistic of Salimans et al. 2017 (PixelCNN++,
  arXiv:1701.05517, eq. 2), one mean and log-scale per pixel and channel, over the 256
  levels of 8-bit data (jaxgan's ``[-1, 1]`` images are ``uint8 / 127.5 - 1``), the edge
  bins taking the tails.

:data:`BINARIZATIONS` (``vae.binarize``) maps jaxgan's ``[-1, 1]`` grey levels to the model's
targets: ``dynamic`` draws each pixel from Bernoulli(intensity) afresh for every batch
(Salakhutdinov & Murray 2008; Burda et al. 2016, Sec. 5), ``threshold`` keeps pixels above
one half, ``none`` keeps the grey levels.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.registry import Registry


@dataclasses.dataclass(frozen=True)
class PixelLikelihood:
  """A distribution over images from per-pixel parameters.

  Attributes:
    params_per_channel: decoder outputs per pixel and channel (its last axis is
      ``channels * params_per_channel``).
    log_prob: ``(params [N, H, W, C*P], x [N, H, W, C]) -> [N]`` log-likelihood in nats.
    mean: ``params -> [N, H, W, C]`` in [-1, 1] (jaxgan's image convention).
    sample: ``(key, params) -> [N, H, W, C]`` in [-1, 1], a draw of every pixel.
    binary: models binary pixels (targets in {0, 1}); else 8-bit levels in [-1, 1].
    unit: what ``log_prob`` is reported in besides nats per image.
  """
  params_per_channel: int
  log_prob: Callable[[jax.Array, jax.Array], jax.Array]
  mean: Callable[[jax.Array], jax.Array]
  sample: Callable[[jax.Array, jax.Array], jax.Array]
  binary: bool
  description: str


def _sum_pixels(x: jax.Array) -> jax.Array:
  return jnp.sum(x.reshape(x.shape[0], -1), axis=1)


def bernoulli_log_prob(logits: jax.Array, x: jax.Array) -> jax.Array:
  """``sum_i x_i log sigmoid(l_i) + (1 - x_i) log sigmoid(-l_i)`` per image, ``x`` in {0, 1}."""
  return _sum_pixels(x * jax.nn.log_sigmoid(logits) + (1.0 - x) * jax.nn.log_sigmoid(-logits))


def _split(params: jax.Array) -> tuple[jax.Array, jax.Array]:
  c = params.shape[-1] // 2
  return params[..., :c], jnp.clip(params[..., c:], -7.0, None)


def logistic_log_prob(params: jax.Array, x: jax.Array, bins: int = 256) -> jax.Array:
  """Discretized logistic (PixelCNN++ eq. 2) per image: ``x`` on the ``bins`` levels of
  ``[-1, 1]``; the probability of a level is the logistic's mass over its bin of width
  ``2 / (bins - 1)``, the first and last bins extending to -inf and +inf."""
  mean, log_scale = _split(params)
  half = 1.0 / (bins - 1)
  inv = jnp.exp(-log_scale)
  centred = x - mean
  upper = inv * (centred + half)
  lower = inv * (centred - half)
  log_cdf_upper = jax.nn.log_sigmoid(upper)           # log F(x + half): the bottom bin
  log_one_minus_cdf_lower = -jax.nn.softplus(lower)   # log (1 - F(x - half)): the top bin
  cdf_delta = jax.nn.sigmoid(upper) - jax.nn.sigmoid(lower)
  mid = inv * centred
  # Where the bin's mass underflows, its density at the centre times the bin width.
  log_pdf_mid = mid - log_scale - 2.0 * jax.nn.softplus(mid) + math.log(2 * half)
  inner = jnp.where(cdf_delta > 1e-5, jnp.log(jnp.maximum(cdf_delta, 1e-12)), log_pdf_mid)
  log_p = jnp.where(x < -1 + half, log_cdf_upper, jnp.where(x > 1 - half, log_one_minus_cdf_lower, inner))
  return _sum_pixels(log_p)


def _logistic_sample(key: jax.Array, params: jax.Array, bins: int = 256) -> jax.Array:
  mean, log_scale = _split(params)
  u = jax.random.uniform(key, mean.shape, minval=1e-5, maxval=1.0 - 1e-5)
  x = mean + jnp.exp(log_scale) * (jnp.log(u) - jnp.log1p(-u))
  return jnp.round((jnp.clip(x, -1.0, 1.0) + 1.0) * (bins - 1) / 2) * 2 / (bins - 1) - 1.0


LEVELS = 256  # 8-bit data: jaxgan's [-1, 1] images are uint8 / 127.5 - 1


def _levels(params: jax.Array) -> jax.Array:
  """``[N, H, W, C * 256] -> [N, H, W, C, 256]`` logits."""
  return params.reshape(params.shape[:-1] + (params.shape[-1] // LEVELS, LEVELS))


def level_index(x: jax.Array) -> jax.Array:
  """``[-1, 1]`` values -> int32 levels 0..255."""
  return jnp.clip(jnp.round((x + 1.0) * (LEVELS - 1) / 2), 0, LEVELS - 1).astype(jnp.int32)


def categorical_log_prob(params: jax.Array, x: jax.Array) -> jax.Array:
  """``sum_i log softmax(l_i)[level(x_i)]`` per image over 256 levels."""
  log_p = jax.nn.log_softmax(_levels(params), axis=-1)
  return _sum_pixels(jnp.take_along_axis(log_p, level_index(x)[..., None], axis=-1)[..., 0])


def _level_values() -> jax.Array:
  return jnp.arange(LEVELS, dtype=jnp.float32) * 2 / (LEVELS - 1) - 1.0


PIXEL_LIKELIHOODS: Registry[PixelLikelihood] = Registry("pixel likelihood")
PIXEL_LIKELIHOODS.register("bernoulli")(PixelLikelihood(
    params_per_channel=1, log_prob=bernoulli_log_prob,
    mean=lambda logits: 2.0 * jax.nn.sigmoid(logits) - 1.0,
    sample=lambda key, logits: 2.0 * jax.random.bernoulli(key, jax.nn.sigmoid(logits)).astype(jnp.float32) - 1.0,
    binary=True, description="Bernoulli per pixel (binary data)"))
PIXEL_LIKELIHOODS.register("categorical")(PixelLikelihood(
    params_per_channel=LEVELS, log_prob=categorical_log_prob,
    mean=lambda params: jnp.sum(jax.nn.softmax(_levels(params), axis=-1) * _level_values(), axis=-1),
    sample=lambda key, params: _level_values()[jax.random.categorical(key, _levels(params), axis=-1)],
    binary=False, description="256-way softmax per pixel (van den Oord et al. 2016)"))
PIXEL_LIKELIHOODS.register("logistic")(PixelLikelihood(
    params_per_channel=2, log_prob=logistic_log_prob,
    mean=lambda params: jnp.clip(_split(params)[0], -1.0, 1.0),
    sample=_logistic_sample,
    binary=False, description="discretized logistic per pixel over 256 levels (Salimans et al. 2017)"))


def intensity(x: jax.Array) -> jax.Array:
  """jaxgan's ``[-1, 1]`` images as intensities in ``[0, 1]``."""
  return jnp.clip((x + 1.0) / 2.0, 0.0, 1.0)


@dataclasses.dataclass(frozen=True)
class Binarization:
  """``(key, x [N, ...] in [-1, 1]) -> targets``: binary {0, 1}, or the grey levels kept."""
  apply: Callable[[jax.Array, jax.Array], jax.Array]
  binary: bool
  description: str


BINARIZATIONS: Registry[Binarization] = Registry("binarization")
BINARIZATIONS.register("dynamic")(Binarization(
    lambda key, x: jax.random.bernoulli(key, intensity(x)).astype(jnp.float32), True,
    "each pixel drawn from Bernoulli(intensity), afresh each time"))
BINARIZATIONS.register("threshold")(Binarization(
    lambda key, x: (intensity(x) > 0.5).astype(jnp.float32), True, "intensity > 0.5"))
BINARIZATIONS.register("none")(Binarization(lambda key, x: x, False, "grey levels kept"))


def binarize_rows(binarization: Binarization, key: jax.Array, x: jax.Array, rows: jax.Array) -> jax.Array:
  """:attr:`Binarization.apply` of each example with its own key ``fold_in(key, row)``, so a
  global batch is binarized the same whichever device or chunk holds each row."""
  return jax.vmap(lambda r, xi: binarization.apply(jax.random.fold_in(key, r), xi))(rows, x)


def check_pair(likelihood_name: str, binarize_name: str, section: str) -> None:
  """Refuses a binary likelihood on grey levels and an 8-bit one on binarized pixels
  (options ``<section>.likelihood`` and ``<section>.binarize``), naming the fixes."""
  likelihood = PIXEL_LIKELIHOODS.get(likelihood_name)
  binarization = BINARIZATIONS.get(binarize_name)
  if likelihood.binary and not binarization.binary:
    raise ConfigError(f"{section}.likelihood={likelihood_name!r} models binary pixels, and {section}.binarize="
                      f"{binarize_name!r} keeps grey levels: set {section}.binarize='dynamic' (Bernoulli draws "
                      f"of each pixel, as Burda et al. 2016) or 'threshold', or model the grey levels with an "
                      f"8-bit likelihood ({section}.likelihood='logistic' or 'categorical').")
  if not likelihood.binary and binarization.binary:
    raise ConfigError(f"{section}.likelihood={likelihood_name!r} models the 256 levels of 8-bit pixels, and "
                      f"{section}.binarize={binarize_name!r} makes them binary: set {section}.binarize='none', "
                      f"or use {section}.likelihood='bernoulli' for binarized data.")
