"""The fast transposed convolution is the same function, with the same gradients, as the plain one."""

import itertools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.models import layers

CASES = list(itertools.product([1, 2], [3, 4], ["SAME", "VALID"], [5, 8]))


PAIRS = {  # jaxgan's layer function -> the plain lax op it must equal
    "conv_transpose": (layers.conv_transpose, layers.plain_conv_transpose),
    "conv2d": (layers.conv2d, layers.plain_conv2d),
    "phase_conv_transpose": (layers.phase_conv_transpose, layers.plain_conv_transpose),
}


def _loss(fn, strides, padding):
  # A non-linear, per-example-weighted readout so the upstream gradient is not constant.
  return lambda x, w: jnp.sum(jnp.sin(fn(x, w, strides, padding)) * jnp.arange(4.0)[:, None, None, None])


@pytest.mark.parametrize("pair", sorted(PAIRS))
@pytest.mark.parametrize("stride,kernel,padding,size", CASES)
def test_outputs_and_gradients_match_plain(pair, stride, kernel, padding, size):
  fast, plain = PAIRS[pair]
  kx, kw = jax.random.split(jax.random.PRNGKey(stride * 100 + kernel * 10 + size))
  x = jax.random.normal(kx, (4, size, size + 1, 3))  # odd and even spatial sizes together
  w = jax.random.normal(kw, (kernel, kernel, 3, 5))
  s = (stride, stride)
  np.testing.assert_allclose(jax.jit(fast, static_argnums=(2, 3))(x, w, s, padding),
                             plain(x, w, s, padding), rtol=1e-5, atol=1e-5)
  grads = jax.jit(jax.grad(_loss(fast, s, padding), (0, 1)))(x, w)
  ref = jax.jit(jax.grad(_loss(plain, s, padding), (0, 1)))(x, w)
  for g, r in zip(grads, ref):
    np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5 * float(jnp.abs(r).max()))


def test_gradients_match_under_pmap():
  n = jax.device_count()
  x = jax.random.normal(jax.random.PRNGKey(0), (n, 2, 6, 6, 4))
  w = jax.random.normal(jax.random.PRNGKey(1), (4, 4, 4, 3))

  def per_device(fn):
    def f(xs):
      g = jax.grad(lambda ww: jnp.sum(jnp.tanh(fn(xs, ww, (2, 2), "SAME"))))(w)
      return jax.lax.pmean(g, "i")
    return jax.pmap(f, axis_name="i")

  np.testing.assert_allclose(per_device(layers.conv_transpose)(x)[0],
                             per_device(layers.plain_conv_transpose)(x)[0], rtol=1e-5, atol=1e-5)


def test_wide_layers_use_the_phases_on_cpu_and_stay_the_same_function():
  # C_out >= PHASE_MIN_FEATURES: the forward is the per-phase matmuls (no input-dilated
  # convolution in the lowered forward; narrower layers keep it), outputs and gradients unchanged.
  c_out = layers.PHASE_MIN_FEATURES
  x = jax.random.normal(jax.random.PRNGKey(0), (4, 3, 4, 6))
  w = 0.1 * jax.random.normal(jax.random.PRNGKey(1), (4, 4, 6, c_out))
  fwd = jax.jit(lambda x, w: layers.conv_transpose(x, w, (2, 2), "SAME"))
  assert "lhs_dilate" not in fwd.lower(x, w).as_text()  # the lowered CPU module
  narrow = jax.jit(lambda x, w: layers.conv_transpose(x, w[..., :8], (2, 2), "SAME"))
  assert "lhs_dilate" in narrow.lower(x, w).as_text()
  np.testing.assert_allclose(fwd(x, w), layers.plain_conv_transpose(x, w, (2, 2), "SAME"), rtol=1e-5, atol=1e-5)
  grads = jax.jit(jax.grad(_loss(layers.conv_transpose, (2, 2), "SAME"), (0, 1)))(x, w)
  ref = jax.jit(jax.grad(_loss(layers.plain_conv_transpose, (2, 2), "SAME"), (0, 1)))(x, w)
  for g, r in zip(grads, ref):
    np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5 * float(jnp.abs(r).max()))


