"""Blocks shared by several architectures: conditional BatchNorm, self-attention, minibatch
layers, and nearest/average resampling.

Shapes are NHWC for images; the minibatch layers also take flat features ``[B, F]``.
"""

from __future__ import annotations

from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.models.layers import Conv, batch_norm, spectral
from jaxgan.registry import Registry


class ConditionalBatchNorm(nn.Module):
  """Class-conditional BatchNorm (de Vries et al. 2017, arXiv:1707.00683; Miyato & Koyama 2018).

  ``x [B, ..., C], labels [B] -> BN(x) * (1 + gamma[y]) + beta[y]``: BatchNorm without its
  own affine transform, then a per-class scale and shift looked up from embeddings
  initialised at zero (so training starts from plain BatchNorm). Statistics are
  averaged over ``axis_name`` in training, like :func:`jaxgan.models.layers.batch_norm`.
  """
  num_classes: int
  axis_name: str | None = "batch"
  momentum: float = 0.9

  @nn.compact
  def __call__(self, x: jax.Array, labels: jax.Array, train: bool) -> jax.Array:
    channels = x.shape[-1]
    x = nn.BatchNorm(use_running_average=not train, momentum=self.momentum, epsilon=1e-5,
                     use_scale=False, use_bias=False, axis_name=self.axis_name if train else None)(x)
    gamma = nn.Embed(self.num_classes, channels, embedding_init=nn.initializers.zeros, name="gamma")(labels)
    beta = nn.Embed(self.num_classes, channels, embedding_init=nn.initializers.zeros, name="beta")(labels)
    expand = (slice(None),) + (None,) * (x.ndim - 2) + (slice(None),)
    return x * (1.0 + gamma[expand]) + beta[expand]


def generator_norm(num_classes: int, axis_name: str | None, train: bool
                   ) -> Callable[[jax.Array, jax.Array | None], jax.Array]:
  """A fresh normalisation layer for a generator, ``norm(x, labels) -> x``: conditional
  BatchNorm when ``num_classes > 0`` (labels required), else plain synchronised BatchNorm."""
  if num_classes > 0:
    cbn = ConditionalBatchNorm(num_classes, axis_name)
    return lambda x, labels: cbn(x, labels, train)
  bn = batch_norm(train, axis_name)
  return lambda x, labels: bn(x)


