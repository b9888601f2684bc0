"""Fully connected generator and discriminator for 2D toy data (ring8, grid25)."""

from __future__ import annotations

import flax.linen as nn
import jax

from jaxgan.models import conditioning
from jaxgan.models.layers import leaky_relu, spectral


class MLPGenerator(nn.Module):
  """``z [B, latent], labels [B] | None -> points [B, out_dim]``: ``depth`` ReLU layers of
  ``width`` units, linear output. Conditioning: ``'none'`` or ``'embed'`` (no BatchNorm)."""
  out_dim: int = 2
  width: int = 128
  depth: int = 3
  conditioning: str = "none"
  num_classes: int = 0

  @nn.compact
  def __call__(self, z: jax.Array, labels: jax.Array | None = None, train: bool = True) -> jax.Array:
    x = conditioning.condition_latent(z, labels, conditioning.G_CONDITIONING.get(self.conditioning),
                                      self.num_classes)
    for _ in range(self.depth):
      x = nn.relu(nn.Dense(self.width)(x))
    return nn.Dense(self.out_dim)(x)


class MLPDiscriminator(nn.Module):
  """``points [B, d], labels [B] | None -> logits [B]``: ``depth`` LeakyReLU(0.2) layers of
  ``width`` units, then :func:`jaxgan.models.conditioning.discriminator_head`."""
  width: int = 128
  depth: int = 3
  spectral_norm: bool = False
  conditioning: str = "none"
  num_classes: int = 0
  minibatch: str = "none"

  @nn.compact
  def __call__(self, x: jax.Array, labels: jax.Array | None = None, train: bool = True):
    sn = lambda layer: spectral(layer, self.spectral_norm, train)
    x = conditioning.condition_input(x, labels, conditioning.D_CONDITIONING.get(self.conditioning),
                                     self.num_classes)
    for _ in range(self.depth):
      x = leaky_relu(sn(nn.Dense(self.width))(x))
    return conditioning.discriminator_head(
        x, labels, train, conditioning=self.conditioning, num_classes=self.num_classes,
        minibatch=self.minibatch, spectral_norm=self.spectral_norm)
