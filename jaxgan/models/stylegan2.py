"""StyleGAN2 generator and discriminator (Karras, Laine, Aittala, Hellsten, Lehtinen & Aila
2020, "Analyzing and Improving the Image Quality of StyleGAN", arXiv:1912.04958).

G = mapping network + synthesis network:

* mapping: ``z`` normalised to unit second moment, ``mapping_layers`` equalized-lr dense
  layers (leaky ReLU, learning-rate multiplier 0.01) -> ``w`` (Sec. 2 and App. B of
  StyleGAN; the 8 layers of the paper). In training the running mean ``w_avg`` (decay
  0.995) is tracked in the ``'stats'`` collection, the centre of the truncation trick.
* synthesis: a learned constant ``[4, 4, C]``; per resolution two 3x3 modulated convolutions
  (the first after a 2x upsample) with per-pixel noise scaled by a learned strength, bias
  and leaky ReLU (gain sqrt 2), and a skip architecture (Fig. 7b): every resolution adds a
  1x1 modulated ``toRGB`` (no demodulation) to the upsampled image of the previous one.
* modulated convolution (Sec. 2.2, eqs. 1-3): style ``s = A(w) `` (an affine map
  initialised to 1), ``w'_ijk = s_i w_ijk``, demodulation ``w''_ijk = w'_ijk /
  sqrt(sum_ik w'_ijk^2 + eps)``. Computed without per-sample weights: the input is scaled
  by ``s``, convolved with the shared kernel, and the output scaled by the demodulation
  coefficients, which is the same function (the paper's "non-fused" form) and runs as a
  plain convolution.

D: residual (Fig. 7c): ``fromRGB``, per resolution two 3x3 convs (the second after a 2x
downsample) plus a 1x1 downsampled skip, summed and scaled by 1/sqrt(2); at 4x4 a minibatch
standard deviation feature (group 4, Karras et al. 2018), a 3x3 conv, a dense layer and the
logit. Every layer uses the equalized learning rate (weights ~ N(0, 1), scaled by
``1/sqrt(fan_in)`` at run time).

Randomness that the paper draws inside G (noise inputs, and the second latent and crossover
layer of style-mixing regularization in training) is drawn here from a key made from the
bits of the example's latent ``z``: a pure function of the explicit latent key and the
global row, so runs stay deterministic and independent of the device count without a
second key argument. ``train=True`` mixes styles with probability ``mixing_prob``.
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from jaxgan.models.r3gan import downsample2x, upsample2x

LRELU_GAIN = math.sqrt(2.0)
NOISE_STREAM, MIX_STREAM = 1, 2


def lrelu(x: jax.Array) -> jax.Array:
  """Leaky ReLU (0.2) with StyleGAN's gain sqrt 2."""
  return nn.leaky_relu(x, 0.2) * LRELU_GAIN


class EqualDense(nn.Module):
  """Equalized-lr dense layer: ``x @ (W * lr_mul / sqrt(fan_in)) + b * lr_mul``, W ~ N(0, 1/lr_mul^2)."""
  features: int
  lr_mul: float = 1.0
  bias_init: float = 0.0

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    w = self.param("kernel", lambda k, s: jax.random.normal(k, s) / self.lr_mul, (x.shape[-1], self.features))
    b = self.param("bias", lambda k, s: jnp.full(s, self.bias_init / self.lr_mul), (self.features,))
    scale = self.lr_mul / math.sqrt(x.shape[-1])
    return x @ (w * scale).astype(x.dtype) + (b * self.lr_mul).astype(x.dtype)


def conv2d(x: jax.Array, kernel: jax.Array) -> jax.Array:
  return lax.conv_general_dilated(x, kernel.astype(x.dtype), (1, 1), "SAME",
                                  dimension_numbers=("NHWC", "HWIO", "NHWC"))


