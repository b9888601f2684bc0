"""Layers shared by the generators and discriminators.

``conv_transpose`` is :func:`jax.lax.conv_transpose` with a custom VJP. On XLA:CPU the
plain weight gradient of a strided transposed convolution is lowered to a convolution
with ``lhs_dilation`` and the batch as contracted dimension, which takes a slow path
(~20x slower than every other conv op; see ``PERFORMANCE.md`` in the shared docs).

The fix uses bilinearity. For ``y = T(x, w)`` (the transposed conv) and upstream
gradient ``g``, ``<g, T(x, w)> = <D(g, w), x>``, where ``D(., w)`` is the VJP of ``T`` in
``x`` -- an ordinary *strided* convolution of ``g``. Hence

    dL/dx = D(g, w)                      (what JAX computes anyway)
    dL/dw = d/dw <D(g, w), x>             (the weight gradient of that strided conv)

and both are ordinary-convolution gradients that take XLA's fast paths. All padding and
kernel-layout conventions are inherited from JAX's own transpose rules, so the result is
the same function with the same gradients (tested to 1e-5 against ``jax.grad`` of the
plain version for strides 1 and 2, kernels 3 and 4, SAME and VALID, odd and even sizes).

``conv2d`` is :func:`jax.lax.conv_general_dilated` (NHWC/HWIO) computed, on CPU only, as
patch extraction plus one matrix multiplication (im2col), so that its forward pass and
both gradients are large matmuls. Measured in the DCGAN-32 step on the 2-core CPU this
was ~20% faster than XLA:CPU's convolutions (whose weight gradient with 3 input channels
ran at ~8 GFLOP/s); the same formulation for the transposed convolutions of the
generator was slower, so those keep ``conv_transpose``. Other backends use XLA's
convolution unchanged (:func:`jax.lax.platform_dependent`).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

DIMENSION_NUMBERS = ("NHWC", "HWIO", "NHWC")


def plain_conv_transpose(x: jax.Array, kernel: jax.Array, strides: tuple[int, int],
                         padding: str) -> jax.Array:
  """``lax.conv_transpose`` as ``flax.linen.ConvTranspose`` calls it.

  Args:
    x: ``[B, H, W, C_in]``.
    kernel: ``[kh, kw, C_in, C_out]``.
    strides: ``(sh, sw)``.
    padding: ``'SAME'`` (output ``H * sh``) or ``'VALID'``.

  Returns:
    ``[B, H', W', C_out]``.
  """
  return lax.conv_transpose(x, kernel, strides, padding, dimension_numbers=DIMENSION_NUMBERS)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def conv_transpose(x: jax.Array, kernel: jax.Array, strides: tuple[int, int],
                   padding: str) -> jax.Array:
  """Same function as :func:`plain_conv_transpose`, with gradients that avoid the CPU slow path."""
  return plain_conv_transpose(x, kernel, strides, padding)


def _conv_transpose_fwd(x, kernel, strides, padding):
  return plain_conv_transpose(x, kernel, strides, padding), (x, kernel)


def _conv_transpose_bwd(strides, padding, residuals, g):
  x, kernel = residuals

  def input_grad(k):
    # The VJP in x of the transposed conv: an ordinary strided convolution of g.
    # linear_transpose (not vjp) so no dead forward pass is traced.
    return jax.linear_transpose(lambda xx: plain_conv_transpose(xx, k, strides, padding), x)(g)[0]

  # input_grad is linear in the kernel too; its transpose applied to x is dL/dkernel.
  (dkernel,) = jax.linear_transpose(input_grad, kernel)(x)
  return input_grad(kernel), dkernel


conv_transpose.defvjp(_conv_transpose_fwd, _conv_transpose_bwd)


class _KernelLayer(nn.Module):
  """Shared shell of :class:`Conv` and :class:`ConvTranspose`: a square ``[k, k, C_in,
  features]`` kernel and an optional bias, with flax's parameter names and layout;
  subclasses supply the operation in ``_op``."""
  features: int
  kernel_size: int = 3
  strides: int = 1
  padding: Any = "SAME"
  use_bias: bool = True
  kernel_init: Callable[..., Any] = nn.initializers.lecun_normal()
  bias_init: Callable[..., Any] = nn.initializers.zeros

  def _op(self, x: jax.Array, kernel: jax.Array) -> jax.Array:
    raise NotImplementedError

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    kernel = self.param("kernel", self.kernel_init,
                        (self.kernel_size, self.kernel_size, x.shape[-1], self.features))
    y = self._op(x, kernel.astype(x.dtype))
    if self.use_bias:
      y = y + self.param("bias", self.bias_init, (self.features,)).astype(x.dtype)
    return y


class ConvTranspose(_KernelLayer):
  """Transposed convolution (NHWC) using :func:`conv_transpose`; parameters as ``nn.ConvTranspose``.

  Attributes:
    features: output channels.
    kernel_size: square kernel side.
    strides: upsampling factor per spatial axis.
    padding: ``'SAME'`` or ``'VALID'``.
  """
  kernel_size: int = 4
  strides: int = 2

  def _op(self, x: jax.Array, kernel: jax.Array) -> jax.Array:
    return conv_transpose(x, kernel, (self.strides, self.strides), self.padding)


def conv_padding(x_shape: tuple[int, ...], kernel_shape: tuple[int, ...],
                 strides: tuple[int, int], padding) -> tuple[tuple[int, int], ...]:
  """``'SAME'``/``'VALID'`` or explicit ``((lo, hi), (lo, hi))`` -> explicit spatial pads."""
  if isinstance(padding, str):
    return tuple(lax.padtype_to_pads(x_shape[1:3], kernel_shape[:2], strides, padding))
  return tuple((int(lo), int(hi)) for lo, hi in padding)


def plain_conv2d(x: jax.Array, kernel: jax.Array, strides: tuple[int, int], padding) -> jax.Array:
  """``lax.conv_general_dilated`` as ``flax.linen.Conv`` calls it.

  Args:
    x: ``[B, H, W, C_in]``.
    kernel: ``[kh, kw, C_in, C_out]``.
    strides: ``(sh, sw)``.
    padding: ``'SAME'``, ``'VALID'`` or ``((top, bottom), (left, right))``.

  Returns:
    ``[B, H', W', C_out]``.
  """
  return lax.conv_general_dilated(x, kernel, strides, conv_padding(x.shape, kernel.shape, strides, padding),
                                  dimension_numbers=DIMENSION_NUMBERS)


def im2col_conv2d(x: jax.Array, kernel: jax.Array, strides: tuple[int, int], padding) -> jax.Array:
  """:func:`plain_conv2d` as ``patches [B, H', W', kh*kw*C_in] @ kernel [kh*kw*C_in, C_out]``.

  The patches are ``kh * kw`` strided slices of the padded input, concatenated on the
  channel axis in the kernel's row-major ``(i, j, c)`` order, so the kernel is only
  reshaped. Autodiff turns the slices into pads and adds, and the product into two
  more products, so no convolution primitive remains in forward or backward.
  """
  pads = conv_padding(x.shape, kernel.shape, strides, padding)
  if any(lo < 0 or hi < 0 for lo, hi in pads):
    return plain_conv2d(x, kernel, strides, pads)
  kh, kw, c_in, c_out = kernel.shape
  sh, sw = strides
  x = jnp.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
  b, h, w, _ = x.shape
  ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
  cols = [lax.slice(x, (0, i, j, 0), (b, i + (ho - 1) * sh + 1, j + (wo - 1) * sw + 1, c_in), (1, sh, sw, 1))
          for i in range(kh) for j in range(kw)]
  patches = cols[0] if len(cols) == 1 else jnp.concatenate(cols, axis=-1)
  return lax.dot_general(patches, kernel.reshape(kh * kw * c_in, c_out), (((3,), (0,)), ((), ())))


def conv2d(x: jax.Array, kernel: jax.Array, strides: tuple[int, int], padding) -> jax.Array:
  """Same function as :func:`plain_conv2d`: :func:`im2col_conv2d` on CPU, XLA's conv elsewhere."""
  return lax.platform_dependent(x, kernel, cpu=lambda x, k: im2col_conv2d(x, k, strides, padding),
                                default=lambda x, k: plain_conv2d(x, k, strides, padding))


