"""The VAE method: its bound against closed forms and Monte Carlo, the importance-weighted
estimate against an exact likelihood, training, resume, devices, sampling and refusals."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special

from jaxgan import likelihoods, vae as vae_lib
from jaxgan.config import default_config
from jaxgan.data import spec as data_spec
from jaxgan.errors import ConfigError
from jaxgan.trainer import train_and_evaluate

from conftest import short_run


def vae_config(**vae):
  c = default_config()
  c.method = "vae"
  c.model.latent_dim = 4
  c.vae.hidden = 16
  c.vae.iwae_k = 50
  short_run(c)
  for k, v in vae.items():
    c.vae[k] = v
  return c


def _built(c):
  model = vae_lib.build_vae(c, data_spec(c.data))
  return model, vae_lib.create_state(model, 0)


def test_kl_matches_closed_form_and_monte_carlo():
  mean = jnp.array([[0.3, -1.2, 0.0]])
  log_var = jnp.array([[-0.5, 0.4, 0.0]])
  var = np.exp(np.asarray(log_var))
  closed = 0.5 * np.sum(var + np.asarray(mean) ** 2 - 1 - np.asarray(log_var))
  np.testing.assert_allclose(vae_lib.gaussian_kl(mean, log_var), [closed], rtol=1e-6)
  z = mean + jnp.exp(0.5 * log_var) * jax.random.normal(jax.random.PRNGKey(0), (200_000, 3))
  mc = jnp.mean(vae_lib.log_normal(z, mean, log_var) - vae_lib.log_normal(z, 0.0, jnp.zeros_like(z)))
  np.testing.assert_allclose(mc, closed, atol=0.01)


def test_elbo_equals_its_monte_carlo_estimate():
  """ELBO with the closed-form KL = E_q[log p(x|z) + log p(z) - log q(z|x)] (many draws)."""
  model, state = _built(vae_config())
  x = jnp.asarray(np.random.RandomState(0).rand(2, 16, 16, 1) > 0.5, jnp.float32)
  draws = 20_000
  eps = jax.random.normal(jax.random.PRNGKey(1), (draws, model.latent_dim))
  per_draw = jax.vmap(lambda e: vae_lib.elbo_terms(model, state.params, x, jnp.broadcast_to(e, (2, e.shape[0]))))(eps)
  analytic = jnp.mean(per_draw["log_px"], axis=0) - per_draw["kl"][0]
  mean, log_var = model.encoder.apply({"params": state.params["encoder"]}, vae_lib.encoder_input(model, x))
  z = mean[None] + jnp.exp(0.5 * log_var)[None] * eps[:, None]
  mc = jnp.mean(per_draw["log_px"] + vae_lib.log_normal(z, 0.0, jnp.zeros_like(z))
                - vae_lib.log_normal(z, mean[None], log_var[None]), axis=0)
  np.testing.assert_allclose(analytic, mc, atol=0.05)


def test_gradients_flow_through_the_reparameterisation():
  """The loss's gradient w.r.t. the encoder equals central finite differences (fixed noise)."""
  model, state = _built(vae_config())
  x = jnp.asarray(np.random.RandomState(0).rand(4, 16, 16, 1) > 0.5, jnp.float32)
  eps = jax.random.normal(jax.random.PRNGKey(2), (4, model.latent_dim))

  def loss(params):
    t = vae_lib.elbo_terms(model, params, x, eps)
    return -jnp.mean(t["log_px"] - t["kl"])

  grads = jax.grad(loss)(state.params)
  direction = jax.tree.map(lambda g: jax.random.normal(jax.random.PRNGKey(3), g.shape), grads["encoder"])
  h = 1e-3
  shifted = lambda s: {"encoder": jax.tree.map(lambda p, d: p + s * h * d, state.params["encoder"], direction),
                       "decoder": state.params["decoder"]}
  numeric = (loss(shifted(1.0)) - loss(shifted(-1.0))) / (2 * h)
  analytic = sum(jnp.sum(g * d) for g, d in zip(jax.tree.leaves(grads["encoder"]), jax.tree.leaves(direction)))
  assert abs(float(analytic)) > 1e-3
  np.testing.assert_allclose(numeric, analytic, rtol=2e-2)