def modulated_weights(kernel: jax.Array, styles: jax.Array, demodulate: bool = True,
                      eps: float = 1e-8) -> jax.Array:
  """Per-sample weights ``[B, k, k, Ci, Co]`` of eqs. 1 and 3 (the reference the fast path is tested against)."""
  w = kernel[None] * styles[:, None, None, :, None]
  if demodulate:
    w = w * lax.rsqrt(jnp.sum(w ** 2, axis=(1, 2, 3), keepdims=True) + eps)
  return w


def modulated_conv(x: jax.Array, kernel: jax.Array, styles: jax.Array, demodulate: bool = True,
                   eps: float = 1e-8) -> jax.Array:
  """``x [B, H, W, Ci]`` convolved with each sample's modulated (demodulated) ``kernel
  [k, k, Ci, Co]`` for ``styles [B, Ci]``: ``conv(x * s, kernel) * d`` with
  ``d_bj = 1 / sqrt(sum_ik (s_bi kernel_ikj)^2 + eps)``."""
  y = conv2d(x * styles[:, None, None, :].astype(x.dtype), kernel)
  if demodulate:
    d = lax.rsqrt(jnp.einsum("bi,ij->bj", styles ** 2, jnp.sum(kernel ** 2, axis=(0, 1))) + eps)
    y = y * d[:, None, None, :].astype(y.dtype)
  return y


def latent_key(z: jax.Array, stream: int) -> jax.Array:
  """A PRNG key from the bits of one latent ``z [latent]`` (and a stream number)."""
  bits = lax.bitcast_convert_type(lax.stop_gradient(z).astype(jnp.float32), jnp.uint32)
  key = jax.random.key(stream)
  for i in range(min(4, bits.shape[0])):
    key = jax.random.fold_in(key, bits[i])
  return key


class ModulatedConv(nn.Module):
  """Style-modulated conv + noise + bias + activation (a synthesis layer), or ``toRGB``."""
  features: int
  kernel: int = 3
  demodulate: bool = True
  noise: bool = True
  activate: bool = True

  @nn.compact
  def __call__(self, x: jax.Array, w: jax.Array, keys: jax.Array | None) -> jax.Array:
    ci = x.shape[-1]
    styles = EqualDense(ci, bias_init=1.0)(w)  # the affine A, biased to 1
    weight = self.param("kernel", nn.initializers.normal(1.0), (self.kernel, self.kernel, ci, self.features))
    weight = weight / math.sqrt(ci * self.kernel ** 2)
    y = modulated_conv(x, weight, styles, self.demodulate)
    if self.noise:
      strength = self.param("noise_strength", nn.initializers.zeros, ())
      h, wd = y.shape[1:3]
      noise = jax.vmap(lambda k: jax.random.normal(k, (h, wd, 1)))(keys)
      y = y + (strength * noise).astype(y.dtype)
    y = y + self.param("bias", nn.initializers.zeros, (self.features,)).astype(y.dtype)
    return lrelu(y) if self.activate else y