def test_phase_padding_and_gradient_padding_follow_jax_for_explicit_pads():
  x = jax.random.normal(jax.random.PRNGKey(0), (4, 5, 4, 3))
  w = jax.random.normal(jax.random.PRNGKey(1), (3, 3, 3, 4))
  for pads in (((1, 2), (2, 1)), ((0, 1), (1, 0)), ((2, 0), (0, 2))):
    np.testing.assert_allclose(layers.phase_conv_transpose(x, w, (2, 2), pads),
                               layers.plain_conv_transpose(x, w, (2, 2), pads), rtol=1e-5, atol=1e-5)
    grads = jax.grad(_loss(layers.conv_transpose, (2, 2), pads), (0, 1))(x, w)
    ref = jax.grad(_loss(layers.plain_conv_transpose, (2, 2), pads), (0, 1))(x, w)
    for g, r in zip(grads, ref):
      np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5 * float(jnp.abs(r).max()))


def test_transposed_conv_gradients_on_cpu_are_matmuls_of_one_patch_matrix():
  # The CPU backward is im2col on the output cotangent: no convolution (and so no
  # input-dilated weight gradient) is left in the compiled gradient of a wide layer.
  x = jax.random.normal(jax.random.PRNGKey(0), (4, 4, 4, 16))
  w = 0.1 * jax.random.normal(jax.random.PRNGKey(1), (4, 4, 16, layers.PHASE_MIN_FEATURES))
  grad = jax.jit(jax.grad(_loss(layers.conv_transpose, (2, 2), "SAME"), (0, 1)))
  hlo = grad.lower(x, w).compile().as_text()
  assert " convolution(" not in hlo and " dot(" in hlo


@pytest.mark.parametrize("c_in,c_out", [(8, 16), (1, 32)])  # g^T @ patches / patches^T @ g
def test_conv2d_weight_gradient_transposes_one_operand_first(c_in, c_out):
  # patch_matmul's weight gradient: the smaller of patches [M, K] and g [M, N] is
  # materialised transposed, then a plain matmul; no dot contracting the leading
  # (batch x position) axis is left, and the result is still the gradient.
  x = jax.random.normal(jax.random.PRNGKey(0), (4, 16, 16, c_in))
  w = jax.random.normal(jax.random.PRNGKey(1), (4, 4, c_in, c_out))
  grad = jax.jit(jax.grad(lambda w: jnp.sum(jnp.sin(layers.conv2d(x, w, (2, 2), "SAME")))))
  assert "lhs_contracting_dims={0}" not in grad.lower(w).compile().as_text()
  ref = jax.grad(lambda w: jnp.sum(jnp.sin(layers.plain_conv2d(x, w, (2, 2), "SAME"))))(w)
  np.testing.assert_allclose(grad(w), ref, rtol=1e-5, atol=1e-5 * float(jnp.abs(ref).max()))


def test_module_equals_flax_conv_transpose():
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 6))
  ours = layers.ConvTranspose(5, 4, 2)
  params = ours.init(jax.random.PRNGKey(1), x)
  ref = nn.ConvTranspose(5, (4, 4), (2, 2), padding="SAME")
  np.testing.assert_allclose(ours.apply(params, x), ref.apply(params, x), rtol=1e-5, atol=1e-6)
  assert ours.apply(params, x).shape == (2, 8, 8, 5)


# ---- conv2d: im2col on CPU (strided, few-channel layers), the same function as lax.conv --

def test_conv2d_explicit_padding_and_pmap():
  n = jax.device_count()
  x = jax.random.normal(jax.random.PRNGKey(0), (n, 2, 7, 6, 4))
  w = jax.random.normal(jax.random.PRNGKey(1), (3, 3, 4, 3))
  pads = ((2, 0), (1, 1))

  def per_device(fn):
    def f(xs):
      y = fn(xs, w, (2, 2), pads)
      g = jax.grad(lambda ww: jnp.sum(jnp.tanh(fn(xs, ww, (2, 2), pads))))(w)
      return y, jax.lax.pmean(g, "i")
    return jax.pmap(f, axis_name="i")

  for ours, ref in zip(per_device(layers.conv2d)(x), per_device(layers.plain_conv2d)(x)):
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)


