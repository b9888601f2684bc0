"""Discriminator regularizers, picked by ``config.loss.regularizer`` and weighted by ``loss.reg_weight``.

A :class:`Regularizer` computes a scalar penalty from the discriminator as a function
``d(x [B, *shape]) -> logits [B]`` (its parameters closed over, so the penalty's gradient
flows into them), the real and fake batches ``[B, *shape]`` and a per-device PRNG key. The
step adds ``reg_weight * penalty`` to the discriminator loss.

Gradient penalties treat examples independently: a discriminator with BatchNorm couples
them, so these regularizers require a discriminator without BatchNorm (``model.dcgan.use_batchnorm=False``) (checked at build time).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp

from jaxgan.registry import Registry

DFn = Callable[[jax.Array], jax.Array]


@dataclasses.dataclass(frozen=True)
class Regularizer:
  penalty: Callable[[DFn, jax.Array, jax.Array, jax.Array], jax.Array]  # (d, real, fake, key)
  description: str
  default_weight: float
  uses_input_gradients: bool = True


REGULARIZERS: Registry[Regularizer] = Registry("regularizer")


def input_gradients(d: DFn, x: jax.Array) -> jax.Array:
  """``dD(x_i)/dx_i`` for every example, ``[B, *shape]`` (one backward pass of ``sum_i D(x_i)``)."""
  return jax.grad(lambda x: jnp.sum(d(x)))(x)


def _per_example_sq_norm(g: jax.Array) -> jax.Array:
  return jnp.sum(jnp.reshape(g, (g.shape[0], -1)) ** 2, axis=1)


def _uniform_per_example(key: jax.Array, x: jax.Array) -> jax.Array:
  return jax.random.uniform(key, (x.shape[0],) + (1,) * (x.ndim - 1), x.dtype)


def gradient_penalty(d: DFn, real: jax.Array, fake: jax.Array, key: jax.Array) -> jax.Array:
  """WGAN-GP (Gulrajani et al. 2017, arXiv:1704.00028, eq. 3): ``E[(||grad D(x^)|| - 1)^2]``
  at ``x^ = e x_real + (1 - e) x_fake``, ``e ~ U[0, 1]`` per example."""
  eps = _uniform_per_example(key, real)
  x_hat = eps * real + (1.0 - eps) * jax.lax.stop_gradient(fake)
  norms = jnp.sqrt(_per_example_sq_norm(input_gradients(d, x_hat)) + 1e-12)
  return jnp.mean((norms - 1.0) ** 2)


def dragan_penalty(d: DFn, real: jax.Array, fake: jax.Array, key: jax.Array) -> jax.Array:
  """DRAGAN (Kodali et al. 2017, arXiv:1705.07215): the same penalty at perturbed real data,
  ``x^ = x + 0.5 std(x) u``, ``u ~ U[0, 1]`` elementwise (std over the batch)."""
  noise = 0.5 * jnp.std(real, axis=0, keepdims=True) * jax.random.uniform(key, real.shape, real.dtype)
  norms = jnp.sqrt(_per_example_sq_norm(input_gradients(d, real + noise)) + 1e-12)
  return jnp.mean((norms - 1.0) ** 2)


def r1_penalty(d: DFn, real: jax.Array, fake: jax.Array, key: jax.Array) -> jax.Array:
  """R1 (Mescheder et al. 2018, arXiv:1801.04406, eq. 9): ``1/2 E_real[||grad D(x)||^2]``
  (the weight is gamma)."""
  return 0.5 * jnp.mean(_per_example_sq_norm(input_gradients(d, real)))


def r2_penalty(d: DFn, real: jax.Array, fake: jax.Array, key: jax.Array) -> jax.Array:
  """R2 (Mescheder et al. 2018): ``1/2 E_fake[||grad D(x)||^2]``."""
  return 0.5 * jnp.mean(_per_example_sq_norm(input_gradients(d, jax.lax.stop_gradient(fake))))


def r1_r2_penalty(d: DFn, real: jax.Array, fake: jax.Array, key: jax.Array) -> jax.Array:
  """R1 + R2, both zero-centred penalties at once (R3GAN: Huang et al. 2024, arXiv:2501.05441,
  eq. 4, ``gamma/2 (R1 + R2)`` with the weight gamma): ``1/2 (E_real[||grad D||^2] +
  E_fake[||grad D||^2])``. R1 alone keeps D from pushing up real data off the data manifold;
  R2 adds the same on the fakes, which the paper's analysis needs for local convergence of RpGAN."""
  return r1_penalty(d, real, fake, key) + r2_penalty(d, real, fake, key)


REGULARIZERS.register("none")(Regularizer(
    lambda d, real, fake, key: jnp.zeros((), real.dtype), "no penalty", 0.0, uses_input_gradients=False))
REGULARIZERS.register("gradient_penalty")(Regularizer(gradient_penalty, "WGAN-GP, lambda 10", 10.0))
REGULARIZERS.register("dragan")(Regularizer(dragan_penalty, "DRAGAN, lambda 10", 10.0))
REGULARIZERS.register("r1")(Regularizer(r1_penalty, "R1, gamma 10", 10.0))
REGULARIZERS.register("r2")(Regularizer(r2_penalty, "R2, gamma 10", 10.0))
REGULARIZERS.register("r1_r2")(Regularizer(r1_r2_penalty, "R1 + R2 (R3GAN), gamma 10", 10.0))


# ---- generator regularizers -----------------------------------------------------------------

def path_length_penalty(apply_g: Callable[..., jax.Array], z: jax.Array, keys: jax.Array,
                        pl_mean: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Path-length regularization (Karras et al. 2020, StyleGAN2, arXiv:1912.04958, Sec. 3.2,
  eq. 4): ``E[(||J_w^T y||_2 - a)^2]`` with ``y ~ N(0, I) / sqrt(H W)`` image-shaped and
  ``J_w`` the Jacobian of the synthesis network in the styles ``w``.

  ``apply_g(z, only_ws=True) -> ws [B, L, w_dim]`` and ``apply_g(z, ws=ws) -> images``
  (``stylegan2``). The length is taken as the reference does, ``sqrt(mean over the L
  layers of sum over w_dim of g^2)`` for ``g = J^T y``; ``a`` is ``pl_mean``, the running
  mean of the lengths (no gradient); ``keys [B]`` draw each example's ``y``. Returns ``(penalty, mean length of this batch)``; the
  step updates ``pl_mean`` from the second value (averaged over devices).
  """
  ws = jax.lax.stop_gradient(apply_g(z, only_ws=True))
  images, vjp = jax.vjp(lambda ws: apply_g(z, ws=ws), ws)
  h, w = images.shape[1:3]
  y = jax.vmap(lambda k: jax.random.normal(k, images.shape[1:], images.dtype))(keys) / jnp.sqrt(float(h * w))
  (g,) = vjp(y)
  lengths = jnp.sqrt(jnp.mean(jnp.sum(g.astype(jnp.float32) ** 2, axis=2), axis=1))
  penalty = jnp.mean((lengths - jax.lax.stop_gradient(pl_mean)) ** 2)
  return penalty, jax.lax.stop_gradient(jnp.mean(lengths))


G_REGULARIZERS: Registry[str] = Registry("generator regularizer")
G_REGULARIZERS.register("none")("no generator penalty")
G_REGULARIZERS.register("path_length")("path-length regularization (StyleGAN2), weight 2, every 4th G update")
