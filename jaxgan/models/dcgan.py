"""DCGAN generator and discriminator (Radford, Metz & Chintala 2016, arXiv:1511.06434).

G: ``z -> Dense -> [b, b, width * 2^(n-1)] -> n-1 x (4x4 stride-2 transposed conv, BN, ReLU)
-> 4x4 stride-2 transposed conv -> tanh``, with ``resolution = b * 2^n`` and ``b`` 4 or 7
(so 8, 16, 32, 64, 128 from 4 and 14, 28, 56 from 7). With ``width=128`` at 32x32 this is the
classic layout 100 -> 512x4x4 -> 256x8x8 -> 128x16x16 -> 3x32x32.

D mirrors G: 4x4 stride-2 convs with LeakyReLU(0.2), BatchNorm on all but the first, then
a dense logit. BatchNorm statistics are averaged across devices (``axis_name``).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.models.layers import Conv, ConvTranspose, batch_norm, dcgan_init, leaky_relu, spectral

BASES = (4, 7)


def base_and_depth(resolution: int) -> tuple[int, int]:
  """``resolution = base * 2^depth`` with base in (4, 7) and depth >= 1."""
  for base in BASES:
    depth, size = 0, resolution
    while size % 2 == 0 and size > base:
      size //= 2
      depth += 1
    if size == base and depth >= 1:
      return base, depth
  raise ConfigError(f"DCGAN cannot produce resolution {resolution}: it must be 4*2^k or 7*2^k "
                   "(k >= 1), e.g. 8, 14, 16, 28, 32, 64.")


class DCGANGenerator(nn.Module):
  """``z [B, latent] -> images [B, R, R, channels]`` in [-1, 1]."""
  resolution: int
  channels: int
  width: int = 64
  axis_name: str | None = "batch"

  @nn.compact
  def __call__(self, z: jax.Array, labels: jax.Array | None = None, train: bool = True) -> jax.Array:
    base, depth = base_and_depth(self.resolution)
    features = self.width * 2 ** (depth - 1)
    x = nn.Dense(base * base * features, use_bias=False, kernel_init=dcgan_init())(z)
    x = x.reshape((z.shape[0], base, base, features))
    x = nn.relu(batch_norm(train, self.axis_name)(x))
    for _ in range(depth - 1):
      features //= 2
      x = ConvTranspose(features, 4, 2, use_bias=False, kernel_init=dcgan_init())(x)
      x = nn.relu(batch_norm(train, self.axis_name)(x))
    x = ConvTranspose(self.channels, 4, 2, kernel_init=dcgan_init())(x)
    return jnp.tanh(x)


class DCGANDiscriminator(nn.Module):
  """``images [B, R, R, C] -> logits [B]``."""
  resolution: int
  width: int = 64
  use_batchnorm: bool = True
  spectral_norm: bool = False
  axis_name: str | None = "batch"

  @nn.compact
  def __call__(self, x: jax.Array, labels: jax.Array | None = None, train: bool = True) -> jax.Array:
    _, depth = base_and_depth(self.resolution)
    sn = lambda layer: spectral(layer, self.spectral_norm, train)
    features = self.width
    x = leaky_relu(sn(Conv(features, 4, 2, kernel_init=dcgan_init()))(x))
    for _ in range(depth - 1):
      features *= 2
      x = sn(Conv(features, 4, 2, use_bias=not self.use_batchnorm, kernel_init=dcgan_init()))(x)
      if self.use_batchnorm:
        x = batch_norm(train, self.axis_name)(x)
      x = leaky_relu(x)
    x = x.reshape((x.shape[0], -1))
    return sn(nn.Dense(1, kernel_init=dcgan_init()))(x)[:, 0]
