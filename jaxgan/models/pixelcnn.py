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
  """One gated layer of both stacks: ``(v, h, condition [N, 2p] | None) -> (v, h)``.

  Its two halves are also callable apart, for row-by-row sampling: :meth:`vertical` (the
  vertical stack's layer and the ``link`` it sends to the horizontal stack, which at row
  ``i`` depends on rows ``< i`` only) and :meth:`horizontal` (the horizontal stack's layer,
  ``1 x k`` kernels, so one row at a time gives the same values as the whole image).
  """
  channels: int
  kernel: int
  first: bool = False

  def setup(self):
    k, p = self.kernel, self.channels
    self.vertical_conv = nn.Conv(2 * p, (k // 2 + 1, k), padding="VALID", name="vertical")
    # mask A (first block): the current pixel excluded; mask B: its position's features included
    self.horizontal_conv = nn.Conv(2 * p, (1, k // 2 if self.first else k // 2 + 1), padding="VALID",
                                   name="horizontal")
    self.vertical_to_horizontal = nn.Conv(2 * p, (1, 1))
    self.horizontal_out = nn.Conv(p, (1, 1))
    self.cond_v = nn.Dense(2 * p, use_bias=False)
    self.cond_h = nn.Dense(2 * p, use_bias=False)

  def vertical(self, v: jax.Array, condition: jax.Array | None) -> tuple[jax.Array, jax.Array]:
    """``v [N, H, W, C] -> (next v [N, H, W, p], link [N, H, W, 2p])``."""
    k = self.kernel
    v_conv = self.vertical_conv(jnp.pad(v, ((0, 0), (k // 2, 0), (k // 2, k // 2), (0, 0))))
    link = self.vertical_to_horizontal(shift_down(v_conv))
    if condition is not None:
      v_conv = v_conv + self.cond_v(condition[:, None, None, :])
    return _gate(v_conv), link

  def horizontal(self, h: jax.Array, link: jax.Array, condition: jax.Array | None) -> jax.Array:
    """``h [N, R, W, C]`` and the ``link`` of the same rows -> next ``h [N, R, W, p]``."""
    k, width = self.kernel, h.shape[2]
    h_conv = self.horizontal_conv(jnp.pad(h, ((0, 0), (0, 0), (k // 2, 0), (0, 0))))[:, :, :width]
    h_pre = h_conv + link
    if condition is not None:
      h_pre = h_pre + self.cond_h(condition[:, None, None, :])
    h_out = self.horizontal_out(_gate(h_pre))
    return h_out if self.first else h + h_out

  def __call__(self, v: jax.Array, h: jax.Array, condition: jax.Array | None) -> tuple[jax.Array, jax.Array]:
    v_next, link = self.vertical(v, condition)
    return v_next, self.horizontal(h, link, condition)


class GatedPixelCNN(nn.Module):
  """``(x [N, H, W, C], labels [N] | None) -> [N, H, W, out_channels]``.

  ``stage='links'`` returns instead the links the vertical stack sends to the horizontal one,
  one ``[N, H, W, 2p]`` per block (row ``i``'s from rows ``< i``), and ``stage='rows'`` with
  ``links`` (the same rows of them) the logits of the rows ``x`` holds, ``[N, R, W,
  out_channels]`` -- equal to the full network's at those rows: row-by-row sampling runs the
  vertical stack once per row and the horizontal stack on one row per pixel.

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
  def __call__(self, x: jax.Array, labels: jax.Array | None = None, stage: str = "full",
               links: list[jax.Array] | None = None):
    condition = None
    if self.num_classes:
      condition = nn.Embed(self.num_classes, 2 * self.channels, name="class_embedding")(labels)
    blocks = [GatedBlock(self.channels, self.first_kernel, first=True)]
    blocks += [GatedBlock(self.channels, self.kernel) for _ in range(self.layers)]
    if stage == "links":
      v, out = x, []
      for block in blocks:
        v, link = block.vertical(v, condition)
        out.append(link)
      return out
    if stage == "rows":
      h = x
      for block, link in zip(blocks, links):
        h = block.horizontal(h, link, condition)
    elif stage == "full":
      v, h = x, x
      for block in blocks:
        v, h = block(v, h, condition)
    else:
      raise ValueError(f"stage must be 'full', 'links' or 'rows', not {stage!r}")
    out = nn.relu(nn.Conv(self.head, (1, 1), name="head")(nn.relu(h)))
    return nn.Conv(self.out_channels, (1, 1), name="logits")(out)
