"""The variational autoencoder as a :class:`jaxgan.method.Method` (``config.method = 'vae'``).

Kingma & Welling 2014 ("Auto-Encoding Variational Bayes", arXiv:1312.6114): an encoder
``q(z|x) = N(mean(x), diag(exp(log_var(x))))``, a decoder ``p(x|z)`` (a pixel likelihood of
:mod:`jaxgan.likelihoods`) and the prior ``p(z) = N(0, I)``, fit by maximising the evidence
lower bound ``ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z))`` (eq. 10: one reparameterised
draw ``z = mean + exp(log_var / 2) * eps`` per example and the closed-form Gaussian KL of
their Appendix B). ``vae.beta`` weights the KL term of the training loss (beta-VAE,
Higgins et al. 2017); the logged ``elbo`` is always the beta = 1 bound.

The likelihood of held-out data is estimated by importance weighting (Burda et al. 2016,
"Importance Weighted Autoencoders", arXiv:1509.00519, eq. 8): ``log p(x) >= log (1/k) sum_i
p(x, z_i) / q(z_i|x)``, ``z_i ~ q(z|x)``, tight as ``k -> inf`` (:func:`iwae_log_likelihood`;
``k = vae.iwae_k``, 5,000 as Burda et al. report). Both estimators are offered to the
metrics (:data:`ESTIMATORS`); the VAE's samples for FID, Parzen windows and pictures are
the decoder's means of prior draws.

Every random draw is keyed per global batch row (binarization, reparameterisation), so one
device and eight give the same step up to the order of the gradient sums.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Iterator

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from jax import lax

from jaxgan import likelihoods
from jaxgan.explicit import ExplicitState, cached, estimator
from jaxgan.errors import ConfigError
from jaxgan.latents import latents
from jaxgan.method import Method
from jaxgan.models.vae import VAE_ARCHS
from jaxgan.parallel import AXIS, Metrics, StepFn
from jaxgan.spec import DataSpec
from jaxgan.state import LR_SCHEDULES, class_labels
from jaxgan.step import global_rows

PyTree = Any
BINARIZE_STREAM = 0xB1  # folded into a step's key for the binarization of its batch
NOISE_STREAM = 0x2E     # ... for the reparameterisation noise


VAEState = ExplicitState  # params: {'encoder': ..., 'decoder': ...}


@dataclasses.dataclass(frozen=True)
class VAE:
  """The static half: modules, optimizer, likelihood and options."""
  encoder: nn.Module
  decoder: nn.Module
  tx: optax.GradientTransformation
  likelihood: likelihoods.PixelLikelihood
  binarization: likelihoods.Binarization
  spec: DataSpec
  latent_dim: int
  beta: float
  iwae_k: int
  likelihood_name: str
  binarize_name: str


def build_vae(config: ml_collections.ConfigDict, spec: DataSpec) -> VAE:
  """Encoder, decoder and Adam (``vae.lr`` on the schedule ``vae.lr_schedule`` over
  ``train.steps``, ``vae.beta1``, ``vae.beta2``, ``vae.eps``) from ``config.vae``; refuses
  data, likelihoods and options it cannot run."""
  c = config.vae
  if spec.kind != "image":
    raise ConfigError(f"method 'vae' models images; {spec.name!r} holds {spec.kind}.")
  arch = VAE_ARCHS.get(c.arch)
  arch.check_shape(spec.shape)
  likelihoods.check_pair(c.likelihood, c.binarize, "vae")
  for key in ("lr", "eps"):
    if not (c[key] > 0 and math.isfinite(c[key])):
      raise ConfigError(f"vae.{key} must be a finite number > 0, got {c[key]}")
  if c.beta < 0:
    raise ConfigError(f"vae.beta must be >= 0 (1: the ELBO), got {c.beta}")
  if c.iwae_k < 1:
    raise ConfigError(f"vae.iwae_k must be >= 1 (importance samples per image), got {c.iwae_k}")
  for key in ("hidden", "depth", "width"):
    if c[key] < 1:
      raise ConfigError(f"vae.{key} must be >= 1, got {c[key]}")
  if config.model.latent_dim < 1:
    raise ConfigError(f"model.latent_dim must be >= 1, got {config.model.latent_dim}")
  likelihood = likelihoods.PIXEL_LIKELIHOODS.get(c.likelihood)
  encoder, decoder = arch.make(c, config.model.latent_dim, spec.shape,
                               spec.shape[-1] * likelihood.params_per_channel)
  schedule = LR_SCHEDULES.get(c.lr_schedule)(c.lr, config.train.steps, 0.0)
  return VAE(encoder=encoder, decoder=decoder,
             tx=optax.adam(schedule, b1=c.beta1, b2=c.beta2, eps=c.eps),
             likelihood=likelihood, binarization=likelihoods.BINARIZATIONS.get(c.binarize), spec=spec,
             latent_dim=int(config.model.latent_dim), beta=float(c.beta), iwae_k=int(c.iwae_k),
             likelihood_name=c.likelihood, binarize_name=c.binarize)


def create_state(vae: VAE, seed: int) -> VAEState:
  return _jitted_init(vae)(jax.random.PRNGKey(seed))


def _init_state(vae: VAE, root: jax.Array) -> VAEState:
  e_key, d_key = jax.random.split(jax.random.fold_in(root, 0x5EED))
  x = jnp.zeros((2,) + vae.spec.shape, jnp.float32)
  z = jnp.zeros((2, vae.latent_dim), jnp.float32)
  params = {"encoder": vae.encoder.init(e_key, x)["params"], "decoder": vae.decoder.init(d_key, z)["params"]}
  return VAEState(step=jnp.zeros((), jnp.int32), rng=root, params=params, opt_state=vae.tx.init(params))


def gaussian_kl(mean: jax.Array, log_var: jax.Array) -> jax.Array:
  """``KL(N(mean, diag(exp(log_var))) || N(0, I))`` per example ``[N]`` (Kingma & Welling
  2014, Appendix B: ``-1/2 sum_j (1 + log_var_j - mean_j^2 - exp(log_var_j))``)."""
  return 0.5 * jnp.sum(jnp.exp(log_var) + jnp.square(mean) - 1.0 - log_var, axis=-1)


def log_normal(z: jax.Array, mean: jax.Array, log_var: jax.Array) -> jax.Array:
  """``log N(z; mean, diag(exp(log_var)))`` summed over the last axis."""
  return -0.5 * jnp.sum(math.log(2 * math.pi) + log_var + jnp.square(z - mean) * jnp.exp(-log_var), axis=-1)


def encoder_input(vae: VAE, target: jax.Array) -> jax.Array:
  """What the encoder sees: binary targets as ``{-1, 1}`` images, grey levels as they are."""
  return 2.0 * target - 1.0 if vae.binarization.binary else target


def row_noise(key: jax.Array, latent_dim: int, rows: jax.Array) -> jax.Array:
  """``[len(rows), latent_dim]`` standard normal noise, row ``i`` from ``fold_in(key, i)``."""
  return latents(key, latent_dim, rows)


def elbo_terms(vae: VAE, params: PyTree, target: jax.Array, eps: jax.Array) -> dict[str, jax.Array]:
  """``{'log_px': [N], 'kl': [N]}``: ``log p(x|z)`` at ``z = mean + sigma * eps`` and the
  closed-form KL, for targets ``[N, H, W, C]`` and noise ``eps [N, latent]``."""
  mean, log_var = vae.encoder.apply({"params": params["encoder"]}, encoder_input(vae, target))
  z = mean + jnp.exp(0.5 * log_var) * eps
  decoded = vae.decoder.apply({"params": params["decoder"]}, z)
  return {"log_px": vae.likelihood.log_prob(decoded, target), "kl": gaussian_kl(mean, log_var)}


def train_step(vae: VAE, per_device_batch: int, state: VAEState,
               batch: dict[str, jax.Array]) -> tuple[VAEState, Metrics]:
  """One Adam update on ``-(E log p(x|z) - beta KL)`` averaged over the global batch.

  Args:
    batch: ``{'x': [1, per_device, *shape] float32 in [-1, 1], ...}``.

  Metrics (nats per image, global batch means): ``loss``, ``elbo``, ``recon_nll``
  (``-E log p(x|z)``), ``kl`` and ``grad_norm``. Run under the ``'batch'`` named axis.
  """
  chex.assert_shape(batch["x"], (1, per_device_batch) + vae.spec.shape)
  chex.assert_type(batch["x"], jnp.float32)
  key = jax.random.fold_in(state.rng, state.step)
  rows = global_rows(per_device_batch)
  target = likelihoods.binarize_rows(vae.binarization, jax.random.fold_in(key, BINARIZE_STREAM),
                                     batch["x"][0], rows)
  eps = row_noise(jax.random.fold_in(key, NOISE_STREAM), vae.latent_dim, rows)

  def loss_fn(params):
    terms = elbo_terms(vae, params, target, eps)
    return -jnp.mean(terms["log_px"] - vae.beta * terms["kl"]), terms

  (loss, terms), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
  grads = lax.pmean(grads, AXIS)
  updates, opt_state = vae.tx.update(grads, state.opt_state, state.params)
  params = optax.apply_updates(state.params, updates)
  metrics = {"loss": loss, "elbo": jnp.mean(terms["log_px"] - terms["kl"]),
             "recon_nll": -jnp.mean(terms["log_px"]), "kl": jnp.mean(terms["kl"]),
             "grad_norm": optax.global_norm(grads)}
  return (state.replace(step=state.step + 1, params=params, opt_state=opt_state),
          lax.pmean(metrics, AXIS))


def make_train_step(vae: VAE, per_device_batch: int) -> StepFn:
  return functools.partial(train_step, vae, per_device_batch)


# --- likelihood estimates of held-out images ------------------------------------------

def iwae_log_likelihood(vae: VAE, params: PyTree, target: jax.Array, rows: jax.Array,
                        k: int, chunk: int) -> jax.Array:
  """``[N]`` importance-weighted bounds ``log (1/k) sum_i p(x, z_i) / q(z_i | x)`` (Burda et
  al. 2016, eq. 8) for targets ``[N, H, W, C]``; image ``n`` draws ``z_i`` from the key
  ``fold_in(PRNGKey(rows[n]), i)``, so a bound does not depend on the batch it is in.
  The ``k`` weights are taken ``chunk`` at a time with a running log-sum-exp (memory:
  ``N * chunk`` decoder outputs)."""
  mean, log_var = vae.encoder.apply({"params": params["encoder"]}, encoder_input(vae, target))
  n, latent = mean.shape
  std = jnp.exp(0.5 * log_var)

  def body(carry, j):
    running_max, running_sum = carry
    draws = j * chunk + jnp.arange(chunk)
    eps = jax.vmap(lambda r: jax.vmap(lambda i: jax.random.normal(
        jax.random.fold_in(jax.random.PRNGKey(r), i), (latent,)))(draws))(rows)  # [N, chunk, L]
    z = mean[:, None] + std[:, None] * eps
    decoded = vae.decoder.apply({"params": params["decoder"]}, z.reshape(n * chunk, latent))
    repeated = jnp.repeat(target, chunk, axis=0)
    log_px = vae.likelihood.log_prob(decoded, repeated).reshape(n, chunk)
    log_w = log_px + log_normal(z, 0.0, jnp.zeros_like(z)) - log_normal(z, mean[:, None], log_var[:, None])
    log_w = jnp.where(draws[None] < k, log_w, -jnp.inf)  # the last chunk's draws past k
    new_max = jnp.maximum(running_max, jnp.max(log_w, axis=1))
    new_sum = running_sum * jnp.exp(running_max - new_max) + jnp.sum(jnp.exp(log_w - new_max[:, None]), axis=1)
    return (new_max, new_sum), None

  start = (jnp.full((n,), -jnp.inf), jnp.zeros((n,)))
  (final_max, final_sum), _ = lax.scan(body, start, jnp.arange(-(-k // chunk)))
  return final_max + jnp.log(final_sum) - math.log(k)


def elbo_log_likelihood(vae: VAE, params: PyTree, target: jax.Array, rows: jax.Array) -> jax.Array:
  """``[N]`` ELBOs (one reparameterised draw per image, from ``PRNGKey(rows[n])``, and the
  closed-form KL): the bound the VAE is trained on, as a likelihood estimate."""
  eps = jax.vmap(lambda r: jax.random.normal(jax.random.PRNGKey(r), (vae.latent_dim,)))(rows)
  terms = elbo_terms(vae, params, target, eps)
  return terms["log_px"] - terms["kl"]


IWAE_CHUNK = 500  # importance samples per decoder call and image (memory: batch x chunk outputs)

def _jitted_iwae(vae: VAE):
  return cached("iwae", vae, lambda: jax.jit(functools.partial(
      iwae_log_likelihood, vae, k=vae.iwae_k, chunk=min(IWAE_CHUNK, vae.iwae_k))))


def _jitted_elbo(vae: VAE):
  return cached("elbo", vae, lambda: jax.jit(functools.partial(elbo_log_likelihood, vae)))


ESTIMATORS = {
    "iwae": estimator("iwae", lambda vae, params, target, rows: _jitted_iwae(vae)(params, target, rows),
                      batch=lambda vae: 8 if vae.iwae_k > 100 else 100,
                      facts=lambda vae: {"k": vae.iwae_k, "paper": "Burda et al. 2016, eq. 8"}),
    "elbo": estimator("elbo", lambda vae, params, target, rows: _jitted_elbo(vae)(params, target, rows),
                      batch=lambda vae: 500, facts=lambda vae: {"k": 1, "kl": "closed form"}),
}
"""Likelihood estimators the metrics may ask of a VAE (``nll_iwae``, ``nll_elbo``)."""


# --- sampling -------------------------------------------------------------------------

def sample_labels(vae: VAE, num: int, label: int | None = None) -> None:
  return class_labels(0, num, label, vae.spec.name, "this VAE is not class-conditional")


def decode_mean(vae: VAE, params: PyTree, z: jax.Array) -> jax.Array:
  """``z [N, latent] -> [N, *shape]``: the decoder's mean image in [-1, 1]."""
  return vae.likelihood.mean(vae.decoder.apply({"params": params["decoder"]}, z))


