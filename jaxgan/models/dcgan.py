"""DCGAN generator and discriminator (Radford, Metz & Chintala 2016, arXiv:1511.06434).

G: ``z -> Dense -> [b, b, width * 2^(n-1)] -> n-1 x (4x4 stride-2 transposed conv, BN, ReLU)
-> 4x4 stride-2 transposed conv -> tanh``, with ``resolution = b * 2^n`` and ``b`` 4 or 7
(so 8, 16, 32, 64, 128 from 4 and 14, 28, 56 from 7). With ``width=128`` at 32x32 this is the
classic layout 100 -> 512x4x4 -> 256x8x8 -> 128x16x16 -> 3x32x32.

D mirrors G: 4x4 stride-2 convs with LeakyReLU(0.2), BatchNorm on all but the first, then
a dense logit. BatchNorm statistics are averaged across devices (``axis_name``).

Options shared with the other architectures: class conditioning (``jaxgan.models.conditioning``),
a SAGAN self-attention block after the layer whose output is ``attention_res`` pixels
wide, spectral normalization, and a minibatch layer before D's logit.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.models import conditioning
from jaxgan.models.blocks import base_and_depth, generator_norm, maybe_attention
from jaxgan.models.layers import Conv, ConvTranspose, batch_norm, dcgan_init, leaky_relu, spectral



class DCGANGenerator(nn.Module):
  """``z [B, latent], labels [B] | None -> images [B, R, R, channels]`` in [-1, 1]."""
  resolution: int
  channels: int
  width: int = 64
  axis_name: str | None = "batch"
  conditioning: str = "none"   # jaxgan.models.conditioning.G_CONDITIONING
  num_classes: int = 0
  attention_res: int = 0       # SAGAN block after the layer of this output size; 0: none
  spectral_norm: bool = False

  @nn.compact
  def __call__(self, z: jax.Array, labels: jax.Array | None = None, train: bool = True) -> jax.Array:
    base, depth = base_and_depth(self.resolution)
    cond = conditioning.G_CONDITIONING.get(self.conditioning)
    sn = lambda layer: spectral(layer, self.spectral_norm, train)
    norm = lambda: generator_norm(self.num_classes if cond.batch_norm else 0, self.axis_name, train)
    z = conditioning.condition_latent(z, labels, cond, self.num_classes)
    features = self.width * 2 ** (depth - 1)
    x = sn(nn.Dense(base * base * features, use_bias=False, kernel_init=dcgan_init()))(z)
    x = x.reshape((z.shape[0], base, base, features))
    x = nn.relu(norm()(x, labels))
    for _ in range(depth - 1):
      x = maybe_attention(x, self.attention_res, self.spectral_norm, train)
      features //= 2
      x = sn(ConvTranspose(features, 4, 2, use_bias=False, kernel_init=dcgan_init()))(x)
      x = nn.relu(norm()(x, labels))
    x = maybe_attention(x, self.attention_res, self.spectral_norm, train)
    x = sn(ConvTranspose(self.channels, 4, 2, kernel_init=dcgan_init()))(x)
    return jnp.tanh(x)


class DCGANDiscriminator(nn.Module):
  """``images [B, R, R, C], labels [B] | None -> logits [B]`` (AC-GAN: and class logits [B, K])."""
  resolution: int
  width: int = 64
  use_batchnorm: bool = True
  spectral_norm: bool = False
  axis_name: str | None = "batch"
  conditioning: str = "none"   # jaxgan.models.conditioning.D_CONDITIONING
  num_classes: int = 0
  attention_res: int = 0       # SAGAN block on the feature map of this size; 0: none
  minibatch: str = "none"      # jaxgan.models.blocks.MINIBATCH, before the logit

  @nn.compact
  def __call__(self, x: jax.Array, labels: jax.Array | None = None, train: bool = True):
    _, depth = base_and_depth(self.resolution)
    cond = conditioning.D_CONDITIONING.get(self.conditioning)
    sn = lambda layer: spectral(layer, self.spectral_norm, train)
    x = conditioning.condition_input(x, labels, cond, self.num_classes)
    features = self.width
    x = leaky_relu(sn(Conv(features, 4, 2, kernel_init=dcgan_init()))(x))
    for _ in range(depth - 1):
      x = maybe_attention(x, self.attention_res, self.spectral_norm, train)
      features *= 2
      x = sn(Conv(features, 4, 2, use_bias=not self.use_batchnorm, kernel_init=dcgan_init()))(x)
      if self.use_batchnorm:
        x = batch_norm(train, self.axis_name)(x)
      x = leaky_relu(x)
    return conditioning.discriminator_head(
        x, labels, train, conditioning=self.conditioning, num_classes=self.num_classes,
        minibatch=self.minibatch, spectral_norm=self.spectral_norm, kernel_init=dcgan_init())
