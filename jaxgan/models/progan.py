"""ProGAN generator and discriminator (Karras, Aila, Laine & Lehtinen 2018, "Progressive
Growing of GANs for Improved Quality, Stability, and Variation", arXiv:1710.10196, Table 2).

Both networks hold the layers of every resolution from 4x4 to ``resolution`` and run the
first ``level + 1`` of them (``level`` 0 is 4x4, ``-1`` the full network); ``fading`` blends
the newest level in with the weight ``alpha`` (Fig. 2): G's image is
``lerp(upsample(toRGB_{l-1}(h_{l-1})), toRGB_l(h_l), alpha)``, and D's features after the
newest block are ``lerp(fromRGB_{l-1}(pool(x)), block_l(fromRGB_l(x)), alpha)``. ``level``
and ``fading`` are static fields (the train step is compiled per phase, see
:mod:`jaxgan.growth`); ``alpha`` is a float32 scalar in the ``'growth'`` variable
collection, which the step sets from the images shown so far. Images keep the full
resolution outside the networks: G upsamples its output (nearest) to ``resolution`` and D
average-pools its input down to the level's resolution first, as the reference
implementation's networks do with their full-size ``images_in``/``images_out``.

Pieces (Sec. 4): pixelwise feature normalisation after every G convolution (and of ``z``),
the equalized learning rate (weights ~ N(0, 1) scaled at run time by the He constant
``gain / sqrt(fan_in)``, gain sqrt 2, 1 for ``toRGB`` and the logit), leaky ReLU 0.2, and
a minibatch standard deviation feature (group 4) before D's last block. Channels per
resolution ``r``: ``min(width * 32 / r, max_channels)`` (the paper's 512 up to 32x32, then
halving, with ``width = max_channels = 512``). The paper's networks are unconditional, with
linear outputs (no tanh).
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from jaxgan.models.stylegan2 import conv2d, minibatch_stddev

SQRT2 = math.sqrt(2.0)


def pixel_norm(x: jax.Array, eps: float = 1e-8) -> jax.Array:
  """Pixelwise feature vector normalisation (Sec. 4.2): ``x / sqrt(mean_c x^2 + eps)``."""
  return x * lax.rsqrt(jnp.mean(jnp.square(x), axis=-1, keepdims=True) + eps)


def lrelu(x: jax.Array) -> jax.Array:
  return nn.leaky_relu(x, 0.2)


def lerp(a: jax.Array, b: jax.Array, t: jax.Array) -> jax.Array:
  """``a + (b - a) t``: ``a`` at ``t = 0``, ``b`` at ``t = 1``."""
  return a + (b - a) * t.astype(a.dtype)


def upsample(x: jax.Array, factor: int) -> jax.Array:
  """Nearest-neighbour upsampling ``[B, H, W, C] -> [B, fH, fW, C]``."""
  if factor == 1:
    return x
  b, h, w, c = x.shape
  return jnp.broadcast_to(x[:, :, None, :, None, :], (b, h, factor, w, factor, c)).reshape(
      (b, h * factor, w * factor, c))


def downsample(x: jax.Array, factor: int) -> jax.Array:
  """``factor x factor`` average pooling ``[B, H, W, C] -> [B, H/f, W/f, C]`` (the inverse
  of :func:`upsample` on its image)."""
  if factor == 1:
    return x
  b, h, w, c = x.shape
  return jnp.mean(x.reshape((b, h // factor, factor, w // factor, factor, c)), axis=(2, 4))


def channels(resolution: int, width: int, max_channels: int) -> int:
  """Feature maps at ``resolution``: ``min(width * 32 / resolution, max_channels)``."""
  return max(1, min(width * 32 // resolution, max_channels))


def num_levels(resolution: int) -> int:
  """Levels from 4x4 to ``resolution`` (a power of 2 >= 4): 4 -> 1, 32 -> 4."""
  return int(math.log2(resolution)) - 1


class WSConv(nn.Module):
  """Equalized-lr SAME convolution with bias: ``conv(x, W * gain / sqrt(fan_in)) + b``."""
  features: int
  kernel: int = 3
  gain: float = SQRT2

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    w = self.param("kernel", nn.initializers.normal(1.0), (self.kernel, self.kernel, x.shape[-1], self.features))
    y = conv2d(x, w * (self.gain / math.sqrt(x.shape[-1] * self.kernel ** 2)))
    return y + self.param("bias", nn.initializers.zeros, (self.features,)).astype(y.dtype)


class WSDense(nn.Module):
  """Equalized-lr dense layer: ``x @ (W * gain / sqrt(fan_in)) + b``."""
  features: int
  gain: float = SQRT2

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    w = self.param("kernel", nn.initializers.normal(1.0), (x.shape[-1], self.features))
    y = x @ (w * (self.gain / math.sqrt(x.shape[-1]))).astype(x.dtype)
    return y + self.param("bias", nn.initializers.zeros, (self.features,)).astype(y.dtype)


def _alpha(module: nn.Module) -> jax.Array:
  return module.variable("growth", "alpha", lambda: jnp.ones((), jnp.float32)).value


def _level(module: nn.Module) -> int:
  levels = num_levels(module.resolution)
  level = levels - 1 if module.level < 0 else module.level
  if not 0 <= level < levels:
    raise ValueError(f"level {module.level} is outside 0..{levels - 1} for resolution {module.resolution}")
  return level


class ProGANGenerator(nn.Module):
  """``z [B, latent], labels (unused) -> images [B, R, R, C]`` at level ``level`` (upsampled to R)."""
  resolution: int
  channels: int
  width: int = 512
  max_channels: int = 512
  level: int = -1
  fading: bool = False

  @nn.compact
  def __call__(self, z: jax.Array, labels: jax.Array | None = None, train: bool = True) -> jax.Array:
    del labels, train
    alpha, level = _alpha(self), _level(self)
    # Initialisation creates every level's layers, so one parameter tree serves every phase.
    top = num_levels(self.resolution) - 1 if self.is_initializing() else level
    nf = lambda r: channels(r, self.width, self.max_channels)
    x = WSDense(16 * nf(4), gain=SQRT2 / 4, name="dense_4")(pixel_norm(z))  # the 4x4 "deconvolution"
    x = pixel_norm(lrelu(x.reshape((z.shape[0], 4, 4, nf(4)))))
    x = pixel_norm(lrelu(WSConv(nf(4), name="conv_4")(x)))
    features = [x]
    for l in range(1, top + 1):
      r = 4 << l
      x = upsample(x, 2)
      x = pixel_norm(lrelu(WSConv(nf(r), name=f"conv_{r}_a")(x)))
      x = pixel_norm(lrelu(WSConv(nf(r), name=f"conv_{r}_b")(x)))
      features.append(x)
    heads = range(top + 1) if self.is_initializing() else ((level - 1, level) if self.fading and level else (level,))
    rgb = {l: WSConv(self.channels, 1, gain=1.0, name=f"to_rgb_{4 << l}")(features[l]) for l in heads}
    img = rgb[level]
    if self.fading and level:
      img = lerp(upsample(rgb[level - 1], 2), img, alpha)
    return upsample(img, self.resolution // (4 << level))


class ProGANDiscriminator(nn.Module):
  """``images [B, R, R, C], labels (unused) -> logits [B]`` at level ``level`` (input pooled to its size)."""
  resolution: int
  width: int = 512
  max_channels: int = 512
  mbstd_group: int = 4
  level: int = -1
  fading: bool = False

  @nn.compact
  def __call__(self, x: jax.Array, labels: jax.Array | None = None, train: bool = True) -> jax.Array:
    del labels, train
    alpha, level = _alpha(self), _level(self)
    nf = lambda r: channels(r, self.width, self.max_channels)
    r = 4 << level
    img = downsample(x, self.resolution // r)
    from_rgb = lambda res, image: lrelu(WSConv(nf(res), 1, name=f"from_rgb_{res}")(image))

    def block(res: int, h: jax.Array) -> jax.Array:
      h = lrelu(WSConv(nf(res), name=f"conv_{res}_a")(h))
      return downsample(lrelu(WSConv(nf(res // 2), name=f"conv_{res}_b")(h)), 2)

    if self.is_initializing():  # every level's fromRGB, so one parameter tree serves every phase
      for l in range(num_levels(self.resolution)):
        if l != level and not (self.fading and l == level - 1):
          from_rgb(4 << l, downsample(x, self.resolution // (4 << l)))
    h = from_rgb(r, img)
    if level:
      h = block(r, h)
      if self.fading:
        h = lerp(from_rgb(r // 2, downsample(img, 2)), h, alpha)
    for res in (4 << l for l in range(level - 1, 0, -1)):
      h = block(res, h)
    h = minibatch_stddev(h, self.mbstd_group)
    h = lrelu(WSConv(nf(4), name="conv_4")(h))
    h = lrelu(WSDense(nf(4), name="dense_4")(h.reshape((h.shape[0], -1))))
    return WSDense(1, gain=1.0, name="logit")(h)[:, 0]