def _exact_log_likelihood(model, params, target):
  """log p(x) = log int p(x|z) N(z; 0, 1) dz by quadrature on a fine grid (latent_dim 1)."""
  z = jnp.linspace(-8, 8, 4001)[:, None]
  decoded = model.decoder.apply({"params": params["decoder"]}, z)
  logs = []
  for x in target:
    log_px = model.likelihood.log_prob(decoded, jnp.broadcast_to(x, (len(z),) + x.shape))
    integrand = log_px - 0.5 * z[:, 0] ** 2 - 0.5 * math.log(2 * math.pi)
    logs.append(special.logsumexp(np.asarray(integrand)) + math.log(16 / 4000))
  return np.array(logs)


def test_importance_weighted_bound_approaches_the_exact_likelihood():
  c = vae_config()
  c.data.name = "synthetic_images"
  c.data.resolution = 4
  c.model.latent_dim = 1
  model, state = _built(c)
  target = jnp.asarray(np.random.RandomState(1).rand(3, 4, 4, 1) > 0.5, jnp.float32)
  rows = jnp.arange(3)
  exact = _exact_log_likelihood(model, state.params, target)
  bounds = {k: np.asarray(vae_lib.iwae_log_likelihood(model, state.params, target, rows, k, min(k, 500)))
            for k in (1, 10, 5000)}
  # A lower bound in expectation (a single estimate may pass it by its noise), tight as k grows.
  np.testing.assert_allclose(bounds[5000], exact, atol=0.02)
  # Averaged over many draws, the bound grows with k towards log p(x) (Burda et al. 2016, Thm. 1).
  many = jnp.repeat(target[:1], 2000, axis=0)
  mean_bound = {k: float(jnp.mean(vae_lib.iwae_log_likelihood(model, state.params, many, jnp.arange(2000), k, k)))
                for k in (1, 10)}
  assert mean_bound[1] < mean_bound[10] < exact[0] + 0.005
  # chunking does not change the estimate: 5000 draws in chunks of 500 or of 1000 (+ a partial last chunk)
  np.testing.assert_allclose(vae_lib.iwae_log_likelihood(model, state.params, target, rows, 5000, 1000),
                             bounds[5000], rtol=1e-5)
  np.testing.assert_allclose(vae_lib.iwae_log_likelihood(model, state.params, target, rows, 1200, 500),
                             vae_lib.iwae_log_likelihood(model, state.params, target, rows, 1200, 1200), rtol=1e-5)


def test_pixel_likelihoods_are_normalised():
  logits = jnp.array([[[[0.7]]]])
  p = jax.nn.sigmoid(0.7)
  np.testing.assert_allclose(likelihoods.bernoulli_log_prob(logits, jnp.ones((1, 1, 1, 1))), [np.log(p)], rtol=1e-6)
  levels = jnp.arange(256, dtype=jnp.float32) / 127.5 - 1.0
  params = jnp.broadcast_to(jnp.array([0.1, -2.5]), (256, 1, 1, 2))
  log_p = likelihoods.logistic_log_prob(params, levels.reshape(256, 1, 1, 1))
  np.testing.assert_allclose(jnp.sum(jnp.exp(log_p)), 1.0, rtol=1e-4)


def test_binarizations():
  x = jnp.full((4000, 2), 0.4)  # intensity 0.7
  dyn = likelihoods.binarize_rows(likelihoods.BINARIZATIONS.get("dynamic"), jax.random.PRNGKey(0), x, jnp.arange(4000))
  assert set(np.unique(dyn)) == {0.0, 1.0} and abs(float(dyn.mean()) - 0.7) < 0.02
  np.testing.assert_array_equal(likelihoods.BINARIZATIONS.get("threshold").apply(None, jnp.array([-0.1, 0.1])), [0.0, 1.0])


