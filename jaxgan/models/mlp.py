"""Fully connected generator and discriminator for 2D toy data (ring8, grid25) and for
small images (flattened; the MNIST networks of Goodfellow et al. 2014).

Options for the 2D-grid setup of Srivastava et al. 2017 (VEEGAN) and Lin et al. 2018
(PacGAN): BatchNorm before each ReLU of G (``batchnorm``) and maxout units in D
(``maxout`` pieces; Goodfellow et al. 2013, "Maxout Networks", arXiv:1302.4389), and weights
drawn from N(0, ``init_std``^2) as there, the logit layer's included (0: Flax's LeCun-normal default).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.errors import ConfigError
from jaxgan.models import conditioning
from jaxgan.models.layers import batch_norm, leaky_relu, spectral


def check_mlp_options(section) -> None:
  """Value checks of ``config.model.mlp`` (the options of both MLP networks)."""
  if section.init_std < 0:
    raise ConfigError(f"model.mlp.init_std must be >= 0 (0: Flax's default init), got {section.init_std}")
  if section.maxout < 0 or section.maxout == 1:
    raise ConfigError(f"model.mlp.maxout must be 0 (LeakyReLU units) or >= 2 maxout pieces, got {section.maxout}")
  if section.depth < 1:
    raise ConfigError(f"model.mlp.depth must be >= 1, got {section.depth}")
  if section.d_depth < 0:
    raise ConfigError(f"model.mlp.d_depth must be >= 0 (0: D as deep as G, model.mlp.depth), got {section.d_depth}")


def dense(features: int, init_std: float, **kwargs) -> nn.Dense:
  """``nn.Dense`` with N(0, init_std^2) weights, or Flax's default init if ``init_std`` is 0."""
  if init_std > 0:
    kwargs["kernel_init"] = nn.initializers.normal(init_std)
  return nn.Dense(features, **kwargs)


def maxout(x: jax.Array, pieces: int) -> jax.Array:
  """``[B, units * pieces] -> [B, units]``: the largest of each unit's ``pieces`` linear pieces."""
  return jnp.max(x.reshape(x.shape[:-1] + (x.shape[-1] // pieces, pieces)), axis=-1)


class MLPGenerator(nn.Module):
  """``z [B, latent], labels [B] | None -> points [B, out_dim]``: ``depth`` ReLU layers of
  ``width`` units (each with BatchNorm before the ReLU if ``batchnorm``; statistics averaged
  over ``axis_name``), linear output. Conditioning: ``'none'`` or ``'embed'``."""
  out_dim: int = 2
  width: int = 128
  depth: int = 3
  conditioning: str = "none"
  num_classes: int = 0
  batchnorm: bool = False
  axis_name: str | None = "batch"
  init_std: float = 0.0
  image_shape: tuple[int, ...] = ()  # images: a tanh output reshaped to [B, H, W, C]

  @nn.compact
  def __call__(self, z: jax.Array, labels: jax.Array | None = None, train: bool = True) -> jax.Array:
    x = conditioning.condition_latent(z, labels, conditioning.G_CONDITIONING.get(self.conditioning),
                                      self.num_classes)
    for _ in range(self.depth):
      x = dense(self.width, self.init_std, use_bias=not self.batchnorm)(x)
      x = nn.relu(batch_norm(train, self.axis_name)(x) if self.batchnorm else x)
    if self.image_shape:  # the fully connected image generator of Goodfellow et al. 2014
      size = int(np.prod(self.image_shape))
      return jnp.tanh(dense(size, self.init_std)(x)).reshape((x.shape[0],) + tuple(self.image_shape))
    return dense(self.out_dim, self.init_std)(x)


class MLPDiscriminator(nn.Module):
  """``points [B, d], labels [B] | None -> logits [B]``: ``d_depth`` layers (0: ``depth``,
  as G) of ``width`` units, LeakyReLU(0.2) or, if ``maxout`` > 0, maxout units of that
  many linear pieces; then :func:`jaxgan.models.conditioning.discriminator_head`."""
  width: int = 128
  depth: int = 3
  d_depth: int = 0
  spectral_norm: bool = False
  conditioning: str = "none"
  num_classes: int = 0
  minibatch: str = "none"
  maxout: int = 0
  init_std: float = 0.0

  @nn.compact
  def __call__(self, x: jax.Array, labels: jax.Array | None = None, train: bool = True):
    sn = lambda layer: spectral(layer, self.spectral_norm, train)
    x = x.reshape((x.shape[0], -1))  # images (and packs of them) as flat vectors
    x = conditioning.condition_input(x, labels, conditioning.D_CONDITIONING.get(self.conditioning),
                                     self.num_classes)
    for _ in range(self.d_depth or self.depth):
      if self.maxout:
        x = maxout(sn(dense(self.width * self.maxout, self.init_std))(x), self.maxout)
      else:
        x = leaky_relu(sn(dense(self.width, self.init_std))(x))
    init = {"kernel_init": nn.initializers.normal(self.init_std)} if self.init_std > 0 else {}
    return conditioning.discriminator_head(
        x, labels, train, conditioning=self.conditioning, num_classes=self.num_classes,
        minibatch=self.minibatch, spectral_norm=self.spectral_norm, **init)
