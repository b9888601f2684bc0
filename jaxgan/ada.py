"""Adaptive discriminator augmentation (ADA: Karras, Aittala, Hellsten, Laine, Lehtinen &
Aila 2020, "Training Generative Adversarial Networks with Limited Data", arXiv:2006.06676).

Every image D sees -- real and generated, in D's updates, G's update and the penalties --
goes through one pipeline of transforms (:data:`TRANSFORMS`), each applied to an image
with probability ``p`` (the same ``p`` for all of them). ``p`` is part of the training state
(:class:`AdaState`) and moves with the overfitting heuristic of the paper's Sec. 3
(eq. 1, ``r_t = E[sign(D(real))]``): every ``interval`` D updates,
``p <- max(0, p + sign(r_t - target) * images / (kimg * 1000))``, where ``r_t`` is the mean
over those updates' real batches and ``images`` the real images they saw; so ``p`` can go
from 0 to 1 in ``kimg`` thousand images. The reference settings are target 0.6,
interval 4 and 500 kimg (the paper's Sec. 3 and Appendix C).

Transforms, their order and their parameters are those of the paper's Appendix B (the
``bgc`` pipeline: blit, geometric, colour), drawn per image:

* blit: ``xflip`` (mirror, prob. p/2 effectively), ``rotate90`` (k x 90 degrees), ``xint``
  (integer translation up to 1/8 of the side);
* geometric: ``scale`` (isotropic, log2-normal std 0.2), ``rotate`` (uniform angle, applied
  before and after ``aniso`` each with probability ``1 - sqrt(1 - p)``), ``aniso``
  (anisotropic, log2-normal std 0.2), ``xfrac`` (fractional translation, normal std 1/8 of
  the side);
* colour: ``brightness`` (+N(0, 0.2)), ``contrast`` (x 2^N(0, 0.5)), ``lumaflip``
  (Householder reflection of the luma axis), ``hue`` (rotation about the luma axis, uniform
  angle), ``saturation`` (x 2^N(0, 1) off the luma axis); ``hue`` and ``saturation`` leave
  one-channel images alone, as the reference does.

The blit and geometric transforms compose into one affine map of pixel centres (output
pixel -> input position) applied once; the colour ones into one 4x4 matrix on ``[r, g, b, 1]``
applied once. Difference from the reference, stated: the affine map is resampled by
bilinear interpolation with mirror (reflect) boundaries at the image's own resolution,
where the reference upsamples 2x with a sym6 wavelet filter, samples bilinearly and
downsamples (less aliasing under rotation and scaling). Transforms that land on pixel
centres (``xflip``, ``rotate90``, ``xint``) are exact either way. Images are in [-1, 1].
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import flax
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxgan.augment import row_keys
from jaxgan.errors import ConfigError
from jaxgan.registry import Registry


@dataclasses.dataclass(frozen=True)
class Transform:
  """One transform of the pipeline.

  ``draw(key, p, height, width) -> matrix``: this image's matrix (3x3 inverse pixel map for
  ``kind='geometric'``, 4x4 colour map for ``'color'``), the identity with probability ``1 - p``.
  ``order``: its place in the composition (the paper's order); ``gray``: whether it acts on
  one-channel images; ``part_of``: the user-facing transform that switches it on (the
  rotation after ``aniso`` belongs to ``rotate``).
  """
  kind: str
  draw: Callable[[jax.Array, jax.Array, int, int], jax.Array]
  order: int
  gray: bool = True
  part_of: str = ""


TRANSFORMS: Registry[Transform] = Registry("ADA transform")
PIPELINES: Registry[tuple[str, ...]] = Registry("ADA pipeline")


@flax.struct.dataclass
class AdaState:
  """ADA's part of the training state: ``p`` (float32 scalar), and the sum and count of
  ``r_t`` estimates (one per D update) since ``p`` last moved."""
  p: jax.Array
  sign_sum: jax.Array
  sign_count: jax.Array


@dataclasses.dataclass(frozen=True)
class AdaSettings:
  """The static ADA options (``train.ada_*``). ``target <= 0``: ``p`` stays at its start value."""
  pipeline: tuple[str, ...]
  p_init: float = 0.0
  target: float = 0.6
  interval: int = 4
  kimg: float = 500.0

  @property
  def adaptive(self) -> bool:
    return self.target > 0


# ---- matrices ---------------------------------------------------------------------------

def _m3(rows) -> jax.Array:
  return jnp.stack([jnp.stack([jnp.asarray(v, jnp.float32) for v in r]) for r in rows])


def scale2d(sx, sy) -> jax.Array:
  return _m3([[sx, 0, 0], [0, sy, 0], [0, 0, 1]])


def translate2d(tx, ty) -> jax.Array:
  return _m3([[1, 0, tx], [0, 1, ty], [0, 0, 1]])


def rotate2d(theta=None, cos=None, sin=None) -> jax.Array:
  c = jnp.cos(theta) if cos is None else cos
  s = jnp.sin(theta) if sin is None else sin
  return _m3([[c, -s, 0], [s, c, 0], [0, 0, 1]])


# Luma axis in [r, g, b, 1] (numpy: importing jaxgan must not start a JAX backend before
# jax.distributed.initialize in multi-process runs).
LUMA = np.asarray([1.0, 1.0, 1.0, 0.0], np.float32) / np.float32(math.sqrt(3.0))


def translate3d(t) -> jax.Array:
  return jnp.eye(4).at[:3, 3].set(t)


def rotate3d(v: jax.Array, theta) -> jax.Array:
  """Rotation by ``theta`` about the unit axis ``v[:3]`` (Rodrigues), homogeneous 4x4."""
  x, y, z = v[0], v[1], v[2]
  c, s = jnp.cos(theta), jnp.sin(theta)
  cc = 1 - c
  r = jnp.stack([jnp.stack([x * x * cc + c, x * y * cc - z * s, x * z * cc + y * s]),
                 jnp.stack([y * x * cc + z * s, y * y * cc + c, y * z * cc - x * s]),
                 jnp.stack([z * x * cc - y * s, z * y * cc + x * s, z * z * cc + c])])
  return jnp.eye(4).at[:3, :3].set(r)


def _pick(key: jax.Array, prob, matrix: jax.Array, identity: jax.Array) -> jax.Array:
  """``matrix`` with probability ``prob`` (decided by ``key``), else ``identity``."""
  return jnp.where(jax.random.uniform(key) < prob, matrix, identity)


def _rotation_prob(p) -> jax.Array:
  """Probability of each of the two rotations so that at least one happens with ``p``."""
  return 1.0 - jnp.sqrt(jnp.clip(1.0 - p, 0.0, 1.0))


# ---- transforms (draw functions) ---------------------------------------------------------
# Each gets (key, p, height, width); keys: fold_in 0 decides whether it applies, 1 draws it.

def _transform(kind: str, name: str, order: int, **kw):
  """Decorator: registers a draw function as transform ``name`` of ``kind``."""
  def register(draw):
    TRANSFORMS.register(name)(Transform(kind, draw, order, **kw))
    return draw
  return register


def _geometric(name: str, order: int, **kw):
  return _transform("geometric", name, order, **kw)


def _color(name: str, order: int, **kw):
  return _transform("color", name, order, **kw)


@_geometric("xflip", 0)
def _xflip(key, p, h, w):
  flip = jax.random.randint(jax.random.fold_in(key, 1), (), 0, 2)
  return _pick(jax.random.fold_in(key, 0), p, scale2d(1 - 2 * flip, 1), jnp.eye(3))


@_geometric("rotate90", 1)
def _rotate90(key, p, h, w):
  k = jax.random.randint(jax.random.fold_in(key, 1), (), 0, 4)
  # Exact cosines and sines of k x 90 degrees, so the map lands on pixel centres.
  cos, sin = jnp.asarray([1.0, 0.0, -1.0, 0.0])[k], jnp.asarray([0.0, 1.0, 0.0, -1.0])[k]
  return _pick(jax.random.fold_in(key, 0), p, rotate2d(cos=cos, sin=sin), jnp.eye(3))


@_geometric("xint", 2)
def _xint(key, p, h, w, max_frac: float = 0.125):
  t = (jax.random.uniform(jax.random.fold_in(key, 1), (2,)) * 2 - 1) * max_frac
  return _pick(jax.random.fold_in(key, 0), p, translate2d(-jnp.round(t[0] * w), -jnp.round(t[1] * h)),
               jnp.eye(3))


@_geometric("scale", 3)
def _scale(key, p, h, w, std: float = 0.2):
  s = jnp.exp2(jax.random.normal(jax.random.fold_in(key, 1)) * std)
  return _pick(jax.random.fold_in(key, 0), p, scale2d(1 / s, 1 / s), jnp.eye(3))


# One draw function, registered twice: before aniso ("rotate") and after it.
@_geometric("rotate_after_aniso", 6, part_of="rotate")
@_geometric("rotate", 4)
def _rotation(key, p, h, w, max_frac: float = 1.0):
  theta = (jax.random.uniform(jax.random.fold_in(key, 1)) * 2 - 1) * math.pi * max_frac
  return _pick(jax.random.fold_in(key, 0), _rotation_prob(p), rotate2d(theta), jnp.eye(3))


@_geometric("aniso", 5)
def _aniso(key, p, h, w, std: float = 0.2):
  s = jnp.exp2(jax.random.normal(jax.random.fold_in(key, 1)) * std)
  return _pick(jax.random.fold_in(key, 0), p, scale2d(1 / s, s), jnp.eye(3))


@_geometric("xfrac", 7)
def _xfrac(key, p, h, w, std: float = 0.125):
  t = jax.random.normal(jax.random.fold_in(key, 1), (2,)) * std
  return _pick(jax.random.fold_in(key, 0), p, translate2d(-t[0] * w, -t[1] * h), jnp.eye(3))


@_color("brightness", 8)
def _brightness(key, p, h, w, std: float = 0.2):
  b = jax.random.normal(jax.random.fold_in(key, 1)) * std
  return _pick(jax.random.fold_in(key, 0), p, translate3d(jnp.stack([b, b, b])), jnp.eye(4))


@_color("contrast", 9)
def _contrast(key, p, h, w, std: float = 0.5):
  c = jnp.exp2(jax.random.normal(jax.random.fold_in(key, 1)) * std)
  return _pick(jax.random.fold_in(key, 0), p, jnp.diag(jnp.stack([c, c, c, jnp.ones(())])), jnp.eye(4))


@_color("lumaflip", 10)
def _lumaflip(key, p, h, w):
  flip = jax.random.randint(jax.random.fold_in(key, 1), (), 0, 2).astype(jnp.float32)
  return _pick(jax.random.fold_in(key, 0), p, jnp.eye(4) - 2 * jnp.outer(LUMA, LUMA) * flip, jnp.eye(4))


@_color("hue", 11, gray=False)
def _hue(key, p, h, w, max_frac: float = 1.0):
  theta = (jax.random.uniform(jax.random.fold_in(key, 1)) * 2 - 1) * math.pi * max_frac
  return _pick(jax.random.fold_in(key, 0), p, rotate3d(LUMA, theta), jnp.eye(4))


@_color("saturation", 12, gray=False)
def _saturation(key, p, h, w, std: float = 1.0):
  s = jnp.exp2(jax.random.normal(jax.random.fold_in(key, 1)) * std)
  vv = jnp.outer(LUMA, LUMA)
  return _pick(jax.random.fold_in(key, 0), p, vv + (jnp.eye(4) - vv) * s, jnp.eye(4))


PIPELINES.register("bgc")(("xflip", "rotate90", "xint", "scale", "rotate", "aniso", "xfrac",
                           "brightness", "contrast", "lumaflip", "hue", "saturation"))
PIPELINES.register("bg")(("xflip", "rotate90", "xint", "scale", "rotate", "aniso", "xfrac"))
PIPELINES.register("blit")(("xflip", "rotate90", "xint"))
PIPELINES.register("color")(("brightness", "contrast", "lumaflip", "hue", "saturation"))


def parse_pipeline(spec: str) -> tuple[str, ...]:
  """``'bgc'`` (a name in :data:`PIPELINES`) or a comma list of transforms -> the enabled
  transforms' registry names in composition order (``rotate`` brings its second half)."""
  spec = spec.strip()
  if not spec:
    return ()
  names = PIPELINES.get(spec) if spec in PIPELINES else tuple(n.strip() for n in spec.split(",") if n.strip())
  for name in names:
    if TRANSFORMS.get(name).part_of:
      raise ConfigError(f"ADA transform {name!r} is switched on by {TRANSFORMS.get(name).part_of!r}; "
                        "name that one.")
  wanted = set(names)
  return tuple(sorted((n for n in TRANSFORMS if n in wanted or TRANSFORMS.get(n).part_of in wanted),
                      key=lambda n: TRANSFORMS.get(n).order))


def settings_from_config(train: ml_collections.ConfigDict, data_kind: str,
                         channels: int) -> AdaSettings | None:
  """The run's :class:`AdaSettings` (None when ``train.ada_pipeline`` is empty), checked."""
  pipeline = parse_pipeline(train.ada_pipeline)
  if not pipeline:
    return None
  if data_kind != "image":
    raise ConfigError(f"train.ada_pipeline={train.ada_pipeline!r}: ADA transforms images, but the data are "
                      f"{data_kind}; set train.ada_pipeline=''.")
  if channels not in (1, 3):
    raise ConfigError(f"ADA's colour transforms act on 1- or 3-channel images; the data have {channels} "
                      "channels. Use a geometric pipeline (train.ada_pipeline='bg').")
  if not 0.0 <= train.ada_p <= 1.0:
    raise ConfigError(f"train.ada_p={train.ada_p} is a probability: choose it in [0, 1].")
  if train.ada_interval < 1 or train.ada_kimg <= 0:
    raise ConfigError(f"train.ada_interval={train.ada_interval} must be >= 1 and train.ada_kimg="
                      f"{train.ada_kimg} > 0.")
  if train.ada_target >= 1:
    raise ConfigError(f"train.ada_target={train.ada_target}: r_t = E[sign(D(real))] is at most 1; the "
                      "paper's target is 0.6 (0 keeps p fixed at train.ada_p).")
  return AdaSettings(pipeline, float(train.ada_p), float(train.ada_target), int(train.ada_interval),
                     float(train.ada_kimg))


def init_state(settings: AdaSettings) -> AdaState:
  return AdaState(p=jnp.asarray(settings.p_init, jnp.float32), sign_sum=jnp.zeros((), jnp.float32),
                  sign_count=jnp.zeros((), jnp.int32))


# ---- applying the pipeline ----------------------------------------------------------------

def image_matrices(key: jax.Array, p, pipeline: tuple[str, ...], height: int, width: int,
                   channels: int) -> tuple[jax.Array, jax.Array]:
  """One image's ``(G_inv [3, 3], C [4, 4])``: the composed inverse pixel map (output pixel
  centre -> input position, in pixel units about the image centre) and colour map.
  Transform ``name`` draws from ``fold_in(key, its order)``, so enabling one does not
  change the draws of the others."""
  g_inv, color = jnp.eye(3), jnp.eye(4)
  for name in pipeline:
    t = TRANSFORMS.get(name)
    if channels == 1 and not t.gray:
      continue
    m = t.draw(jax.random.fold_in(key, t.order), p, height, width)
    if t.kind == "geometric":
      g_inv = g_inv @ m
    else:
      color = m @ color
  return g_inv, color


def _reflect(i: jax.Array, n: int) -> jax.Array:
  """Integer index ``i`` mirrored into ``0 .. n-1`` about the edge pixels (``... 2 1 | 0 1 2 ...``)."""
  if n == 1:
    return jnp.zeros_like(i)
  period = 2 * (n - 1)
  i = jnp.mod(i, period)
  return jnp.where(i > n - 1, period - i, i)


def warp(image: jax.Array, g_inv: jax.Array) -> jax.Array:
  """``image [H, W, C]`` resampled at ``g_inv @ (output pixel centre)``: bilinear, mirror boundaries."""
  h, w, _ = image.shape
  cy, cx = (h - 1) / 2, (w - 1) / 2
  ys, xs = jnp.meshgrid(jnp.arange(h, dtype=jnp.float32) - cy, jnp.arange(w, dtype=jnp.float32) - cx,
                        indexing="ij")
  src = jnp.einsum("ij,jhw->ihw", g_inv, jnp.stack([xs, ys, jnp.ones_like(xs)]))
  x, y = src[0] + cx, src[1] + cy
  # Positions within 1e-4 of a pixel centre are snapped to it, so exact maps stay exact.
  x = jnp.where(jnp.abs(x - jnp.round(x)) < 1e-4, jnp.round(x), x)
  y = jnp.where(jnp.abs(y - jnp.round(y)) < 1e-4, jnp.round(y), y)
  x0, y0 = jnp.floor(x), jnp.floor(y)
  fx, fy = (x - x0)[..., None], (y - y0)[..., None]
  x0, y0 = x0.astype(jnp.int32), y0.astype(jnp.int32)
  xa, xb = _reflect(x0, w), _reflect(x0 + 1, w)
  ya, yb = _reflect(y0, h), _reflect(y0 + 1, h)
  top = image[ya, xa] * (1 - fx) + image[ya, xb] * fx
  bottom = image[yb, xa] * (1 - fx) + image[yb, xb] * fx
  return (top * (1 - fy) + bottom * fy).astype(image.dtype)


def recolor(image: jax.Array, color: jax.Array) -> jax.Array:
  """``color [4, 4]`` on ``image [H, W, C]``: ``C[:3, :3] rgb + C[:3, 3]`` for 3 channels; for
  one channel the mean row of ``C[:3]`` (gain: sum of its first three entries, offset: the last)."""
  if image.shape[-1] == 3:
    return (image @ color[:3, :3].T + color[:3, 3]).astype(image.dtype)
  row = jnp.mean(color[:3], axis=0)
  return (image * jnp.sum(row[:3]) + row[3]).astype(image.dtype)


def augment_image(image: jax.Array, key: jax.Array, p, pipeline: tuple[str, ...]) -> jax.Array:
  """The pipeline on one image ``[H, W, C]`` with probability ``p`` per transform."""
  h, w, c = image.shape
  g_inv, color = image_matrices(key, p, pipeline, h, w, c)
  if any(TRANSFORMS.get(n).kind == "geometric" for n in pipeline):
    image = warp(image, g_inv)
  if any(TRANSFORMS.get(n).kind == "color" and (c == 3 or TRANSFORMS.get(n).gray) for n in pipeline):
    image = recolor(image, color)
  return image


def augment_batch(x: jax.Array, key: jax.Array, p, pipeline: tuple[str, ...],
                  first_row: jax.Array | int = 0) -> jax.Array:
  """The pipeline on ``x [B, H, W, C]``; example ``i`` draws from ``fold_in(key, first_row + i)``
  (``first_row``: its place in the global batch), so a run does not depend on the device count."""
  if not pipeline:
    return x
  keys = row_keys(key, first_row, x.shape[0])
  return jax.vmap(lambda image, k: augment_image(image, k, p, pipeline))(x, keys)


def update(settings: AdaSettings, state: AdaState, real_sign: jax.Array, images: int) -> AdaState:
  """``state`` after one D update whose real batch (``images`` images, all devices) had mean
  ``sign(D(real))`` ``real_sign``: every ``settings.interval`` updates ``p`` moves by
  ``sign(r_t - target) * interval * images / (kimg * 1000)`` (floored at 0, as the
  reference implementation does) and the running sum restarts."""
  if not settings.adaptive:
    return state
  total = state.sign_sum + real_sign.astype(jnp.float32)
  count = state.sign_count + 1
  due = count >= settings.interval
  r_t = total / count.astype(jnp.float32)
  step = jnp.sign(r_t - settings.target) * (settings.interval * images) / (settings.kimg * 1000.0)
  return AdaState(p=jnp.where(due, jnp.maximum(state.p + step, 0.0), state.p).astype(jnp.float32),
                  sign_sum=jnp.where(due, 0.0, total).astype(jnp.float32),
                  sign_count=jnp.where(due, 0, count).astype(jnp.int32))