@pytest.mark.parametrize("changes, message", [
    ({"vae.likelihood": "bernoulli", "vae.binarize": "none"}, "models binary pixels.*vae.binarize='dynamic'"),
    ({"vae.likelihood": "logistic", "vae.binarize": "dynamic"}, "256 levels.*vae.binarize='none'"),
    ({"data.name": "ring8"}, "models images"),
    ({"vae.arch": "conv", "data.resolution": 18}, "divide by 4"),
    ({"vae.beta": -1.0}, "vae.beta must be >= 0"),
    ({"vae.iwae_k": 0}, "vae.iwae_k must be >= 1"),
    ({"vae.arch": "resnet"}, "Unknown VAE architecture 'resnet'"),
])
def test_bad_vae_configs_are_refused(changes, message):
  c = vae_config()
  for key, value in changes.items():
    section, leaf = key.split(".")
    c[section][leaf] = value
  with pytest.raises(ConfigError, match=message):
    vae_lib.build_vae(c, data_spec(c.data))


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_resumed_vae_run_equals_uninterrupted_run(tmp_path, arch):
  full = train_and_evaluate(vae_config(arch=arch), str(tmp_path / "full"))
  part = vae_config(arch=arch)
  part.train.steps = 2
  train_and_evaluate(part, str(tmp_path / "resumed"))
  resumed = train_and_evaluate(vae_config(arch=arch), str(tmp_path / "resumed"))
  assert resumed.step == full.step == 4
  for a, b in zip(jax.tree.leaves(resumed.state), jax.tree.leaves(full.state)):
    np.testing.assert_array_equal(a, b)
  assert {"loss", "elbo", "recon_nll", "kl", "grad_norm"} <= set(full.metrics)


def test_one_device_equals_eight(tmp_path):
  results = []
  for n in (1, 8):
    c = vae_config()
    c.train.num_devices = n
    results.append(train_and_evaluate(c, str(tmp_path / f"d{n}")).state)
  for a, b in zip(jax.tree.leaves(results[0]), jax.tree.leaves(results[1])):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_logistic_vae_trains_on_grey_levels(tmp_path):
  c = vae_config(likelihood="logistic", binarize="none", arch="conv")
  result = train_and_evaluate(c, str(tmp_path / "r"))
  assert np.isfinite(result.metrics["elbo"])


def test_conv_networks_equal_flax_linen_convolutions():
  """vae.arch='conv' uses jaxgan's Conv/ConvTranspose (CPU formulations, custom VJP): same
  parameters at init, same function and gradients as the same networks in flax.linen's."""
  import flax.linen as nn

  from jaxgan.models import vae as vae_models

  class LinenEncoder(nn.Module):
    @nn.compact
    def __call__(self, x):
      h = nn.relu(nn.Conv(8, (4, 4), strides=2, padding=1)(x))
      h = nn.relu(nn.Conv(16, (4, 4), strides=2, padding=1)(h))
      h = nn.relu(nn.Dense(32)(h.reshape(h.shape[0], -1)))
      return nn.Dense(4, name="mean")(h), nn.Dense(4, name="log_var")(h)

  class LinenDecoder(nn.Module):
    @nn.compact
    def __call__(self, z):
      h = nn.relu(nn.Dense(32)(z))
      h = nn.relu(nn.Dense(7 * 7 * 16)(h)).reshape((z.shape[0], 7, 7, 16))
      h = nn.relu(nn.ConvTranspose(8, (4, 4), strides=(2, 2), padding="SAME")(h))
      return nn.ConvTranspose(1, (4, 4), strides=(2, 2), padding="SAME", name="out")(h)

  x = jax.random.uniform(jax.random.PRNGKey(0), (3, 28, 28, 1))
  z = jax.random.normal(jax.random.PRNGKey(1), (3, 4))
  for ours, linen, inputs in ((vae_models.ConvEncoder(4, 8, 32), LinenEncoder(), x),
                              (vae_models.ConvDecoder((28, 28, 1), 1, 8, 32), LinenDecoder(), z)):
    params = ours.init(jax.random.PRNGKey(2), inputs)
    jax.tree.map(np.testing.assert_array_equal, params, linen.init(jax.random.PRNGKey(2), inputs))
    loss = lambda module, p: sum(jnp.sum(jnp.sin(y)) for y in jax.tree.leaves(module.apply(p, inputs)))
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
                 jax.grad(lambda p: loss(ours, p))(params), jax.grad(lambda p: loss(linen, p))(params))
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
                 ours.apply(params, inputs), linen.apply(params, inputs))
