"""Architecture pieces of the zoo, each against a direct computation: conditional BatchNorm,
projection and AC-GAN heads, self-attention, minibatch layers, ResNet shapes, DiffAugment."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import augment
from jaxgan.errors import ConfigError
from jaxgan.models import resnet
from jaxgan.models.blocks import (ConditionalBatchNorm, MinibatchDiscrimination, MinibatchStdDev,
                                  SelfAttention, avg_pool2x, upsample2x)
from jaxgan.models.conditioning import discriminator_head
from jaxgan.models.mlp import MLPDiscriminator, MLPGenerator, maxout


def _rand(shape, seed=0):
  return np.asarray(jax.random.normal(jax.random.PRNGKey(seed), shape), np.float32)


def test_conditional_batchnorm_scales_and_shifts_per_class():
  x, labels = _rand((6, 3, 3, 4)), jnp.array([0, 1, 2, 0, 1, 2])
  cbn = ConditionalBatchNorm(num_classes=3, axis_name=None)
  variables = cbn.init(jax.random.PRNGKey(0), x, labels, train=False)
  gamma, beta = _rand((3, 4), 1), _rand((3, 4), 2)
  params = {"gamma": {"embedding": gamma}, "beta": {"embedding": beta}}
  y, _ = cbn.apply({"params": params, "batch_stats": variables["batch_stats"]}, x, labels, train=True,
                   mutable=["batch_stats"])
  mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
  normalized = (x - mean) / np.sqrt(var + 1e-5)
  expected = normalized * (1 + gamma[labels][:, None, None]) + beta[labels][:, None, None]
  np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)
  # At initialisation the per-class terms are zero: plain BatchNorm without affine.
  y0, _ = cbn.apply(variables, x, labels, train=True, mutable=["batch_stats"])
  np.testing.assert_allclose(y0, normalized, rtol=1e-4, atol=1e-5)


class _Head(nn.Module):
  conditioning: str

  @nn.compact
  def __call__(self, h, labels):
    return discriminator_head(h, labels, True, conditioning=self.conditioning, num_classes=5)


def test_projection_head_adds_the_label_embedding_inner_product():
  h, labels = _rand((4, 7)), jnp.array([0, 3, 4, 3])
  head = _Head("projection")
  params = head.init(jax.random.PRNGKey(0), h, labels)["params"]
  logits = head.apply({"params": params}, h, labels)
  dense = h @ params["Dense_0"]["kernel"][:, 0] + params["Dense_0"]["bias"][0]
  projection = np.sum(params["projection"]["embedding"][labels] * h, axis=1)
  np.testing.assert_allclose(logits, dense + projection, rtol=1e-5, atol=1e-5)


def test_acgan_head_returns_class_logits():
  h, labels = _rand((4, 7)), jnp.array([0, 3, 4, 3])
  head = _Head("acgan")
  params = head.init(jax.random.PRNGKey(0), h, labels)["params"]
  logits, classes = head.apply({"params": params}, h, labels)
  assert logits.shape == (4,) and classes.shape == (4, 5)
  np.testing.assert_allclose(classes, h @ params["classifier"]["kernel"] + params["classifier"]["bias"],
                             rtol=1e-5, atol=1e-5)


def test_unconditional_discriminator_keeps_its_parameter_names():
  """The shared head adds no nesting: checkpoints of unconditional models stay readable."""
  d = MLPDiscriminator(width=4, depth=2)
  params = d.init(jax.random.PRNGKey(0), jnp.zeros((2, 2)), None, train=False)["params"]
  assert sorted(params) == ["Dense_0", "Dense_1", "Dense_2"]


def test_maxout_discriminator_takes_the_largest_piece_per_unit():
  x = _rand((3, 2))
  d = MLPDiscriminator(width=4, depth=1, maxout=5)
  params = d.init(jax.random.PRNGKey(0), x, None, train=False)["params"]
  assert params["Dense_0"]["kernel"].shape == (2, 20)
  pieces = (x @ params["Dense_0"]["kernel"] + params["Dense_0"]["bias"]).reshape(3, 4, 5)
  hidden = pieces.max(-1)
  expected = hidden @ params["Dense_1"]["kernel"][:, 0] + params["Dense_1"]["bias"][0]
  np.testing.assert_allclose(d.apply({"params": params}, x, None, train=False), expected, rtol=1e-5)
  np.testing.assert_array_equal(maxout(jnp.arange(6.0).reshape(1, 6), 3), [[2.0, 5.0]])


def test_mlp_generator_batchnorm_normalises_each_hidden_layer():
  z = _rand((16, 2))
  g = MLPGenerator(width=8, depth=2, batchnorm=True, axis_name=None)
  variables = g.init(jax.random.PRNGKey(0), z, None, train=False)
  assert sorted(variables["batch_stats"]) == ["BatchNorm_0", "BatchNorm_1"]
  assert "bias" not in variables["params"]["Dense_0"]  # BatchNorm's shift replaces it
  _, hidden = g.apply(variables, z, None, train=True, mutable=["batch_stats", "intermediates"],
                      capture_intermediates=lambda module, _: isinstance(module, nn.BatchNorm))
  for name in ("BatchNorm_0", "BatchNorm_1"):
    h = np.asarray(hidden["intermediates"][name]["__call__"][0])
    np.testing.assert_allclose(h.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(h.std(0), 1.0, rtol=1e-2)


def test_self_attention_is_identity_at_init_and_matches_the_formula():
  x = _rand((2, 4, 4, 16))
  block = SelfAttention()
  params = block.init(jax.random.PRNGKey(0), x)["params"]
  np.testing.assert_array_equal(block.apply({"params": params}, x), x)  # gamma = 0
  params = dict(params, gamma=jnp.asarray(0.7))
  flat = x.reshape(2, 16, 16)
  w = {k: params[k]["kernel"] for k in "fghv"}
  logits = np.einsum("bic,bjc->bij", flat @ w["f"], flat @ w["g"])
  beta = np.exp(logits - logits.max(-1, keepdims=True))
  beta /= beta.sum(-1, keepdims=True)
  expected = flat + 0.7 * (np.einsum("bij,bjc->bic", beta, flat @ w["h"]) @ w["v"])
  np.testing.assert_allclose(block.apply({"params": params}, x), expected.reshape(x.shape), rtol=1e-4, atol=1e-5)


def test_minibatch_stddev_appends_the_group_statistic():
  x = _rand((8, 3, 3, 2))
  y = MinibatchStdDev(group_size=4).apply({}, x)
  assert y.shape == (8, 3, 3, 3)
  np.testing.assert_array_equal(y[..., :2], x)
  for g in range(2):
    group = x[4 * g:4 * g + 4]
    expected = np.mean(np.sqrt(group.var(axis=0) + 1e-8))
    np.testing.assert_allclose(y[4 * g:4 * g + 4, ..., 2], expected, rtol=1e-5)
  with pytest.raises(ConfigError, match="must divide"):
    MinibatchStdDev(group_size=4).apply({}, x[:6])


def test_minibatch_discrimination_matches_the_pairwise_sum():
  h = _rand((5, 6))
  layer = MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
  params = layer.init(jax.random.PRNGKey(0), h)["params"]
  out = np.asarray(layer.apply({"params": params}, h))
  m = (h @ params["T"]).reshape(5, 3, 2)
  expected = np.zeros((5, 3))
  for i in range(5):
    for j in range(5):
      if i != j:
        expected[i] += np.exp(-np.abs(m[i] - m[j]).sum(-1))
  np.testing.assert_allclose(out[:, :6], h)
  np.testing.assert_allclose(out[:, 6:], expected, rtol=1e-4, atol=1e-6)


def test_resampling():
  x = _rand((2, 3, 3, 2))
  up = upsample2x(x)
  np.testing.assert_array_equal(up[:, ::2, ::2], x)
  np.testing.assert_array_equal(up[:, 1::2, 1::2], x)
  np.testing.assert_allclose(avg_pool2x(up), x, rtol=1e-6)


@pytest.mark.parametrize("resolution,channels,plan", [
    (32, 3, [True, True, False, False]), (48, 3, [True, True, True, False]),
    (64, 3, [True, True, True, False]), (28, 1, [True, True, False, False])])
def test_resnet_shapes_and_discriminator_plan(resolution, channels, plan):
  assert resnet.discriminator_plan(resolution) == plan
  G = resnet.ResNetGenerator(resolution=resolution, channels=channels, width=8, axis_name=None)
  D = resnet.ResNetDiscriminator(resolution=resolution, width=8)
  z = jnp.zeros((2, 16))
  # Shapes only (jax.eval_shape): no compilation or arithmetic.
  g_vars = jax.eval_shape(lambda: G.init(jax.random.PRNGKey(0), z, None, train=False))
  x = jax.eval_shape(lambda v: G.apply(v, z, None, train=False), g_vars)
  assert x.shape == (2, resolution, resolution, channels)
  d_vars = jax.eval_shape(lambda: D.init(jax.random.PRNGKey(1), jnp.zeros(x.shape), None, train=False))
  assert jax.eval_shape(lambda v: D.apply(v, jnp.zeros(x.shape), None, train=False), d_vars).shape == (2,)


# ---- DiffAugment --------------------------------------------------------------------------

def test_translation_moves_content_and_fills_with_zeros():
  x = np.zeros((16, 16, 1), np.float32)
  x[8, 8] = 1.0
  shifts = set()
  for seed in range(40):
    y = np.asarray(augment.translation(jnp.asarray(x), jax.random.PRNGKey(seed)))
    (i,), (j,) = np.nonzero(y[..., 0])[0], np.nonzero(y[..., 0])[1]
    shifts.add((i - 8, j - 8))
    assert y.sum() == 1.0
  assert all(abs(a) <= 2 and abs(b) <= 2 for a, b in shifts) and len(shifts) > 5
  for seed in range(5):  # a shifted all-ones image: a (16-|dy|) x (16-|dx|) block of ones, zeros around
    ones = np.asarray(augment.translation(jnp.ones((16, 16, 1)), jax.random.PRNGKey(seed)))[..., 0]
    rows, cols = ones.any(axis=1).sum(), ones.any(axis=0).sum()
    assert ones.sum() == rows * cols and set(np.unique(ones)) <= {0.0, 1.0}


def test_cutout_zeroes_a_square_of_half_the_side():
  for seed in range(10):
    y = np.asarray(augment.cutout(jnp.ones((16, 16, 2)), jax.random.PRNGKey(seed)))
    rows, cols = np.nonzero(y[..., 0] == 0)
    assert rows.max() - rows.min() < 8 and cols.max() - cols.min() < 8
    np.testing.assert_array_equal(y[..., 0], y[..., 1])
  centred = np.asarray(augment.cutout(jnp.ones((16, 16, 1)), jax.random.PRNGKey(0)))
  assert (centred == 0).sum() <= 64


def test_color_changes_brightness_saturation_contrast_only():
  flat = jnp.full((8, 8, 3), 0.25)
  y = np.asarray(augment.color(flat, jax.random.PRNGKey(0)))
  assert np.allclose(y, y[0, 0]) and abs(y[0, 0, 0] - 0.25) <= 0.5  # a flat image stays flat


def test_augment_batch_is_per_row_differentiable_and_device_count_free():
  x = jnp.asarray(_rand((4, 8, 8, 3)))
  policy = augment.parse_policy("color, translation, cutout")
  key = jax.random.PRNGKey(7)
  aug = jax.jit(augment.augment_batch, static_argnums=2)
  whole = aug(x, key, policy)
  halves = jnp.concatenate([aug(x[:2], key, policy, 0), aug(x[2:], key, policy, 2)])
  np.testing.assert_allclose(whole, halves, rtol=1e-5, atol=1e-5)
  grad = jax.jit(jax.grad(lambda x: jnp.sum(augment.augment_batch(x, key, policy) ** 2)))(x)
  assert np.all(np.isfinite(grad)) and np.abs(grad).sum() > 0


def test_augment_policy_errors():
  with pytest.raises(ConfigError, match="Valid names: color, cutout, translation"):
    augment.parse_policy("color,traslation")
  with pytest.raises(ConfigError, match="transforms images"):
    augment.check_policy("color", "points")
