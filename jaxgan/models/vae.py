"""Encoders and decoders of the VAE (:mod:`jaxgan.vae`), by name (``vae.arch``).

* ``mlp``: the networks of Kingma & Welling 2014 ("Auto-Encoding Variational Bayes",
  arXiv:1312.6114, Sec. 5) in the one-stochastic-layer setting of Burda et al. 2016
  ("Importance Weighted Autoencoders", arXiv:1509.00519, Sec. 5): ``depth`` tanh layers of
  ``hidden`` units on each side (784-200-200-50 and back, by default), a diagonal Gaussian
  posterior and per-pixel decoder outputs.
* ``conv``: a DCGAN-shaped pair for images whose side divides by 4: two 4x4 stride-2
  convolutions of ``width`` and ``2 * width`` channels (ReLU) and a dense layer of
  ``hidden`` units; the decoder mirrors it with transposed convolutions. Both are
  :mod:`jaxgan.models.layers`' ``Conv``/``ConvTranspose`` (the functions and parameters of
  ``flax.linen``'s, with the CPU formulations and the transposed conv's custom VJP that
  avoids XLA:CPU's ~4 GFLOP/s weight-gradient path).

Every encoder maps ``x [N, H, W, C] -> (mean [N, latent], log variance [N, latent])``;
every decoder maps ``z [N, latent] -> params [N, H, W, C * P]`` with ``P`` the pixel
likelihood's parameters per channel (:mod:`jaxgan.likelihoods`).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.models.layers import Conv, ConvTranspose
from jaxgan.registry import Registry


class MLPEncoder(nn.Module):
  latent_dim: int
  hidden: int = 200
  depth: int = 2

  @nn.compact
  def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    h = x.reshape(x.shape[0], -1)
    for _ in range(self.depth):
      h = jnp.tanh(nn.Dense(self.hidden)(h))
    return nn.Dense(self.latent_dim, name="mean")(h), nn.Dense(self.latent_dim, name="log_var")(h)


class MLPDecoder(nn.Module):
  shape: tuple[int, int, int]
  out_channels: int
  hidden: int = 200
  depth: int = 2

  @nn.compact
  def __call__(self, z: jax.Array) -> jax.Array:
    h = z
    for _ in range(self.depth):
      h = jnp.tanh(nn.Dense(self.hidden)(h))
    height, width, _ = self.shape
    return nn.Dense(height * width * self.out_channels, name="out")(h).reshape(
        (z.shape[0], height, width, self.out_channels))


class ConvEncoder(nn.Module):
  latent_dim: int
  width: int = 32
  hidden: int = 256

  @nn.compact
  def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    h = nn.relu(Conv(self.width, 4, 2, padding=((1, 1), (1, 1)))(x))
    h = nn.relu(Conv(2 * self.width, 4, 2, padding=((1, 1), (1, 1)))(h))
    h = nn.relu(nn.Dense(self.hidden)(h.reshape(h.shape[0], -1)))
    return nn.Dense(self.latent_dim, name="mean")(h), nn.Dense(self.latent_dim, name="log_var")(h)


class ConvDecoder(nn.Module):
  shape: tuple[int, int, int]
  out_channels: int
  width: int = 32
  hidden: int = 256

  @nn.compact
  def __call__(self, z: jax.Array) -> jax.Array:
    height, width_px, _ = self.shape
    h = nn.relu(nn.Dense(self.hidden)(z))
    h = nn.relu(nn.Dense((height // 4) * (width_px // 4) * 2 * self.width)(h))
    h = h.reshape((z.shape[0], height // 4, width_px // 4, 2 * self.width))
    h = nn.relu(ConvTranspose(self.width, 4, 2, padding="SAME")(h))
    return ConvTranspose(self.out_channels, 4, 2, padding="SAME", name="out")(h)


@dataclasses.dataclass(frozen=True)
class VAEArch:
  """An encoder/decoder pair: ``make(vae config section, latent_dim, image shape, decoder
  channels) -> (encoder, decoder)``, the config options it reads, and a shape check."""
  make: Callable[..., tuple[nn.Module, nn.Module]]
  options: tuple[str, ...]
  check_shape: Callable[[tuple[int, ...]], None]
  description: str


def _any_image(shape: tuple[int, ...]) -> None:
  if len(shape) != 3:
    raise ConfigError(f"the VAE models images [H, W, C]; this data set's examples have shape {shape}.")


def _sides_divide_by_4(shape: tuple[int, ...]) -> None:
  _any_image(shape)
  if shape[0] % 4 or shape[1] % 4:
    raise ConfigError(f"vae.arch='conv' halves the image twice, so its sides must divide by 4; the data "
                      f"are {shape[0]}x{shape[1]}. Choose data.resolution divisible by 4 or vae.arch='mlp'.")


VAE_ARCHS: Registry[VAEArch] = Registry("VAE architecture")
VAE_ARCHS.register("mlp")(VAEArch(
    make=lambda c, latent, shape, out: (MLPEncoder(latent, c.hidden, c.depth),
                                        MLPDecoder(tuple(shape), out, c.hidden, c.depth)),
    options=("hidden", "depth"), check_shape=_any_image,
    description="tanh MLP encoder and decoder (Kingma & Welling 2014; Burda et al. 2016)"))
VAE_ARCHS.register("conv")(VAEArch(
    make=lambda c, latent, shape, out: (ConvEncoder(latent, c.width, c.hidden),
                                        ConvDecoder(tuple(shape), out, c.width, c.hidden)),
    options=("width", "hidden"), check_shape=_sides_divide_by_4,
    description="convolutional encoder and decoder (two stride-2 stages)"))
