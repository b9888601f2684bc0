"""R3GAN's modernised ResNets (Huang, Gokaslan, Kuleshov & Tompkin 2024, "The GAN is dead;
long live the GAN! A Modern GAN Baseline", arXiv:2501.05441, Sec. 4 "config E").

No normalization layers of any kind; the variance of the residual stream is controlled by
the initialisation alone (fix-up style, their Sec. 4.1):

* every layer is a bias-free convolution (or dense layer) initialised
  ``N(0, gain^2 / fan_in)`` (MSR init), followed where it has one by a biased leaky ReLU
  (slope 0.2, the bias learned per channel, initialised 0);
* a residual block is an inverted bottleneck ``1x1 conv (C -> eC), act, kxk grouped conv
  (eC -> eC, `cardinality` groups), act, 1x1 conv (eC -> C)`` added to its input; the last
  conv of every block starts at zero and the two others have gain
  ``sqrt(2 / (1 + 0.2^2)) * L^(-1/4)`` for L blocks in the whole network
  (``L^(-1/(2m-2))`` with m = 3 layers per branch);
* resolution changes between stages: 2x resampling with the reference's interpolative
  filter (``[1, 2, 1]`` convolved with ``[1, 1]``: ``[1, 3, 3, 1]``, i.e. bilinear with
  zero borders) and a 1x1 conv where the width changes.

G: ``z -> GenerativeBasis`` (a learned ``[b, b, W_0]`` basis scaled per channel by a linear
map of z), blocks, then per stage upsample + blocks, then a 1x1 conv to the image channels
(no tanh: the output is linear, as in the paper). D mirrors it: a 1x1 conv from the image,
per stage blocks + downsample, then blocks and a ``DiscriminativeBasis`` (a ``b x b``
depthwise valid conv and a dense layer to one logit). ``resolution = b * 2^(stages - 1)``.

Widths, cardinalities and block counts are given per stage, lowest resolution first (G's
order; D reads them reversed), as in the reference configs (github.com/brownvc/R3GAN,
``train.py --preset=CIFAR10``): widths ``[768] * 4``, cardinality ``96`` (groups of 16 of the
1536 expanded channels), 2 blocks per stage, expansion 2, latent 64.
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from jaxgan.errors import ConfigError

SLOPE = 0.2
ACT_GAIN = math.sqrt(2.0 / (1.0 + SLOPE ** 2))


def msr_init(gain: float):
  """``N(0, gain^2 / fan_in)`` for Flax kernels (``[..., in, out]``: fan-in is all but the last axis)."""
  def init(key, shape, dtype=jnp.float32):
    fan_in = math.prod(shape[:-1])
    return jax.random.normal(key, shape, dtype) * (gain / math.sqrt(fan_in))
  return init


class BiasedActivation(nn.Module):
  """``leaky_relu(x + b, 0.2)`` with a learned per-channel bias ``b`` (initialised 0)."""

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    bias = self.param("bias", nn.initializers.zeros, (x.shape[-1],))
    return nn.leaky_relu(x + bias.astype(x.dtype), SLOPE)


def grouped_conv_im2col(x: jax.Array, kernel: jax.Array, groups: int) -> jax.Array:
  """SAME, stride-1 grouped convolution ``[B, H, W, C] * [k, k, C/G, O] -> [B, H, W, O]`` as one
  batched matmul over the groups: per group, the ``k*k`` shifted copies of its ``C/G``
  channels form the patch rows (group-major layout, so the group is the matmul's leading
  batch axis). Equals ``lax.conv_general_dilated(..., feature_group_count=G)``; on XLA:CPU
  its gradients are 10-40x faster than that op's (64x28x28x256, 16 groups: 0.8 s against
  9-33 s for forward + both gradients)."""
  k, _, cg, out = kernel.shape
  b, h, w, _ = x.shape
  og, pad = out // groups, k // 2
  xg = jnp.moveaxis(x.reshape(b, h, w, groups, cg), 3, 0)  # [G, B, H, W, C/G]
  xp = jnp.pad(xg, ((0, 0), (0, 0), (pad, k - 1 - pad), (pad, k - 1 - pad), (0, 0)))
  patches = jnp.concatenate([xp[:, :, i:i + h, j:j + w] for i in range(k) for j in range(k)], axis=-1)
  kmat = jnp.moveaxis(kernel.reshape(k * k * cg, groups, og), 1, 0)  # [G, k*k*C/G, O/G]
  y = lax.dot_general(patches.reshape(groups, b * h * w, k * k * cg), kmat.astype(x.dtype),
                      (((2,), (1,)), ((0,), (0,))))
  return jnp.moveaxis(y.reshape(groups, b, h, w, og), 0, 3).reshape(b, h, w, out)


def grouped_conv(x: jax.Array, kernel: jax.Array, groups: int) -> jax.Array:
  """The grouped convolution of :class:`Conv`: XLA's own op on GPU/TPU, and on CPU
  :func:`grouped_conv_im2col` (or the plain op for one group)."""
  if groups == 1 or jax.default_backend() != "cpu":
    return lax.conv_general_dilated(x, kernel.astype(x.dtype), (1, 1), "SAME",
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"), feature_group_count=groups)
  return grouped_conv_im2col(x, kernel, groups)


class Conv(nn.Module):
  """A bias-free SAME, stride-1 convolution with MSR init (fan-in per group); a 1x1 conv is a
  matmul over the channel axis (kernel ``[C, O]``)."""
  features: int
  kernel: int = 1
  groups: int = 1
  gain: float = 1.0

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    init = nn.initializers.zeros if self.gain == 0 else msr_init(self.gain)
    if self.kernel == 1 and self.groups == 1:
      w = self.param("kernel", init, (x.shape[-1], self.features))
      return jnp.einsum("bhwc,co->bhwo", x, w.astype(x.dtype))
    w = self.param("kernel", init, (self.kernel, self.kernel, x.shape[-1] // self.groups, self.features))
    return grouped_conv(x, w, self.groups)


def _interleave(even: jax.Array, odd: jax.Array, axis: int) -> jax.Array:
  stacked = jnp.stack([even, odd], axis=axis + 1)
  shape = list(even.shape)
  shape[axis] *= 2
  return stacked.reshape(shape)


def _shift(x: jax.Array, axis: int, by: int) -> jax.Array:
  """``out[i] = x[i - by]`` along ``axis``, zero where ``i - by`` is outside."""
  n = x.shape[axis]
  pads = [(max(by, 0), max(-by, 0)) if a == axis else (0, 0) for a in range(x.ndim)]
  return lax.slice_in_dim(jnp.pad(x, pads), max(-by, 0), max(-by, 0) + n, axis=axis)


def _up_axis(x: jax.Array, axis: int) -> jax.Array:
  # conv_transpose, stride 2, padding 1, kernel 2 * [1, 3, 3, 1] / 8 (the reference's
  # InterpolativeUpsampler): out[2i] = (x[i-1] + 3 x[i]) / 4, out[2i+1] = (3 x[i] + x[i+1]) / 4.
  return _interleave(0.25 * _shift(x, axis, 1) + 0.75 * x, 0.75 * x + 0.25 * _shift(x, axis, -1), axis)


def _down_axis(x: jax.Array, axis: int) -> jax.Array:
  # conv, stride 2, padding 1, kernel [1, 3, 3, 1] / 8 (InterpolativeDownsampler):
  # out[i] = (x[2i-1] + 3 x[2i] + 3 x[2i+1] + x[2i+2]) / 8.
  n = x.shape[axis] // 2
  p = jnp.pad(x, [(1, 1) if a == axis else (0, 0) for a in range(x.ndim)])
  tap = lambda start: lax.slice_in_dim(p, start, start + 2 * n - 1, stride=2, axis=axis)
  return (tap(0) + 3.0 * tap(1) + 3.0 * tap(2) + tap(3)) / 8.0


def upsample2x(x: jax.Array) -> jax.Array:
  """``[B, H, W, C] -> [B, 2H, 2W, C]``: bilinear interpolation with half-pixel centres, the
  low-pass ``[1, 2, 1] * [1, 1] = [1, 3, 3, 1]`` filter of the reference (zero borders)."""
  return _up_axis(_up_axis(x, 1), 2)


def downsample2x(x: jax.Array) -> jax.Array:
  """``[B, H, W, C] -> [B, H/2, W/2, C]``: the ``[1, 3, 3, 1] / 8`` low-pass at stride 2 (H, W even)."""
  if x.shape[1] % 2 or x.shape[2] % 2:
    raise ValueError(f"downsample2x needs even sides, got {x.shape[1]}x{x.shape[2]}")
  return _down_axis(_down_axis(x, 1), 2)


class ResidualBlock(nn.Module):
  """``x + conv1x1(act(grouped convkxk(act(conv1x1(x)))))``, ``[B, H, W, C] -> [B, H, W, C]``."""
  cardinality: int
  expansion: int
  kernel: int
  total_blocks: int  # L: residual blocks in the whole network (variance scaling)

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    channels = x.shape[-1]
    expanded = channels * self.expansion
    gain = ACT_GAIN * self.total_blocks ** (-1.0 / (2 * 3 - 2))
    y = Conv(expanded, 1, gain=gain)(x)
    y = Conv(expanded, self.kernel, self.cardinality, gain=gain)(BiasedActivation()(y))
    y = Conv(channels, 1, gain=0.0)(BiasedActivation()(y))
    return x + y


def stage_plan(resolution: int, widths: tuple[int, ...], cardinality: tuple[int, ...],
               blocks: tuple[int, ...], expansion: int, model: str) -> int:
  """Checks the per-stage settings against each other and ``resolution``; returns the
  basis side ``b = resolution / 2^(stages - 1)``."""
  stages = len(widths)
  if stages < 1 or len(cardinality) != stages or len(blocks) != stages:
    raise ConfigError(f"{model}: widths, cardinality and blocks need one entry per stage, got "
                      f"{len(widths)}, {len(cardinality)} and {len(blocks)} entries.")
  base = resolution // 2 ** (stages - 1)
  if base * 2 ** (stages - 1) != resolution or base < 2:
    raise ConfigError(f"{model}: {stages} stages double the resolution {stages - 1} times, so "
                      f"{resolution} must be b * 2^{stages - 1} with b >= 2; change the number of "
                      "stages (entries of widths, cardinality, blocks).")
  for w, g in zip(widths, cardinality):
    if w < 1 or g < 1 or (w * expansion) % g:
      raise ConfigError(f"{model}: a stage of width {w} expands to {w * expansion} channels, which "
                        f"{g} groups (cardinality) must divide.")
  if any(b < 0 for b in blocks) or sum(blocks) < 1:
    raise ConfigError(f"{model}: blocks per stage must be >= 0 with at least one block, got {blocks}.")
  return base


class R3GANGenerator(nn.Module):
  """``z [B, latent], labels (unused) -> images [B, R, R, channels]`` (linear output)."""
  resolution: int
  channels: int
  widths: tuple[int, ...] = (768, 768, 768, 768)
  cardinality: tuple[int, ...] = (96, 96, 96, 96)
  blocks: tuple[int, ...] = (2, 2, 2, 2)
  expansion: int = 2
  kernel: int = 3

  @nn.compact
  def __call__(self, z: jax.Array, labels: jax.Array | None = None, train: bool = True) -> jax.Array:
    base = stage_plan(self.resolution, self.widths, self.cardinality, self.blocks, self.expansion,
                      "R3GAN generator")
    total = sum(self.blocks)
    basis = self.param("basis", nn.initializers.normal(1.0), (base, base, self.widths[0]))
    scale = nn.Dense(self.widths[0], use_bias=False, kernel_init=msr_init(1.0))(z)
    x = basis[None].astype(scale.dtype) * scale[:, None, None, :]
    for i, (width, groups, count) in enumerate(zip(self.widths, self.cardinality, self.blocks)):
      if i > 0:
        if x.shape[-1] != width:
          x = Conv(width)(x)
        x = upsample2x(x)
      for _ in range(count):
        x = ResidualBlock(groups, self.expansion, self.kernel, total)(x)
    return Conv(self.channels)(x)


class R3GANDiscriminator(nn.Module):
  """``images [B, R, R, C], labels (unused) -> logits [B]``."""
  resolution: int
  widths: tuple[int, ...] = (768, 768, 768, 768)
  cardinality: tuple[int, ...] = (96, 96, 96, 96)
  blocks: tuple[int, ...] = (2, 2, 2, 2)
  expansion: int = 2
  kernel: int = 3

  @nn.compact
  def __call__(self, x: jax.Array, labels: jax.Array | None = None, train: bool = True) -> jax.Array:
    base = stage_plan(self.resolution, self.widths, self.cardinality, self.blocks, self.expansion,
                      "R3GAN discriminator")
    total = sum(self.blocks)
    widths, groups, blocks = self.widths[::-1], self.cardinality[::-1], self.blocks[::-1]
    x = Conv(widths[0])(x)
    for i, (width, card, count) in enumerate(zip(widths, groups, blocks)):
      for _ in range(count):
        x = ResidualBlock(card, self.expansion, self.kernel, total)(x)
      if i + 1 < len(widths):
        x = downsample2x(x)
        if widths[i + 1] != width:
          x = Conv(widths[i + 1])(x)
    # DiscriminativeBasis: a base x base depthwise valid conv, then one logit.
    # (valid over the whole b x b map: one weight per position and channel).
    basis = self.param("basis", msr_init(1.0), (base, base, 1, x.shape[-1]))
    x = jnp.sum(x * basis[:, :, 0].astype(x.dtype), axis=(1, 2))
    return nn.Dense(1, use_bias=False, kernel_init=msr_init(1.0))(x)[:, 0]
