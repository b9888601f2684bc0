"""The PixelCNN method: the autoregressive property and the receptive field (Jacobian of a
tiny network), a normalised likelihood, training, resume, devices, sampling, refusals."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import likelihoods, pixelcnn as pixelcnn_lib
from jaxgan.config import default_config
from jaxgan.data import spec as data_spec
from jaxgan.errors import ConfigError
from jaxgan.metrics import evaluators
from jaxgan.models.pixelcnn import GatedPixelCNN
from jaxgan.trainer import train_and_evaluate

from conftest import short_run


def pixelcnn_config(**options):
  c = default_config()
  c.method = "pixelcnn"
  c.data.resolution = 8
  c.pixelcnn.channels = 8
  c.pixelcnn.layers = 2
  c.pixelcnn.first_kernel = 5
  c.pixelcnn.head = 16
  short_run(c)
  for k, v in options.items():
    c.pixelcnn[k] = v
  return c


def _dependence(size=6, layers=3):
  """``[H, W, H, W]`` bool: does the output at pixel (i, j) depend on input pixel (k, l)?"""
  net = GatedPixelCNN(out_channels=1, channels=4, layers=layers, first_kernel=3, kernel=3, head=8)
  x = jax.random.normal(jax.random.PRNGKey(0), (1, size, size, 1))
  params = net.init(jax.random.PRNGKey(1), x)["params"]
  jac = jax.jacrev(lambda x: net.apply({"params": params}, x)[0, :, :, 0])(x)  # [H, W, 1, H, W, 1]
  return np.abs(np.asarray(jac[:, :, 0, :, :, 0])) > 0


def test_output_depends_only_on_earlier_pixels():
  dep = _dependence()
  size = dep.shape[0]
  for i, j, k, l in itertools.product(range(size), repeat=4):
    if (k, l) >= (i, j):  # raster order: the pixel itself and every later one
      assert not dep[i, j, k, l], f"output ({i},{j}) depends on input ({k},{l})"


def test_receptive_field_has_no_blind_spot():
  """Every earlier pixel within reach counts, the up-right ones included (the blind spot
  of the original masked PixelCNN, van den Oord et al. 2016, Fig. 1)."""
  dep = _dependence(size=6, layers=3)
  i, j = 4, 2
  assert dep[i, j, i - 1, j + 2] and dep[i, j, i - 1, j + 1] and dep[i, j, i, j - 1] and dep[i, j, i - 2, j]


def test_likelihood_sums_to_one_over_all_binary_2x2_images():
  c = pixelcnn_config()
  c.data.name = "synthetic_images"
  c.data.resolution = 2
  c.pixelcnn.first_kernel = 3
  model = pixelcnn_lib.build_pixelcnn(c, data_spec(c.data))
  state = pixelcnn_lib.create_state(model, 0)
  images = jnp.asarray(list(itertools.product([0.0, 1.0], repeat=4)), jnp.float32).reshape(16, 2, 2, 1)
  log_p = pixelcnn_lib.log_likelihood(model, state.params, images, None)
  np.testing.assert_allclose(jnp.sum(jnp.exp(log_p)), 1.0, rtol=1e-5)


def test_categorical_pixels_are_normalised():
  logits = jax.random.normal(jax.random.PRNGKey(0), (1, 1, 1, 256))
  levels = jnp.arange(256, dtype=jnp.float32) / 127.5 - 1.0
  log_p = jax.vmap(lambda v: likelihoods.categorical_log_prob(logits, v.reshape(1, 1, 1, 1))[0])(levels)
  np.testing.assert_allclose(jnp.sum(jnp.exp(log_p)), 1.0, rtol=1e-5)


@pytest.mark.parametrize("options", [{}, {"conditional": True}])
def test_resumed_pixelcnn_run_equals_uninterrupted_run(tmp_path, options):
  full = train_and_evaluate(pixelcnn_config(**options), str(tmp_path / "full"))
  part = pixelcnn_config(**options)
  part.train.steps = 2
  train_and_evaluate(part, str(tmp_path / "resumed"))
  resumed = train_and_evaluate(pixelcnn_config(**options), str(tmp_path / "resumed"))
  assert resumed.step == full.step == 4
  for a, b in zip(jax.tree.leaves(resumed.state), jax.tree.leaves(full.state)):
    np.testing.assert_array_equal(a, b)
  assert {"nll", "bits_per_dim", "grad_norm"} <= set(full.metrics)


def test_one_device_equals_eight(tmp_path):
  states = []
  for n in (1, 8):
    c = pixelcnn_config()
    c.train.num_devices = n
    states.append(train_and_evaluate(c, str(tmp_path / f"d{n}")).state)
  for a, b in zip(jax.tree.leaves(states[0]), jax.tree.leaves(states[1])):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_samples_are_binary_and_do_not_depend_on_the_chunk(tmp_path):
  result = train_and_evaluate(pixelcnn_config(), str(tmp_path / "r"))
  model = pixelcnn_lib.build_pixelcnn(pixelcnn_config(), data_spec(pixelcnn_config().data))
  whole = np.concatenate(list(pixelcnn_lib.iter_samples(model, result.state, 6, seed=3, chunk=6)))
  parts = np.concatenate(list(pixelcnn_lib.iter_samples(model, result.state, 6, seed=3, chunk=4)))
  np.testing.assert_array_equal(whole, parts)
  assert whole.shape == (6, 8, 8, 1) and set(np.unique(whole)) <= {-1.0, 1.0}


def _draw_full_pass_per_pixel(model, params, seed_key, rows, labels):
  """The reference sampler: one full network pass per pixel, the same keys as ``draw``."""
  height, width, channels = model.spec.shape
  keys = jax.vmap(lambda r: jax.random.fold_in(seed_key, r))(rows)
  x = jnp.zeros((rows.shape[0], height, width, channels), jnp.float32)
  for pos in range(height * width):
    i, j = divmod(pos, width)
    at = model.network.apply({"params": params}, x, labels)[:, i:i + 1, j:j + 1]
    pixel = jax.vmap(lambda k, o: model.likelihood.sample(jax.random.fold_in(k, pos), o[None])[0])(keys, at)
    x = x.at[:, i:i + 1, j:j + 1].set(pixel)
  return x


@pytest.mark.parametrize("conditional", [False, True])
def test_row_by_row_sampling_equals_a_full_pass_per_pixel(conditional):
  """``draw`` (vertical stack once per row, horizontal stack on one row per pixel): the
  network's row stage gives the full pass's logits, and the samples are the reference's."""
  c = pixelcnn_config(conditional=conditional)
  c.data.resolution = 6
  model = pixelcnn_lib.build_pixelcnn(c, data_spec(c.data))
  params = pixelcnn_lib.create_state(model, 0).params
  labels = jnp.array([0, 3, 7]) if conditional else None
  x = jnp.where(jax.random.uniform(jax.random.PRNGKey(4), (3, 6, 6, 1)) > 0.5, 1.0, -1.0)
  full = model.network.apply({"params": params}, x, labels)
  links = model.network.apply({"params": params}, x, labels, stage="links")
  for i in range(6):
    rows = model.network.apply({"params": params}, x[:, i:i + 1], labels, stage="rows",
                               links=[link[:, i:i + 1] for link in links])
    np.testing.assert_allclose(rows, full[:, i:i + 1], rtol=1e-5, atol=1e-6)
  key, rows = jax.random.PRNGKey(5), jnp.arange(3)
  got = jax.jit(lambda p: pixelcnn_lib.draw(model, p, key, rows, labels))(params)
  np.testing.assert_array_equal(got, _draw_full_pass_per_pixel(model, params, key, rows, labels))