def auto_settings(resolution: int, devices: int = 8) -> dict:
  """The StyleGAN2-ADA reference's ``--cfg=auto`` settings for ``resolution`` on ``devices``
  accelerators (its ``train.py``: the per-resolution heuristics behind the paper configs):
  batch ``max(min(devices * min(4096 / res, 32), 64), devices)``, minibatch-stddev group
  ``min(batch / devices, 4)``, channel base 16384 below 512 px (``fmaps`` 0.5, else 32768),
  learning rate 0.0025 (0.002 from 1024 px), R1 gamma ``0.0002 res^2 / batch``, EMA
  half-life ``batch x 10 / 32`` thousand images ramped up at 0.05, 2 mapping layers.
  ``width`` is jaxgan's channel base / 32."""
  batch = max(min(devices * min(4096 // resolution, 32), 64), devices)
  return dict(batch_size=batch, mbstd_group=min(batch // devices, 4),
              width=(1024 if resolution >= 512 else 512), lr=(0.002 if resolution >= 1024 else 0.0025),
              r1_gamma=0.0002 * resolution ** 2 / batch, ema_kimg=batch * 10 / 32, ema_rampup=0.05,
              mapping_layers=2)


def _channels(resolution: int, width: int, max_channels: int) -> int:
  """StyleGAN2's ``min(channel_base / resolution, channel_max)`` with ``channel_base = width * 32``."""
  return min(width * 32 // resolution, max_channels)


class StyleGAN2Generator(nn.Module):
  """``z [B, latent], labels (unused) -> images [B, R, R, channels]`` (linear output).

  ``truncation < 1`` moves ``w`` towards ``w_avg`` (the truncation trick, sampling only).
  """
  resolution: int
  channels: int
  width: int = 512          # channel_base / 32: channels are min(32 * width / res, max_channels)
  max_channels: int = 512
  w_dim: int = 512
  mapping_layers: int = 8
  mapping_lr_mul: float = 0.01
  mixing_prob: float = 0.9
  w_avg_decay: float = 0.995
  truncation: float = 1.0
  axis_name: str | None = "batch"  # w_avg is the mean over the global batch (all devices)

  def num_layers(self) -> int:
    """Style inputs of the synthesis network: 1 + 2 per doubling (convs), toRGB reads the next."""
    return 2 * int(math.log2(self.resolution // 4)) + 2

  @nn.compact
  def __call__(self, z: jax.Array, labels: jax.Array | None = None, train: bool = True,
               mix_at: int | None = None, z2: jax.Array | None = None, ws: jax.Array | None = None,
               only_ws: bool = False) -> jax.Array:
    """Images of ``z``; ``only_ws``: just the per-layer styles ``ws [B, num_layers, w_dim]``
    of the mapping network (no mixing, truncation or w_avg update), and ``ws=`` synthesises
    from given styles (noise still keyed by ``z``): the two halves path-length
    regularization differentiates between."""
    mapping = Mapping(self.w_dim, self.mapping_layers, self.mapping_lr_mul)
    w_avg = self.variable("stats", "w_avg", jnp.zeros, (self.w_dim,))
    self.variable("stats", "pl_mean", jnp.zeros, ())  # path-length running mean (jaxgan.regularizers)
    n = self.num_layers()
    layer = jnp.arange(n)[None, :, None]
    mixing = ws is None  # given styles are used as they are
    if ws is None:
      w = mapping(z)
      ws = jnp.broadcast_to(w[:, None], (w.shape[0], n, self.w_dim))
      if only_ws:
        return ws
      if train and not self.is_initializing():
        batch_mean = jnp.mean(lax.stop_gradient(w), axis=0).astype(jnp.float32)
        if self.axis_name is not None:
          batch_mean = lax.pmean(batch_mean, self.axis_name)
        w_avg.value = self.w_avg_decay * w_avg.value + (1 - self.w_avg_decay) * batch_mean
    if mixing and mix_at is not None:  # an explicit style-mixing grid: z for layers < mix_at, z2 after
      ws = jnp.where(layer < mix_at, ws, mapping(z2)[:, None])
    elif mixing and train and self.mixing_prob > 0:
      keys = jax.vmap(lambda zi: latent_key(zi, MIX_STREAM))(z)
      z_mix = jax.vmap(lambda k: jax.random.normal(jax.random.fold_in(k, 0), (z.shape[1],), z.dtype))(keys)
      cut = jax.vmap(lambda k: jnp.where(jax.random.uniform(jax.random.fold_in(k, 1)) < self.mixing_prob,
                                         jax.random.randint(jax.random.fold_in(k, 2), (), 1, n), n))(keys)
      ws = jnp.where(layer < cut[:, None, None], ws, mapping(z_mix)[:, None])
    if self.truncation != 1.0:
      ws = w_avg.value.astype(ws.dtype) + self.truncation * (ws - w_avg.value.astype(ws.dtype))
    keys = jax.vmap(lambda zi: latent_key(zi, NOISE_STREAM))(z)
    layer_keys = lambda i: jax.vmap(lambda k: jax.random.fold_in(k, i))(keys)

    c4 = _channels(4, self.width, self.max_channels)
    x = self.param("const", nn.initializers.normal(1.0), (4, 4, c4))
    x = jnp.broadcast_to(x[None].astype(ws.dtype), (z.shape[0], 4, 4, c4))
    x = ModulatedConv(c4)(x, ws[:, 0], layer_keys(0))
    img = ModulatedConv(self.channels, 1, demodulate=False, noise=False, activate=False)(x, ws[:, 1], None)
    i, res = 1, 8
    while res <= self.resolution:
      c = _channels(res, self.width, self.max_channels)
      x = ModulatedConv(c)(upsample2x(x), ws[:, i], layer_keys(i))
      x = ModulatedConv(c)(x, ws[:, i + 1], layer_keys(i + 1))
      img = upsample2x(img) + ModulatedConv(self.channels, 1, demodulate=False, noise=False,
                                            activate=False)(x, ws[:, i + 2], None)
      i, res = i + 2, res * 2
    return img


class Mapping(nn.Module):
  """``z [B, latent] -> w [B, w_dim]``: unit second moment, then equalized-lr dense layers."""
  w_dim: int
  layers: int
  lr_mul: float

  @nn.compact
  def __call__(self, z: jax.Array) -> jax.Array:
    x = z * lax.rsqrt(jnp.mean(z ** 2, axis=1, keepdims=True) + 1e-8)
    for _ in range(self.layers):
      x = lrelu(EqualDense(self.w_dim, lr_mul=self.lr_mul)(x))
    return x


class EqualConv(nn.Module):
  """Equalized-lr SAME conv with bias: ``conv(x, W / sqrt(fan_in)) + b``."""
  features: int
  kernel: int = 3
  use_bias: bool = True

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    w = self.param("kernel", nn.initializers.normal(1.0), (self.kernel, self.kernel, x.shape[-1], self.features))
    y = conv2d(x, w / math.sqrt(x.shape[-1] * self.kernel ** 2))
    if self.use_bias:
      y = y + self.param("bias", nn.initializers.zeros, (self.features,)).astype(y.dtype)
    return y


def minibatch_stddev(x: jax.Array, group: int = 4) -> jax.Array:
  """Appends the mean over features of the per-group standard deviation (one channel)."""
  b, h, w, c = x.shape
  g = min(group, b)
  if b % g:
    g = 1
  y = x.reshape(g, b // g, h, w, c).astype(jnp.float32)
  y = jnp.sqrt(jnp.var(y, axis=0) + 1e-8)                     # [B/g, H, W, C]
  y = jnp.mean(y, axis=(1, 2, 3))                              # [B/g]
  y = jnp.tile(y, (g,))[:, None, None, None]                   # sample i of every group
  return jnp.concatenate([x, jnp.broadcast_to(y.astype(x.dtype), (b, h, w, 1))], axis=-1)


class StyleGAN2Discriminator(nn.Module):
  """``images [B, R, R, C], labels (unused) -> logits [B]`` (residual D with minibatch stddev)."""
  resolution: int
  width: int = 512
  max_channels: int = 512
  mbstd_group: int = 4

  @nn.compact
  def __call__(self, x: jax.Array, labels: jax.Array | None = None, train: bool = True) -> jax.Array:
    res = self.resolution
    x = lrelu(EqualConv(_channels(res, self.width, self.max_channels), 1)(x))
    while res > 4:
      c_in, c_out = _channels(res, self.width, self.max_channels), _channels(res // 2, self.width, self.max_channels)
      skip = EqualConv(c_out, 1, use_bias=False)(downsample2x(x))
      h = lrelu(EqualConv(c_in)(x))
      h = lrelu(EqualConv(c_out)(downsample2x(h)))
      x = (h + skip) * (1 / math.sqrt(2))
      res //= 2
    c = _channels(4, self.width, self.max_channels)
    x = minibatch_stddev(x, self.mbstd_group)
    x = lrelu(EqualConv(c)(x))
    x = lrelu(EqualDense(c)(x.reshape((x.shape[0], -1))))
    return EqualDense(1)(x)[:, 0]
