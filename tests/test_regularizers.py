"""Discriminator regularizers against analytic values, and every loss x regularizer in a train step."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import tiny_dcgan_config, toy_config
from jaxgan import regularizers
from jaxgan.errors import ConfigError
from jaxgan.trainer import train_and_evaluate

W = jnp.array([0.3, -1.2, 2.0])


def _linear(x):  # D(x) = w.x + 1: its input gradient is w everywhere
  return x @ W + 1.0


def _data(seed=0):
  k1, k2 = jax.random.split(jax.random.key(seed))
  return jax.random.normal(k1, (8, 3)), jax.random.normal(k2, (8, 3))


@pytest.mark.parametrize("name", ["gradient_penalty", "dragan"])
def test_gradient_penalties_equal_the_analytic_value_for_a_linear_d(name):
  real, fake = _data()
  got = regularizers.REGULARIZERS.get(name).penalty(_linear, real, fake, jax.random.key(3))
  np.testing.assert_allclose(got, (np.linalg.norm(W) - 1.0) ** 2, rtol=1e-5)


def test_r1_r2_equal_half_the_squared_gradient_norm():
  real, fake = _data()
  for name in ("r1", "r2"):
    got = regularizers.REGULARIZERS.get(name).penalty(_linear, real, fake, jax.random.key(0))
    np.testing.assert_allclose(got, 0.5 * float(W @ W), rtol=1e-5)


def test_r1_r2_sums_both_penalties_at_their_own_points():
  """R3GAN's gamma/2 (R1 + R2): D(x) = 1/2 ||x||^2 has gradient x, so the penalty is
  1/2 (mean ||real||^2 + mean ||fake||^2); gradients flow to D's parameters, not to the fakes."""
  real, fake = _data(1)
  d = lambda x: 0.5 * jnp.sum(x ** 2, axis=1)
  want = 0.5 * (np.mean(np.sum(np.asarray(real) ** 2, 1)) + np.mean(np.sum(np.asarray(fake) ** 2, 1)))
  np.testing.assert_allclose(regularizers.REGULARIZERS.get("r1_r2").penalty(d, real, fake, jax.random.key(0)),
                             want, rtol=1e-5)
  fake_grad = jax.grad(lambda f: regularizers.r1_r2_penalty(d, real, f, jax.random.key(0)))(fake)
  np.testing.assert_array_equal(fake_grad, 0.0)


def test_gradient_penalty_uses_per_example_interpolates():
  real, fake = _data()
  key = jax.random.key(5)
  d = lambda x: 0.5 * jnp.sum(x ** 2, axis=1)  # gradient at x is x
  eps = np.asarray(jax.random.uniform(key, (8, 1)))
  x_hat = eps * np.asarray(real) + (1 - eps) * np.asarray(fake)
  want = np.mean((np.linalg.norm(x_hat, axis=1) - 1) ** 2)
  np.testing.assert_allclose(regularizers.gradient_penalty(d, real, fake, key), want, rtol=1e-5)


@pytest.mark.parametrize("loss,reg", [(loss, "none") for loss in ("hinge", "least_squares", "relativistic_average")]
                         + [("wasserstein", reg) for reg in ("gradient_penalty", "dragan", "r1", "r2")]
                         + [("relativistic_pairing", "r1_r2")])
def test_every_loss_and_regularizer_trains(loss, reg, tmp_path):
  config = toy_config(steps=2)
  config.loss.name, config.loss.regularizer = loss, reg
  config.log.sample_every, config.log.tensorboard = 0, False
  result = train_and_evaluate(config, str(tmp_path / "run"))
  assert result.step == 2 and np.isfinite(result.metrics["d_loss"])
  assert (result.metrics["d_penalty"] > 0) if reg != "none" else "d_penalty" not in result.metrics


def test_gradient_penalties_refuse_batchnorm_in_d(tmp_path):
  config = tiny_dcgan_config()
  config.loss.regularizer = "gradient_penalty"
  with pytest.raises(ConfigError, match="use_batchnorm=False"):
    train_and_evaluate(config, str(tmp_path / "run"))


