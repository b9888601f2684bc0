"""GAN objectives from discriminator logits, picked by name from ``LOSSES``.

A :class:`GANLoss` pairs a discriminator loss ``d_loss(real_logits [B], fake_logits [B])``
with a generator loss ``g_loss(fake_logits [B], real_logits [B])``; both return scalars
(means over the batch). Only relativistic losses read ``real_logits`` in the generator
loss (``g_uses_real``); the step evaluates D on a real batch for them alone. The
probabilistic losses are written with ``softplus`` on logits, the numerically stable form
of ``log(sigmoid(.))``: ``log D(x) = -softplus(-l)`` and ``log(1 - D(x)) = -softplus(l)``.
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
  d_loss: Callable[[jax.Array, jax.Array], jax.Array]        # (real_logits, fake_logits)
  g_loss: Callable[[jax.Array, jax.Array | None], jax.Array]  # (fake_logits, real_logits)
  description: str
  g_uses_real: bool = False  # the generator loss needs D's logits on real data


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


def minimax_g_loss(fake_logits: jax.Array, real_logits: jax.Array | None = None) -> jax.Array:
  """Original (saturating) generator loss (Goodfellow et al. 2014, eq. 1).

  ``L_G = E[log(1 - D(G(z)))] = -E[softplus(l_fake)]``. Its gradient vanishes when D
  confidently rejects fakes, which is why the non-saturating form is the usual choice.
  """
  _check_logits(fake_logits)
  return -jnp.mean(jax.nn.softplus(fake_logits))


def non_saturating_g_loss(fake_logits: jax.Array, real_logits: jax.Array | None = None) -> jax.Array:
  """Non-saturating generator loss (Goodfellow et al. 2014, Sec. 3).

  ``L_G = -E[log D(G(z))] = E[softplus(-l_fake)]``: the same fixed point as the minimax
  game with strong gradients early in training.
  """
  _check_logits(fake_logits)
  return jnp.mean(jax.nn.softplus(-fake_logits))


def hinge_d_loss(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
  """Hinge discriminator loss (Lim & Ye 2017, arXiv:1705.02894; Miyato et al. 2018, SNGAN).

  ``L_D = E[relu(1 - l_real)] + E[relu(1 + l_fake)]``.
  """
  _check_logits(real_logits, fake_logits)
  return jnp.mean(jax.nn.relu(1.0 - real_logits)) + jnp.mean(jax.nn.relu(1.0 + fake_logits))


def critic_g_loss(fake_logits: jax.Array, real_logits: jax.Array | None = None) -> jax.Array:
  """Generator loss of hinge and Wasserstein GANs: ``L_G = -E[l_fake]``."""
  _check_logits(fake_logits)
  return -jnp.mean(fake_logits)


def wasserstein_d_loss(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
  """Wasserstein critic loss (Arjovsky et al. 2017, arXiv:1701.07875): ``E[l_fake] - E[l_real]``.

  The critic must be kept 1-Lipschitz: weight clipping (WGAN) or a gradient penalty
  (WGAN-GP, Gulrajani et al. 2017), see ``jaxgan.regularizers``.
  """
  _check_logits(real_logits, fake_logits)
  return jnp.mean(fake_logits) - jnp.mean(real_logits)


WGAN_DRIFT = 1e-3  # ProGAN's epsilon_drift (Karras et al. 2018, App. A.1)


def wasserstein_drift_d_loss(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
  """ProGAN's critic loss (Karras et al. 2018, arXiv:1710.10196, App. A.1): the Wasserstein
  loss plus a drift term ``epsilon E[l_real^2]`` (epsilon 0.001) that keeps the critic's
  output near zero: ``E[l_fake] - E[l_real] + 0.001 E[l_real^2]``. Pair with the gradient penalty."""
  return wasserstein_d_loss(real_logits, fake_logits) + WGAN_DRIFT * jnp.mean(jnp.square(real_logits))


def least_squares_d_loss(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
  """LSGAN discriminator loss (Mao et al. 2017, arXiv:1611.04076, eq. 2 with a=0, b=1):
  ``L_D = 1/2 E[(l_real - 1)^2] + 1/2 E[l_fake^2]``."""
  _check_logits(real_logits, fake_logits)
  return 0.5 * jnp.mean((real_logits - 1.0) ** 2) + 0.5 * jnp.mean(fake_logits ** 2)


def least_squares_g_loss(fake_logits: jax.Array, real_logits: jax.Array | None = None) -> jax.Array:
  """LSGAN generator loss (c=1): ``L_G = 1/2 E[(l_fake - 1)^2]``."""
  _check_logits(fake_logits)
  return 0.5 * jnp.mean((fake_logits - 1.0) ** 2)


def relativistic_average_d_loss(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
  """Relativistic average discriminator loss (Jolicoeur-Martineau 2018, arXiv:1807.00734, RaSGAN):

  ``L_D = E_r[softplus(-(l_r - E[l_f]))] + E_f[softplus(l_f - E[l_r])]`` -- real data
  should look more real than the average fake, and fakes less real than the average real.
  """
  _check_logits(real_logits, fake_logits)
  return (jnp.mean(jax.nn.softplus(-(real_logits - jnp.mean(fake_logits))))
          + jnp.mean(jax.nn.softplus(fake_logits - jnp.mean(real_logits))))


def relativistic_average_g_loss(fake_logits: jax.Array, real_logits: jax.Array | None) -> jax.Array:
  """RaSGAN generator loss: the discriminator loss with real and fake swapped,
  ``L_G = E_f[softplus(-(l_f - E[l_r]))] + E_r[softplus(l_r - E[l_f])]``."""
  _check_logits(fake_logits, real_logits)
  return relativistic_average_d_loss(fake_logits, real_logits)


def relativistic_pairing_d_loss(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
  """Relativistic pairing discriminator loss (RpGAN: Jolicoeur-Martineau 2018, arXiv:1807.00734,
  eq. 8 with f = softplus(-t); the loss of R3GAN, Huang et al. 2024, arXiv:2501.05441, eq. 2):

  ``L_D = E_i[softplus(-(l_real_i - l_fake_i))]`` -- each real example is paired with one
  fake (example ``i`` of both batches) and should look more real than its partner.
  """
  _check_logits(real_logits, fake_logits)
  chex.assert_equal_shape([real_logits, fake_logits])
  return jnp.mean(jax.nn.softplus(-(real_logits - fake_logits)))


def relativistic_pairing_g_loss(fake_logits: jax.Array, real_logits: jax.Array | None) -> jax.Array:
  """RpGAN generator loss: ``L_G = E_i[softplus(-(l_fake_i - l_real_i))]``."""
  return relativistic_pairing_d_loss(fake_logits, real_logits)


LOSSES.register("minimax")(GANLoss(
    minimax_d_loss, minimax_g_loss, "minimax game, saturating G loss (Goodfellow et al. 2014)"))
LOSSES.register("non_saturating")(GANLoss(
    minimax_d_loss, non_saturating_g_loss, "minimax D loss, non-saturating G loss (Goodfellow et al. 2014)"))
LOSSES.register("hinge")(GANLoss(
    hinge_d_loss, critic_g_loss, "hinge D loss, -E[D(G(z))] G loss (Lim & Ye 2017; SNGAN)"))
LOSSES.register("wasserstein")(GANLoss(
    wasserstein_d_loss, critic_g_loss, "Wasserstein critic (Arjovsky et al. 2017); pair with a GP or clipping"))
LOSSES.register("wasserstein_drift")(GANLoss(
    wasserstein_drift_d_loss, critic_g_loss, "Wasserstein critic + drift 0.001 E[D(x)^2] (ProGAN, Karras et al. 2018)"))
LOSSES.register("least_squares")(GANLoss(
    least_squares_d_loss, least_squares_g_loss, "least squares, a=0 b=c=1 (Mao et al. 2017)"))
LOSSES.register("relativistic_average")(GANLoss(
    relativistic_average_d_loss, relativistic_average_g_loss,
    "relativistic average standard GAN (Jolicoeur-Martineau 2018)", g_uses_real=True))
LOSSES.register("relativistic_pairing")(GANLoss(
    relativistic_pairing_d_loss, relativistic_pairing_g_loss,
    "relativistic pairing GAN, RpGAN (Jolicoeur-Martineau 2018; R3GAN, Huang et al. 2024)", g_uses_real=True))
