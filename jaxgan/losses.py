"""GAN objectives from discriminator logits, picked by name from ``LOSSES``.

A :class:`GANLoss` pairs a discriminator loss ``d_loss(real_logits [B], fake_logits [B])``
with a generator loss ``g_loss(fake_logits [B])``; both return scalars (means over the
batch). Everything is written with ``softplus`` on logits, the numerically stable form of
``log(sigmoid(.))``: ``log D(x) = -softplus(-l)`` and ``log(1 - D(x)) = -softplus(l)``.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import chex
import jax
import jax.numpy as jnp

from jaxgan.registry import Registry


@dataclasses.dataclass(frozen=True)
class GANLoss:
  d_loss: Callable[[jax.Array, jax.Array], jax.Array]
  g_loss: Callable[[jax.Array], jax.Array]
  description: str


LOSSES: Registry[GANLoss] = Registry("loss")


def _check_logits(*logits: jax.Array) -> None:
  chex.assert_rank(logits, 1)
  chex.assert_type(logits, float)


def minimax_d_loss(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
  """Discriminator side of the GAN game (Goodfellow et al. 2014, arXiv:1406.2661, eq. 1).

  ``L_D = -E[log D(x)] - E[log(1 - D(G(z)))] = E[softplus(-l_real)] + E[softplus(l_fake)]``,
  the binary cross-entropy of real-vs-fake from logits.
  """
  _check_logits(real_logits, fake_logits)
  return jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits))


def minimax_g_loss(fake_logits: jax.Array) -> jax.Array:
  """Original (saturating) generator loss (Goodfellow et al. 2014, eq. 1).

  ``L_G = E[log(1 - D(G(z)))] = -E[softplus(l_fake)]``. Its gradient vanishes when D
  confidently rejects fakes, which is why the non-saturating form is the usual choice.
  """
  _check_logits(fake_logits)
  return -jnp.mean(jax.nn.softplus(fake_logits))


def non_saturating_g_loss(fake_logits: jax.Array) -> jax.Array:
  """Non-saturating generator loss (Goodfellow et al. 2014, Sec. 3).

  ``L_G = -E[log D(G(z))] = E[softplus(-l_fake)]``: the same fixed point as the minimax
  game with strong gradients early in training.
  """
  _check_logits(fake_logits)
  return jnp.mean(jax.nn.softplus(-fake_logits))


LOSSES.register("minimax")(GANLoss(
    minimax_d_loss, minimax_g_loss, "minimax game, saturating G loss (Goodfellow et al. 2014)"))
LOSSES.register("non_saturating")(GANLoss(
    minimax_d_loss, non_saturating_g_loss, "minimax D loss, non-saturating G loss (Goodfellow et al. 2014)"))