def test_weight_clipping_bounds_every_d_parameter(tmp_path):
  config = toy_config(steps=3)
  config.loss.name, config.loss.weight_clip = "wasserstein", 0.01
  config.log.sample_every, config.log.tensorboard = 0, False
  state = train_and_evaluate(config, str(tmp_path / "run")).state
  leaves = jax.tree.leaves(state.d_params)
  assert max(float(np.abs(p).max()) for p in leaves) <= 0.01 + 1e-7
  assert max(float(np.abs(p).max()) for p in jax.tree.leaves(state.g_params)) > 0.01


def test_pack_samples_stacks_consecutive_samples_on_the_last_axis():
  from jaxgan.state import pack_samples
  points = jnp.arange(12.0).reshape(6, 2)
  np.testing.assert_array_equal(pack_samples(points, 3), [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])
  images = jnp.arange(4 * 2 * 2 * 3.0).reshape(4, 2, 2, 3)
  packed = pack_samples(images, 2)
  assert packed.shape == (2, 2, 2, 6)
  np.testing.assert_array_equal(packed[1, :, :, :3], images[2])
  np.testing.assert_array_equal(packed[1, :, :, 3:], images[3])


def test_packed_discriminator_trains_and_checks_the_batch(tmp_path):
  config = toy_config(steps=2)
  config.model.pack = 2
  config.log.sample_every, config.log.tensorboard = 0, False
  result = train_and_evaluate(config, str(tmp_path / "run"))
  assert result.step == 2 and np.isfinite(result.metrics["d_loss"])
  kernel = jax.tree.leaves(result.state.d_params)[1]  # first dense layer sees 2 x 2 coordinates
  assert 4 in kernel.shape
  config.model.pack = 3
  with pytest.raises(ConfigError, match="must divide the per-device batch"):
    train_and_evaluate(config, str(tmp_path / "other"))


def test_spectral_norm_makes_every_d_weight_1_lipschitz():
  from flax import traverse_util
  from jaxgan.models.dcgan import DCGANDiscriminator
  d = DCGANDiscriminator(resolution=16, width=8, use_batchnorm=False, spectral_norm=True, axis_name=None)
  x = jax.random.normal(jax.random.key(0), (4, 16, 16, 1))
  variables = d.init(jax.random.key(1), x, train=False)
  stats = variables["batch_stats"]
  for _ in range(30):  # power iteration advances one step per training call
    _, updated = d.apply({**variables, "batch_stats": stats}, x, train=True, mutable=["batch_stats"])
    stats = updated["batch_stats"]
  flat_params = traverse_util.flatten_dict(variables["params"], sep="/")
  flat_stats = traverse_util.flatten_dict(stats, sep="/")
  kernels = [k for k in flat_params if k.endswith("kernel")]
  assert len(kernels) == 3
  for name in kernels:
    w = np.asarray(flat_params[name]).reshape(-1, flat_params[name].shape[-1])
    sigma = [v for k, v in flat_stats.items() if k.endswith(f"/{name}/sigma")]
    assert len(sigma) == 1
    top = np.linalg.svd(w / float(sigma[0]), compute_uv=False)[0]
    assert abs(top - 1.0) < 1e-2, (name, top)


def test_spectral_norm_state_advances_in_the_train_step(tmp_path):
  config = toy_config(steps=3)
  config.model.d_spectral_norm = True
  config.log.sample_every, config.log.tensorboard = 0, False
  state = train_and_evaluate(config, str(tmp_path / "run")).state
  sigmas = [float(v) for k, v in jax.tree_util.tree_leaves_with_path(state.d_vars)
            if "sigma" in jax.tree_util.keystr(k)]
  assert len(sigmas) == 3 and all(np.isfinite(sigmas)) and all(s != 1.0 for s in sigmas)