def test_exact_likelihood_metric(tmp_path):
  workdir = str(tmp_path / "r")
  train_and_evaluate(pixelcnn_config(), workdir)
  record = evaluators.evaluate(workdir, ["nll_exact"], num_samples=30, say=lambda *a: None)["nll_exact30_train"]
  assert record["protocol"]["estimator"] == "exact" and 0 < record["nll"] < 64 * np.log(2) + 1
  with pytest.raises(evaluators.JaxganError, match=r"method 'pixelcnn' has no tractable likelihood.*nll_exact"):
    evaluators.evaluate(workdir, ["nll_iwae"], num_samples=30, say=lambda *a: None)


@pytest.mark.parametrize("changes, message", [
    ({"pixelcnn.binarize": "none"}, "models binary pixels"),
    ({"data.name": "synthetic_images", "data.channels": 3}, "one-channel images"),
    ({"pixelcnn.first_kernel": 1}, "first_kernel must be >= 2"),
    ({"pixelcnn.likelihood": "gaussian"}, "Unknown pixel likelihood 'gaussian'"),
])
def test_bad_pixelcnn_configs_are_refused(changes, message):
  c = pixelcnn_config()
  for key, value in changes.items():
    section, leaf = key.split(".")
    c[section][leaf] = value
  with pytest.raises(ConfigError, match=message):
    pixelcnn_lib.build_pixelcnn(c, data_spec(c.data))