def iter_samples(vae: VAE, state: VAEState, num: int, seed: int, label: int | None = None,
                 chunk: int = 500) -> Iterator[np.ndarray]:
  """``num`` decoder means of prior draws, latent ``i`` from ``fold_in(PRNGKey(seed), i)``
  (the GANs' latent rule), in host chunks ``[<= chunk, *shape]``."""
  sample_labels(vae, num, label)
  key = jax.random.PRNGKey(seed)
  decode = _jitted_decode(vae)
  for start in range(0, num, chunk):
    z = latents(key, vae.latent_dim, jnp.arange(start, min(start + chunk, num)))
    yield np.asarray(decode(state.params, z))


def generate(vae: VAE, state: VAEState, z, labels=None) -> jax.Array:
  sample_labels(vae, 0, None if labels is None else 0)
  return _jitted_decode(vae)(state.params, jnp.asarray(z, jnp.float32))


def _jitted_init(vae: VAE):
  return cached("init", vae, lambda: jax.jit(functools.partial(_init_state, vae)))


def _jitted_decode(vae: VAE):
  return cached("decode", vae, lambda: jax.jit(functools.partial(decode_mean, vae)))


def _describe(config: ml_collections.ConfigDict, spec: DataSpec) -> str:
  c = config.vae
  return (f"{c.arch} VAE on {spec.name} {spec.shape}, latent {config.model.latent_dim}, "
          f"{c.likelihood} decoder, binarize {c.binarize}, beta {c.beta:g}")


METHOD = Method(
    build=build_vae,
    init_state=create_state,
    make_step=make_train_step,
    batches_per_step=lambda vae: 1,
    sample=lambda vae, state, num, seed, label=None: iter_samples(vae, state, num, seed, label),
    sample_labels=sample_labels,
    generate=generate,
    sampler_source=lambda state: {"sampler": "decoder mean of prior draws"},
    describe=_describe,
    estimators=ESTIMATORS,
)
