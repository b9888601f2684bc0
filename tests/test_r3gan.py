"""R3GAN networks (Huang et al. 2024): resamplers against the reference's convolutions, the
fix-up initialisation, shapes, refusals, and a run that resumes bit-identically."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from conftest import short_run
from jaxgan.config import default_config
from jaxgan.errors import ConfigError
from jaxgan.models import r3gan
from jaxgan.trainer import train_and_evaluate

_F = np.array([1.0, 3.0, 3.0, 1.0]) / 8.0
_K = np.outer(_F, _F)  # the reference's CreateLowpassKernel([1, 2, 1], Inplace=False)


def _depthwise(x, kernel, **kw):
  c = x.shape[-1]
  k = jnp.tile(jnp.asarray(kernel, x.dtype)[:, :, None, None], (1, 1, 1, c))
  return lax.conv_general_dilated(x, k, dimension_numbers=("NHWC", "HWIO", "NHWC"), feature_group_count=c, **kw)


def test_resamplers_equal_the_reference_transposed_and_strided_convolutions():
  x = jax.random.normal(jax.random.key(0), (2, 6, 8, 3))
  # torch conv_transpose2d(stride 2, padding 1) with 4 * K == dilated input, padding k - 1 - p = 2.
  up = _depthwise(x, 4 * _K, window_strides=(1, 1), padding=((2, 2), (2, 2)), lhs_dilation=(2, 2))
  np.testing.assert_allclose(r3gan.upsample2x(x), up, rtol=1e-5, atol=1e-6)
  down = _depthwise(x, _K, window_strides=(2, 2), padding=((1, 1), (1, 1)))
  np.testing.assert_allclose(r3gan.downsample2x(x), down, rtol=1e-5, atol=1e-6)
  assert r3gan.upsample2x(x).shape == (2, 12, 16, 3) and r3gan.downsample2x(x).shape == (2, 3, 4, 3)
  # Interior of a constant image stays constant (unit DC gain).
  np.testing.assert_allclose(r3gan.upsample2x(jnp.ones((1, 4, 4, 1)))[0, 1:-1, 1:-1, 0], 1.0, rtol=1e-6)


def _small(**kw):
  return dict(widths=(16, 8), cardinality=(4, 2), blocks=(1, 2), expansion=2) | kw


def test_residual_blocks_start_as_the_identity_and_init_follows_msr():
  block = r3gan.ResidualBlock(cardinality=4, expansion=2, kernel=3, total_blocks=16)
  x = jax.random.normal(jax.random.key(1), (2, 8, 8, 32))
  params = block.init(jax.random.key(2), x)
  np.testing.assert_array_equal(block.apply(params, x), x)  # last conv zero-initialised
  kernels = {k: v["kernel"] for k, v in params["params"].items() if "kernel" in v}
  first, grouped = kernels["Conv_0"], kernels["Conv_1"]
  assert first.shape == (32, 64)  # 1x1 conv as a matmul
  assert grouped.shape == (3, 3, 64 // 4, 64)  # 4 groups of 16 channels
  gain = r3gan.ACT_GAIN * 16 ** -0.25
  np.testing.assert_allclose(np.std(first), gain / np.sqrt(32), rtol=0.1)
  np.testing.assert_allclose(np.std(grouped), gain / np.sqrt(9 * 16), rtol=0.1)


@pytest.mark.parametrize("resolution,stages", [pytest.param(32, 4, marks=pytest.mark.slow), (28, 3), (16, 2)])
def test_shapes_for_every_basis_side(resolution, stages):
  opts = dict(widths=(8,) * stages, cardinality=(2,) * stages, blocks=(1,) * stages)
  g = r3gan.R3GANGenerator(resolution=resolution, channels=3, **opts)
  d = r3gan.R3GANDiscriminator(resolution=resolution, **opts)
  z = jnp.ones((2, 4))
  x = g.apply(g.init(jax.random.key(0), z), z)
  assert x.shape == (2, resolution, resolution, 3)
  assert d.apply(d.init(jax.random.key(1), x), x).shape == (2,)


@pytest.mark.parametrize("opts,match", [
    (dict(widths=(8, 8), cardinality=(3, 2), blocks=(1, 1)), "groups"),
    (dict(widths=(8, 8, 8), cardinality=(2, 2), blocks=(1, 1, 1)), "one entry per stage"),
    (dict(widths=(8,) * 4, cardinality=(2,) * 4, blocks=(1,) * 4), "b \\* 2\\^3"),
])
def test_inconsistent_stage_settings_are_refused(opts, match):
  g = r3gan.R3GANGenerator(resolution=20, channels=1, **opts)
  with pytest.raises(ConfigError, match=match):
    g.init(jax.random.key(0), jnp.ones((1, 4)))


def r3gan_config(steps=4):
  c = short_run(default_config(), steps=steps)
  c.data.name, c.data.resolution, c.data.channels, c.data.num_examples = "synthetic_images", 8, 1, 64
  c.model.generator = c.model.discriminator = "r3gan"
  c.model.latent_dim = 8
  for k, v in _small().items():
    c.model.r3gan[k] = v
  c.loss.name, c.loss.regularizer, c.loss.reg_weight = "relativistic_pairing", "r1_r2", 0.05
  c.train.g_beta1 = c.train.d_beta1 = 0.0
  return c


def test_resumed_r3gan_run_equals_uninterrupted_run(tmp_path):
  full = train_and_evaluate(r3gan_config(), str(tmp_path / "full"))
  part = r3gan_config()
  part.train.steps = 2
  train_and_evaluate(part, str(tmp_path / "resumed"))
  resumed = train_and_evaluate(r3gan_config(), str(tmp_path / "resumed"))
  assert resumed.step == full.step == 4 and full.metrics["d_penalty"] > 0
  for a, b in zip(jax.tree.leaves(resumed.state), jax.tree.leaves(full.state)):
    np.testing.assert_array_equal(a, b)


def test_conditioning_is_refused_with_a_clear_message(tmp_path):
  c = r3gan_config()
  c.data.name = "digits"
  c.data.resolution = 16
  c.model.r3gan.widths, c.model.r3gan.cardinality, c.model.r3gan.blocks = (8, 8, 8), (2, 2, 2), (1, 1, 1)
  c.model.g_conditioning = "embed"
  with pytest.raises(ConfigError, match="unconditional"):
    train_and_evaluate(c, str(tmp_path / "r"))


@pytest.mark.parametrize("groups,kernel", [(4, 3), (8, 3), (2, 5), (16, 1)])
def test_grouped_conv_im2col_equals_xla_grouped_conv_with_gradients(groups, kernel):
  x = jax.random.normal(jax.random.key(0), (2, 6, 5, 16))
  k = jax.random.normal(jax.random.key(1), (kernel, kernel, 16 // groups, 32))
  ref = lambda x, k: lax.conv_general_dilated(x, k, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                              feature_group_count=groups)
  np.testing.assert_allclose(r3gan.grouped_conv_im2col(x, k, groups), ref(x, k), rtol=1e-5, atol=1e-5)
  loss = lambda f: lambda x, k: jnp.sum(jnp.sin(f(x, k)))
  got = jax.grad(loss(lambda x, k: r3gan.grouped_conv_im2col(x, k, groups)), argnums=(0, 1))(x, k)
  want = jax.grad(loss(ref), argnums=(0, 1))(x, k)
  for a, b in zip(got, want):
    # Relative to the gradient's scale (up to ~40 here): both sides are float32 sums in other
    # orders, each within ~4e-6 of a float64 reference (XLA:CPU's Eigen convolution included).
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * float(jnp.abs(b).max()))


@pytest.mark.slow
def test_one_device_equals_eight(tmp_path):
  """RpGAN pairs real and fake example i of the global batch, whatever the device split."""
  states = []
  for n in (1, 8):
    c = r3gan_config(steps=2)
    c.train.num_devices = n
    states.append(train_and_evaluate(c, str(tmp_path / f"d{n}")).state)
  for a, b in zip(jax.tree.leaves(states[0]), jax.tree.leaves(states[1])):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