def test_conv2d_on_cpu_compiles_to_matmuls_only():
  x = jnp.zeros((2, 8, 8, 3))
  w = jnp.zeros((4, 4, 3, 5))
  grad = jax.grad(lambda x, w: jnp.sum(layers.conv2d(x, w, (2, 2), "SAME") ** 2), (0, 1))
  hlo = jax.jit(grad).lower(x, w).compile().as_text()
  assert "convolution(" not in hlo
  assert "dot(" in hlo or "__ynn_fusion" in hlo


def test_conv_module_equals_flax_conv():
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 9, 9, 6))
  ours = layers.Conv(5, 4, 2)
  params = ours.init(jax.random.PRNGKey(1), x)
  ref = nn.Conv(5, (4, 4), (2, 2), padding="SAME")
  np.testing.assert_allclose(ours.apply(params, x), ref.apply(params, x), rtol=1e-5, atol=1e-6)
  assert ours.apply(params, x).shape == (2, 5, 5, 5)


# ---- stride-1 3x3 layers with many input channels: XLA's own convolution on CPU too --------

NATIVE_CASES = [  # (padding, height, width, C_out): pads, odd/even sizes, an RGB output layer
    ("SAME", 17, 16, 32), ("VALID", 18, 19, 32), (((2, 0), (1, 1)), 16, 16, 32), ("SAME", 16, 16, 3),
]


@pytest.mark.parametrize("padding,height,width,c_out", NATIVE_CASES)
def test_wide_stride1_conv2d_is_the_same_function_with_the_same_gradients(padding, height, width, c_out):
  c_in = layers.NATIVE_MIN_FEATURES
  kx, kw = jax.random.split(jax.random.PRNGKey(height * 10 + c_out))
  x = jax.random.normal(kx, (4, height, width, c_in))
  w = jax.random.normal(kw, (3, 3, c_in, c_out)) / 3
  loss = lambda fn: lambda x, w: jnp.sum(jnp.sin(fn(x, w, (1, 1), padding)) * jnp.arange(4.0)[:, None, None, None])
  np.testing.assert_allclose(jax.jit(lambda x, w: layers.conv2d(x, w, (1, 1), padding))(x, w),
                             layers.plain_conv2d(x, w, (1, 1), padding), rtol=1e-5, atol=1e-5)
  grads = jax.jit(jax.grad(loss(layers.conv2d), (0, 1)))(x, w)
  ref = jax.jit(jax.grad(loss(layers.plain_conv2d), (0, 1)))(x, w)
  for g, r in zip(grads, ref):
    np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5 * float(jnp.abs(r).max()))


def test_the_cpu_layer_choice_by_shape():
  # D's first (3-channel) layer, strided layers and other kernels (LeNet's 5x5) stay matmuls
  # only; the ResNets' 3x3 layers with many input channels, G's RGB layer included, are XLA's.
  for c_in, c_out, strides, k in ((3, 64, (1, 1), 3), (64, 64, (2, 2), 3), (64, 64, (1, 1), 5)):
    x, w = jnp.zeros((2, 8, 8, c_in)), jnp.zeros((k, k, c_in, c_out))
    hlo = jax.jit(lambda x, w: layers.conv2d(x, w, strides, "SAME")).lower(x, w).compile().as_text()
    assert "convolution(" not in hlo, (c_in, c_out, strides, k)
  for c_out in (32, 3):
    x, w = jnp.zeros((2, 8, 8, 64)), jnp.zeros((3, 3, 64, c_out))
    grads = jax.grad(lambda x, w: jnp.sum(layers.conv2d(x, w, (1, 1), "SAME") ** 2), (0, 1))
    assert "convolution(" in jax.jit(grads).lower(x, w).compile().as_text(), c_out
