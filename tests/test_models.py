import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import config as config_lib
from jaxgan import data, models
from jaxgan.models.dcgan import DCGANGenerator, base_and_depth


@pytest.mark.parametrize("resolution,channels", [(16, 1), (28, 1), (32, 3), (64, 3)])
def test_dcgan_shapes(resolution, channels):
  c = config_lib.default_config()
  c.data.name, c.data.resolution, c.data.channels = "synthetic_images", resolution, channels
  c.model.g_width, c.model.d_width = 4, 4
  spec = data.spec(c.data)
  G, D = models.build_generator(c.model, spec), models.build_discriminator(c.model, spec)
  z = jnp.zeros((3, c.model.latent_dim))
  x = jnp.zeros((3, resolution, resolution, channels))
  # Compiled whole: op by op, every op of a 64x64 DCGAN compiles on its own (~20 s).
  init = lambda net: jax.jit(lambda key, v: net.init(key, v, None, train=False))
  apply = lambda net: jax.jit(lambda variables, v: net.apply(variables, v, None, train=False))
  g_vars = init(G)(jax.random.PRNGKey(0), z)
  d_vars = init(D)(jax.random.PRNGKey(1), x)
  out = apply(G)(g_vars, z)
  assert out.shape == (3, resolution, resolution, channels)
  assert float(jnp.abs(out).max()) <= 1.0
  assert apply(D)(d_vars, x).shape == (3,)
  assert "batch_stats" in g_vars and "batch_stats" in d_vars


def test_mlp_networks_take_images():
  """The fully connected G and D of Goodfellow et al. 2014 on 28x28 images (maxout D)."""
  c = config_lib.for_dataset("synthetic_images", {"data.resolution": "28", "model.generator": "mlp",
                                                  "model.discriminator": "mlp", "model.mlp.maxout": "3"})
  spec = data.spec(c.data)
  G, D = models.build_generator(c.model, spec), models.build_discriminator(c.model, spec)
  z = jnp.ones((3, c.model.latent_dim))
  g_vars = G.init(jax.random.PRNGKey(0), z, None, train=False)
  out = G.apply(g_vars, z, None, train=False)
  assert out.shape == (3, 28, 28, 1) and float(jnp.abs(out).max()) <= 1.0
  d_vars = D.init(jax.random.PRNGKey(1), out, None, train=False)
  assert D.apply(d_vars, out, None, train=False).shape == (3,)


def test_classic_dcgan32_layout():
  G = DCGANGenerator(resolution=32, channels=3, width=128)
  variables = G.init(jax.random.PRNGKey(0), jnp.zeros((1, 100)), None, train=False)
  p = variables["params"]
  assert p["Dense_0"]["kernel"].shape == (100, 4 * 4 * 512)
  assert p["ConvTranspose_0"]["kernel"].shape == (4, 4, 512, 256)
  assert p["ConvTranspose_1"]["kernel"].shape == (4, 4, 256, 128)
  assert p["ConvTranspose_2"]["kernel"].shape == (4, 4, 128, 3)


@pytest.mark.parametrize("bad", [20, 12 * 3, 4, 7])
def test_unsupported_resolution_is_refused(bad):
  with pytest.raises(ValueError, match="DCGAN cannot produce resolution"):
    base_and_depth(bad)


def test_model_data_mismatch_is_refused():
  c = config_lib.default_config()
  c.data.name = "ring8"
  with pytest.raises(ValueError, match="needs image data"):
    models.build_generator(c.model, data.spec(c.data))
  with pytest.raises(ValueError, match="Valid names"):
    c.model.generator = "dcgan_typo"
    models.build_generator(c.model, data.spec(c.data))


def test_generator_batchnorm_is_synchronised_across_devices():
  """Train-mode BatchNorm statistics over 8 devices equal those of the whole batch on one."""
  G = DCGANGenerator(resolution=8, channels=1, width=4)
  n = jax.device_count()
  z = jax.random.normal(jax.random.PRNGKey(0), (n * 2, 6))
  variables = G.init(jax.random.PRNGKey(1), z[:2], None, train=False)

  def run(zs):
    out, upd = G.apply(variables, zs, None, train=True, mutable=["batch_stats"])
    return out, upd["batch_stats"]

  out8, stats8 = jax.pmap(run, axis_name="batch")(z.reshape(n, 2, 6))
  out1, stats1 = jax.pmap(run, axis_name="batch")(z[None])
  np.testing.assert_allclose(out8.reshape(out1[0].shape), out1[0], rtol=1e-4, atol=1e-5)
  for a, b in zip(jax.tree.leaves(stats8), jax.tree.leaves(stats1)):
    np.testing.assert_allclose(a, np.broadcast_to(b[0], a.shape), rtol=1e-4, atol=1e-6)
