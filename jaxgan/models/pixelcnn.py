"""The gated PixelCNN of van den Oord et al. 2016 ("Conditional Image Generation with
PixelCNN Decoders", arXiv:1606.05328, Sec. 2.1-2.3, Fig. 2): a vertical stack (the rows
above) and a horizontal stack (the pixels to the left in the current row), so the
receptive field has no blind spot; gated units ``tanh(W_f * x) . sigmoid(W_g * x)``; the
vertical stack feeds the horizontal one through a 1x1 convolution after a one-row shift;
residual connections in the horizontal stack; an optional class embedding added to every
gate (the conditional PixelCNN, eq. 4).

Masks by construction instead of masked kernels: the vertical convolution is a
``(k//2 + 1) x k`` kernel over rows ``i - k//2 .. i`` (its output reaches the horizontal
stack shifted down one row, so row ``i`` sees only rows above it); the horizontal one is a
``1 x (k//2 + 1)`` kernel over columns ``j - k//2 .. j``, and in the first layer (mask
type A) a ``1 x k//2`` kernel over columns ``j - k//2 .. j - 1``, so the output at pixel
``(i, j)`` depends only on pixels before it in raster order (tested through the Jacobian).

``x [N, H, W, C] -> logits [N, H, W, C * P]`` for a pixel likelihood with ``P`` parameters
per channel (:mod:`jaxgan.likelihoods`); one-channel data (channels of one pixel would need
their own ordering, Sec. 2 of the paper).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp


def shift_down(x: jax.Array) -> jax.Array:
  """Row ``i`` takes row ``i - 1`` (zeros in the first row)."""
  return jnp.pad(x, ((0, 0), (1, 0), (0, 0), (0, 0)))[:, :-1]


def _gate(x: jax.Array) -> jax.Array:
  f, g = jnp.split(x, 2, axis=-1)
  return jnp.tanh(f) * jax.nn.sigmoid(g)


class GatedBlock(nn.Module):
  """One gated layer of both stacks: ``(v, h, condition [N, 2p] | None) -> (v, h)``."""
  channels: int
  kernel: int
  first: bool = False

  @nn.compact
  def __call__(self, v: jax.Array, h: jax.Array, condition: jax.Array | None) -> tuple[jax.Array, jax.Array]:
    k, p, width = self.kernel, self.channels, h.shape[2]
    v_pad = jnp.pad(v, ((0, 0), (k // 2, 0), (k // 2, k // 2), (0, 0)))
    v_conv = nn.Conv(2 * p, (k // 2 + 1, k), padding="VALID", name="vertical")(v_pad)
    if self.first:  # mask A: the current pixel excluded
      h_pad = jnp.pad(h, ((0, 0), (0, 0), (k // 2, 0), (0, 0)))
      h_conv = nn.Conv(2 * p, (1, k // 2), padding="VALID", name="horizontal")(h_pad)[:, :, :width]
    else:           # mask B: the current position's features (of earlier pixels) included
      h_pad = jnp.pad(h, ((0, 0), (0, 0), (k // 2, 0), (0, 0)))
      h_conv = nn.Conv(2 * p, (1, k // 2 + 1), padding="VALID", name="horizontal")(h_pad)
    h_pre = h_conv + nn.Conv(2 * p, (1, 1), name="vertical_to_horizontal")(shift_down(v_conv))
    if condition is not None:
      bias = condition[:, None, None, :]
      v_conv, h_pre = v_conv + nn.Dense(2 * p, use_bias=False, name="cond_v")(bias), \
          h_pre + nn.Dense(2 * p, use_bias=False, name="cond_h")(bias)
    h_out = nn.Conv(p, (1, 1), name="horizontal_out")(_gate(h_pre))
    return _gate(v_conv), (h_out if self.first else h + h_out)


class GatedPixelCNN(nn.Module):
  """``(x [N, H, W, C], labels [N] | None) -> [N, H, W, out_channels]``.

  Attributes:
    out_channels: ``C * P`` decoder parameters per pixel.
    channels: feature maps per stack (``p``).
    layers: gated blocks after the first (type A) one.
    first_kernel, kernel: the first block's and the others' kernel sizes (7 and 3 in the paper).
    head: units of the 1x1 output layers (ReLU) before the logits.
    num_classes: > 0 for a class-conditional model (an embedding added to every gate).
  """
  out_channels: int
  channels: int = 64
  layers: int = 6
  first_kernel: int = 7
  kernel: int = 3
  head: int = 256
  num_classes: int = 0

  @nn.compact
  def __call__(self, x: jax.Array, labels: jax.Array | None = None) -> jax.Array:
    condition = None
    if self.num_classes:
      condition = nn.Embed(self.num_classes, 2 * self.channels, name="class_embedding")(labels)
    v, h = GatedBlock(self.channels, self.first_kernel, first=True)(x, x, condition)
    for _ in range(self.layers):
      v, h = GatedBlock(self.channels, self.kernel)(v, h, condition)
    out = nn.relu(nn.Conv(self.head, (1, 1), name="head")(nn.relu(h)))
    return nn.Conv(self.out_channels, (1, 1), name="logits")(out)