class SelfAttention(nn.Module):
  """Self-attention block of SAGAN (Zhang et al. 2019, arXiv:1805.08318, Sec. 4).

  ``x [B, H, W, C] -> x + gamma * v(softmax(f(x) g(x)^T) h(x))`` with 1x1 projections
  ``f, g, h: C -> C/8`` and ``v: C/8 -> C`` (the paper's ``C_bar = C/8``) and ``gamma``
  initialised to 0, so the block starts as the identity and learns how much non-local
  evidence to use. The attention map is ``[B, HW, HW]``. Projections are spectrally
  normalised when ``spectral_norm`` (SAGAN uses SN in G and D).
  """
  spectral_norm: bool = False

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
    b, h, w, c = x.shape
    inner = max(c // 8, 1)
    proj = lambda features, name: spectral(nn.Dense(features, use_bias=False, name=name),
                                           self.spectral_norm, train)
    flat = x.reshape((b, h * w, c))
    f, g, v = proj(inner, "f")(flat), proj(inner, "g")(flat), proj(inner, "h")(flat)
    attention = jax.nn.softmax(jnp.einsum("bic,bjc->bij", f, g), axis=-1)  # [B, HW, HW]
    o = proj(c, "v")(jnp.einsum("bij,bjc->bic", attention, v))
    gamma = self.param("gamma", nn.initializers.zeros, ())
    return x + gamma * o.reshape((b, h, w, c))


def maybe_attention(x: jax.Array, attention_res: int, spectral_norm: bool, train: bool) -> jax.Array:
  """:class:`SelfAttention` on ``x`` when its spatial size is ``attention_res``, else ``x``."""
  if attention_res and x.shape[1] == attention_res:
    return SelfAttention(spectral_norm=spectral_norm)(x, train)
  return x


def check_attention_res(attention_res: int, sizes: list[int], model: str) -> None:
  """Refuses an ``attention_res`` that none of the model's feature maps has."""
  if attention_res and attention_res not in sizes:
    raise ConfigError(f"model.attention_res={attention_res}: the {model} feature maps have "
                      f"sizes {sorted(set(sizes))}; pick one of them (or 0 for no attention).")


# ---- minibatch layers (in D, before the output layer) ------------------------------------

MINIBATCH: Registry[Callable[[], nn.Module | None]] = Registry("minibatch layer")


class MinibatchStdDev(nn.Module):
  """Minibatch standard deviation (Karras et al. 2018, ProGAN, arXiv:1710.10196, Sec. 3).

  ``x [B, ..., C] -> [B, ..., C + 1]``: the batch is split into groups of ``group_size``
  consecutive examples; within a group the standard deviation of every feature is
  averaged into one number, appended to each member as a constant extra channel. A batch
  of near-identical fakes gets a telltale small value. Groups of consecutive examples
  keep results independent of the device count while the group divides the per-device
  batch.
  """
  group_size: int = 4

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    b = x.shape[0]
    group = min(self.group_size, b)
    if b % group:
      raise ConfigError(f"minibatch stddev groups of {group} must divide the discriminator's "
                        f"per-device batch {b}; change train.batch_size or the group size.")
    grouped = x.reshape((b // group, group) + x.shape[1:])   # group j: rows j*group ...
    std = jnp.sqrt(jnp.var(grouped, axis=1) + 1e-8)            # [b/group, ...]
    stat = jnp.mean(std.reshape((b // group, -1)), axis=1)     # [b/group]
    stat = jnp.repeat(stat, group).reshape((b,) + (1,) * (x.ndim - 1))
    return jnp.concatenate([x, jnp.broadcast_to(stat, x.shape[:-1] + (1,))], axis=-1)


class MinibatchDiscrimination(nn.Module):
  """Minibatch discrimination (Salimans et al. 2016, arXiv:1606.03498, Sec. 3.2).

  ``h [B, F] -> [B, F + num_kernels]``: ``M = h T`` with ``T [F, num_kernels, kernel_dim]``;
  for each kernel ``k``, ``o(x_i)_k = sum_{j != i} exp(-||M_ik - M_jk||_1)``, the closeness
  of example ``i`` to the rest of its batch, appended to its features.
  """
  num_kernels: int = 50
  kernel_dim: int = 5

  @nn.compact
  def __call__(self, h: jax.Array) -> jax.Array:
    h = h.reshape((h.shape[0], -1))
    t = self.param("T", nn.initializers.normal(0.05), (h.shape[1], self.num_kernels * self.kernel_dim))
    m = (h @ t).reshape((h.shape[0], self.num_kernels, self.kernel_dim))
    l1 = jnp.sum(jnp.abs(m[:, None] - m[None, :]), axis=-1)  # [B, B, num_kernels]
    o = jnp.sum(jnp.exp(-l1), axis=1) - 1.0                   # minus exp(0) of i with itself
    return jnp.concatenate([h, o], axis=-1)


MINIBATCH.register("none")(lambda: None)
MINIBATCH.register("stddev")(MinibatchStdDev)
MINIBATCH.register("discrimination")(MinibatchDiscrimination)


def apply_minibatch(name: str, h: jax.Array) -> jax.Array:
  """The minibatch layer named ``name`` (``'none'``, ``'stddev'``, ``'discrimination'``) on ``h``."""
  layer = MINIBATCH.get(name)()
  return h if layer is None else layer(h)


# ---- resampling ---------------------------------------------------------------------------

def upsample2x(x: jax.Array) -> jax.Array:
  """Nearest-neighbour 2x upsampling ``[B, H, W, C] -> [B, 2H, 2W, C]`` (its gradient is a
  2x2 sum, no transposed convolution)."""
  b, h, w, c = x.shape
  return jnp.broadcast_to(x[:, :, None, :, None, :], (b, h, 2, w, 2, c)).reshape((b, 2 * h, 2 * w, c))


def avg_pool2x(x: jax.Array) -> jax.Array:
  """2x2 average pooling ``[B, H, W, C] -> [B, H/2, W/2, C]`` (H, W even)."""
  b, h, w, c = x.shape
  return jnp.mean(x.reshape((b, h // 2, 2, w // 2, 2, c)), axis=(2, 4))


def conv3x3(features: int, spectral_norm: bool, train: bool, use_bias: bool = True,
            kernel_size: int = 3) -> Callable[[jax.Array], jax.Array]:
  """A SAME-padded stride-1 :class:`Conv` (3x3 by default), spectrally normalised if asked."""
  return spectral(Conv(features, kernel_size, 1, use_bias=use_bias,
                       kernel_init=nn.initializers.xavier_uniform()), spectral_norm, train)


BASES = (4, 7)


def base_and_depth(resolution: int, bases: tuple[int, ...] = BASES, model: str = "DCGAN") -> tuple[int, int]:
  """``resolution = base * 2^depth`` with base in ``bases`` and depth >= 1."""
  for base in bases:
    depth, size = 0, resolution
    while size % 2 == 0 and size > base:
      size //= 2
      depth += 1
    if size == base and depth >= 1:
      return base, depth
  forms = " or ".join(f"{b}*2^k" for b in bases)
  raise ConfigError(f"{model} cannot produce resolution {resolution}: it must be {forms} (k >= 1).")


def feature_sizes(resolution: int, bases: tuple[int, ...] = BASES) -> list[int]:
  """Spatial sizes of the feature maps between ``base`` and ``resolution`` (for attention_res)."""
  base, depth = base_and_depth(resolution, bases)
  return [base * 2 ** i for i in range(depth + 1)]
