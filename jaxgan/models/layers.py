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
    _, vjp_x = jax.vjp(lambda xx: plain_conv_transpose(xx, k, strides, padding), x)
    return vjp_x(g)[0]

  dx, vjp_k = jax.vjp(input_grad, kernel)
  (dkernel,) = vjp_k(x)
  return dx, dkernel


conv_transpose.defvjp(_conv_transpose_fwd, _conv_transpose_bwd)


class ConvTranspose(nn.Module):
  """Transposed convolution (NHWC) using :func:`conv_transpose`; parameters as ``nn.ConvTranspose``.

  Attributes:
    features: output channels.
    kernel_size: square kernel side.
    strides: upsampling factor per spatial axis.
    padding: ``'SAME'`` or ``'VALID'``.
  """
  features: int
  kernel_size: int = 4
  strides: int = 2
  padding: str = "SAME"
  use_bias: bool = True
  kernel_init: Callable[..., Any] = nn.initializers.lecun_normal()
  bias_init: Callable[..., Any] = nn.initializers.zeros

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    kernel = self.param("kernel", self.kernel_init,
                        (self.kernel_size, self.kernel_size, x.shape[-1], self.features))
    y = conv_transpose(x, kernel.astype(x.dtype), (self.strides, self.strides), self.padding)
    if self.use_bias:
      y = y + self.param("bias", self.bias_init, (self.features,)).astype(x.dtype)
    return y


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
