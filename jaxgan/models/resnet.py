"""ResNet generator and discriminator of SNGAN (Miyato et al. 2018, "Spectral Normalization
for GANs", arXiv:1802.05957, Appendix B.4; the CIFAR-10 ResNets of Gulrajani et al. 2017).

G: ``z -> Dense -> [b, b, width] -> n x ResBlockUp(width) -> BN -> ReLU -> conv3x3 -> tanh``
with ``resolution = b * 2^n`` and ``b`` in (4, 6, 7): 32 = 4*2^3 (CIFAR-10), 48 = 6*2^3
(STL-10), 64 = 4*2^4, 28 = 7*2^2. A block is ``BN, ReLU, 2x nearest upsample, conv3x3, BN,
ReLU, conv3x3`` plus an upsampled 1x1-conv shortcut. With conditional BatchNorm
(``conditioning='cbn'``) this is the generator of Miyato & Koyama 2018.

D: an "optimized" first block (conv3x3, ReLU, conv3x3, 2x2 average pool; shortcut pool +
1x1 conv), pre-activation down blocks until the map is at most 8 pixels wide, plain
blocks up to four in all (32x32: down, down, block, block as in SNGAN), ReLU, global sum
pooling, then :func:`jaxgan.models.conditioning.discriminator_head` (projection or AC-GAN
when conditioned). No BatchNorm in D; spectral normalization when ``spectral_norm``.

Every block has ``width`` channels (SNGAN's CIFAR-10 and STL-10 layout: G 256, D 128).
Upsampling is nearest-neighbour + convolution, so no transposed convolution is involved.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.models import conditioning
from jaxgan.models.blocks import avg_pool2x, base_and_depth, conv3x3, generator_norm, maybe_attention, upsample2x
from jaxgan.models.layers import batch_norm, spectral

BASES = (4, 6, 7)
MIN_D_BLOCKS = 4


def resnet_base_and_depth(resolution: int) -> tuple[int, int]:
  return base_and_depth(resolution, BASES, model="the ResNet generator")


def discriminator_plan(resolution: int) -> list[bool]:
  """Downsampling flag of each D block: down while the map is wider than 8, then plain blocks
  up to :data:`MIN_D_BLOCKS` (32 -> [True, True, False, False])."""
  plan, size = [True], resolution // 2
  while size > 8 and size % 2 == 0:
    plan.append(True)
    size //= 2
  return plan + [False] * max(0, MIN_D_BLOCKS - len(plan))


def generator_sizes(resolution: int) -> list[int]:
  base, depth = resnet_base_and_depth(resolution)
  return [base * 2 ** i for i in range(1, depth + 1)]


def discriminator_sizes(resolution: int) -> list[int]:
  sizes, size = [], resolution
  for down in discriminator_plan(resolution):
    size = size // 2 if down else size
    sizes.append(size)
  return sizes


class ResBlockUp(nn.Module):
  """``[B, H, W, C] -> [B, 2H, 2W, features]``, pre-activation residual block with upsampling."""
  features: int
  num_classes: int = 0  # > 0: conditional BatchNorm
  spectral_norm: bool = False
  axis_name: str | None = "batch"

  @nn.compact
  def __call__(self, x: jax.Array, labels: jax.Array | None, train: bool) -> jax.Array:
    norm = lambda: generator_norm(self.num_classes, self.axis_name, train)
    h = upsample2x(nn.relu(norm()(x, labels)))
    h = conv3x3(self.features, self.spectral_norm, train)(h)
    h = conv3x3(self.features, self.spectral_norm, train)(nn.relu(norm()(h, labels)))
    shortcut = conv3x3(self.features, self.spectral_norm, train, kernel_size=1)(upsample2x(x))
    return h + shortcut


class ResBlockDown(nn.Module):
  """``[B, H, W, C] -> [B, H/2 or H, W/2 or W, features]``, residual D block.

  ``first``: SNGAN's optimized block on the input image (no activation before the first
  conv, shortcut pooled before its 1x1 conv). Otherwise pre-activation (ReLU, conv, ReLU,
  conv); the shortcut has a 1x1 conv when the channel count changes or the block pools.
  """
  features: int
  down: bool = True
  first: bool = False
  spectral_norm: bool = False

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    conv = lambda k=3: conv3x3(self.features, self.spectral_norm, train, kernel_size=k)
    h = x if self.first else nn.relu(x)
    h = conv()(nn.relu(conv()(h)))
    if self.down:
      h = avg_pool2x(h)
    if self.first:
      return h + conv(1)(avg_pool2x(x))
    shortcut = x
    if self.down or x.shape[-1] != self.features:
      shortcut = conv(1)(shortcut)
      shortcut = avg_pool2x(shortcut) if self.down else shortcut
    return h + shortcut


class ResNetGenerator(nn.Module):
  """``z [B, latent], labels [B] | None -> images [B, R, R, channels]`` in [-1, 1]."""
  resolution: int
  channels: int
  width: int = 256
  axis_name: str | None = "batch"
  conditioning: str = "none"
  num_classes: int = 0
  attention_res: int = 0
  spectral_norm: bool = False

  @nn.compact
  def __call__(self, z: jax.Array, labels: jax.Array | None = None, train: bool = True) -> jax.Array:
    base, depth = resnet_base_and_depth(self.resolution)
    cond = conditioning.G_CONDITIONING.get(self.conditioning)
    z = conditioning.condition_latent(z, labels, cond, self.num_classes)
    x = spectral(nn.Dense(base * base * self.width, kernel_init=nn.initializers.xavier_uniform()),
                 self.spectral_norm, train)(z)
    x = x.reshape((z.shape[0], base, base, self.width))
    for _ in range(depth):
      x = ResBlockUp(self.width, self.num_classes if cond.batch_norm else 0, self.spectral_norm,
                     self.axis_name)(x, labels, train)
      x = maybe_attention(x, self.attention_res, self.spectral_norm, train)
    x = nn.relu(batch_norm(train, self.axis_name)(x))
    return jnp.tanh(conv3x3(self.channels, self.spectral_norm, train)(x))


class ResNetDiscriminator(nn.Module):
  """``images [B, R, R, C], labels [B] | None -> logits [B]`` (AC-GAN: and class logits)."""
  resolution: int
  width: int = 128
  spectral_norm: bool = True
  conditioning: str = "none"
  num_classes: int = 0
  attention_res: int = 0
  minibatch: str = "none"

  @nn.compact
  def __call__(self, x: jax.Array, labels: jax.Array | None = None, train: bool = True):
    cond = conditioning.D_CONDITIONING.get(self.conditioning)
    x = conditioning.condition_input(x, labels, cond, self.num_classes)
    for i, down in enumerate(discriminator_plan(self.resolution)):
      x = ResBlockDown(self.width, down, first=i == 0, spectral_norm=self.spectral_norm)(x, train)
      x = maybe_attention(x, self.attention_res, self.spectral_norm, train)
    h = jnp.sum(nn.relu(x), axis=(1, 2))  # global sum pooling, [B, width]
    return conditioning.discriminator_head(
        h, labels, train, conditioning=self.conditioning, num_classes=self.num_classes,
        minibatch=self.minibatch, spectral_norm=self.spectral_norm,
        kernel_init=nn.initializers.xavier_uniform())
