"""Fully connected generator and discriminator for 2D toy data (ring8, grid25)."""

from __future__ import annotations

import flax.linen as nn
import jax

from jaxgan.models.layers import leaky_relu, spectral


class MLPGenerator(nn.Module):
  """``z [B, latent] -> points [B, out_dim]``: ``depth`` ReLU layers of ``width`` units, linear output.

  ``labels`` is accepted and reserved for conditional variants.
  """
  out_dim: int = 2
  width: int = 128
  depth: int = 3

  @nn.compact
  def __call__(self, z: jax.Array, labels: jax.Array | None = None, train: bool = True) -> jax.Array:
    x = z
    for _ in range(self.depth):
      x = nn.relu(nn.Dense(self.width)(x))
    return nn.Dense(self.out_dim)(x)


class MLPDiscriminator(nn.Module):
  """``points [B, d] -> logits [B]``: ``depth`` LeakyReLU(0.2) layers of ``width`` units."""
  width: int = 128
  depth: int = 3
  spectral_norm: bool = False

  @nn.compact
  def __call__(self, x: jax.Array, labels: jax.Array | None = None, train: bool = True) -> jax.Array:
    sn = lambda layer: spectral(layer, self.spectral_norm, train)
    for _ in range(self.depth):
      x = leaky_relu(sn(nn.Dense(self.width))(x))
    return sn(nn.Dense(1))(x)[:, 0]