class Conv(_KernelLayer):
  """2D convolution (NHWC) using :func:`conv2d`; parameters as ``nn.Conv``.

  Attributes:
    features: output channels.
    kernel_size: square kernel side.
    strides: stride per spatial axis.
    padding: ``'SAME'``, ``'VALID'`` or explicit pairs.
  """

  def _op(self, x: jax.Array, kernel: jax.Array) -> jax.Array:
    return conv2d(x, kernel, (self.strides, self.strides), self.padding)


def batch_norm(train: bool, axis_name: str | None, momentum: float = 0.9) -> nn.BatchNorm:
  """BatchNorm whose training-mode statistics are averaged over ``axis_name`` (all devices)."""
  return nn.BatchNorm(use_running_average=not train, momentum=momentum, epsilon=1e-5,
                      axis_name=axis_name if train else None)


def dcgan_init(stddev: float = 0.02) -> Callable[..., Any]:
  """N(0, 0.02) weights, as in Radford et al. 2016 (DCGAN)."""
  return nn.initializers.normal(stddev)


def leaky_relu(x: jax.Array) -> jax.Array:
  """LeakyReLU with slope 0.2 (DCGAN discriminators)."""
  return jnp.where(x >= 0, x, 0.2 * x)


def spectral(layer: nn.Module, enabled: bool, train: bool) -> Callable[[jax.Array], jax.Array]:
  """``layer`` with spectral normalization of its weights when ``enabled`` (Miyato et al. 2018,
  "Spectral Normalization for GANs", arXiv:1802.05957).

  Uses ``flax.linen.SpectralNorm``: each kernel (reshaped to ``[-1, C_out]``) is divided by
  its largest singular value, estimated by one power-iteration step per call; the
  iteration vector ``u`` and the estimate live in the ``batch_stats`` collection of the
  state and advance only in training (``train=True``). ``u`` depends only on the (replicated)
  parameters, so it stays identical on every device without communication.
  """
  if not enabled:
    return layer
  normalized = nn.SpectralNorm(layer)
  return lambda x: normalized(x, update_stats=train)
