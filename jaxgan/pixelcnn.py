"""The autoregressive PixelCNN as a :class:`jaxgan.method.Method` (``config.method = 'pixelcnn'``).

``log p(x) = sum_i log p(x_i | x_<i)`` over pixels in raster order, each factor the pixel
likelihood (:mod:`jaxgan.likelihoods`: Bernoulli for binarized MNIST, a 256-way softmax
for 8-bit data) of the gated PixelCNN's output at that pixel
(:class:`jaxgan.models.pixelcnn.GatedPixelCNN`; van den Oord et al. 2016, arXiv:1606.05328).
Training maximises it exactly (one network pass gives every factor); the metric
``nll_exact`` reports it on held-out images in nats and bits per dimension (anchor: 81.30
nats on binarized MNIST for PixelCNN, van den Oord et al. 2016, "Pixel Recurrent Neural
Networks", arXiv:1601.06759, Table 4).

Sampling is ancestral, one ``lax.fori_loop`` over the rows and one over each row's pixels:
the vertical stack once per row, the horizontal stack on that row alone per pixel (see
:func:`draw`), and a draw of one pixel (key ``fold_in(fold_in(PRNGKey(seed), sample index),
pixel index)``, so a sample does not depend on the batch it is drawn in).
``pixelcnn.conditional`` makes it class-conditional (labels of the data set).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Iterator

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from jax import lax

from jaxgan import likelihoods
from jaxgan.errors import ConfigError
from jaxgan.explicit import ExplicitState, cached, estimator
from jaxgan.method import Method
from jaxgan.models.pixelcnn import GatedPixelCNN
from jaxgan.parallel import AXIS, Metrics, StepFn
from jaxgan.spec import DataSpec
from jaxgan.state import LR_SCHEDULES, class_labels
from jaxgan.step import global_rows

PyTree = Any
BINARIZE_STREAM = 0xB1  # folded into a step's key for the binarization of its batch


@dataclasses.dataclass(frozen=True)
class PixelCNN:
  """The static half: the network, optimizer, likelihood and options."""
  network: GatedPixelCNN
  tx: optax.GradientTransformation
  likelihood: likelihoods.PixelLikelihood
  binarization: likelihoods.Binarization
  spec: DataSpec
  num_classes: int
  likelihood_name: str
  binarize_name: str


def build_pixelcnn(config: ml_collections.ConfigDict, spec: DataSpec) -> PixelCNN:
  c = config.pixelcnn
  if spec.kind != "image" or len(spec.shape) != 3:
    raise ConfigError(f"method 'pixelcnn' models images; {spec.name!r} holds {spec.kind}.")
  if spec.shape[-1] != 1:
    raise ConfigError(f"method 'pixelcnn' models one-channel images (its pixel order has no order over "
                      f"the channels of a pixel); {spec.name} has {spec.shape[-1]} channels: set data.channels=1.")
  likelihoods.check_pair(c.likelihood, c.binarize, "pixelcnn")
  for key in ("channels", "first_kernel", "kernel", "head"):
    if c[key] < 1:
      raise ConfigError(f"pixelcnn.{key} must be >= 1, got {c[key]}")
  if c.layers < 0:
    raise ConfigError(f"pixelcnn.layers must be >= 0, got {c.layers}")
  if c.first_kernel < 2:
    raise ConfigError(f"pixelcnn.first_kernel must be >= 2 (a 1x1 first layer would see no earlier pixel), "
                      f"got {c.first_kernel}")
  if not (c.lr > 0 and math.isfinite(c.lr)):
    raise ConfigError(f"pixelcnn.lr must be a finite number > 0, got {c.lr}")
  if c.conditional and not spec.num_classes:
    raise ConfigError(f"pixelcnn.conditional needs labels, and {spec.name!r} has none.")
  likelihood = likelihoods.PIXEL_LIKELIHOODS.get(c.likelihood)
  num_classes = spec.num_classes if c.conditional else 0
  network = GatedPixelCNN(out_channels=spec.shape[-1] * likelihood.params_per_channel, channels=c.channels,
                          layers=c.layers, first_kernel=c.first_kernel, kernel=c.kernel, head=c.head,
                          num_classes=num_classes)
  schedule = LR_SCHEDULES.get(c.lr_schedule)(c.lr, config.train.steps, 0.0)
  return PixelCNN(network=network, tx=optax.adam(schedule, b1=c.beta1, b2=c.beta2), likelihood=likelihood,
                  binarization=likelihoods.BINARIZATIONS.get(c.binarize), spec=spec, num_classes=num_classes,
                  likelihood_name=c.likelihood, binarize_name=c.binarize)


def create_state(model: PixelCNN, seed: int) -> ExplicitState:
  return cached("init", model, lambda: jax.jit(functools.partial(_init_state, model)))(jax.random.PRNGKey(seed))


def _init_state(model: PixelCNN, root: jax.Array) -> ExplicitState:
  x = jnp.zeros((2,) + model.spec.shape, jnp.float32)
  labels = jnp.zeros((2,), jnp.int32) if model.num_classes else None
  params = model.network.init(jax.random.fold_in(root, 0x5EED), x, labels)["params"]
  return ExplicitState(step=jnp.zeros((), jnp.int32), rng=root, params=params, opt_state=model.tx.init(params))


def network_input(model: PixelCNN, target: jax.Array) -> jax.Array:
  """Binary targets as ``{-1, 1}`` images, grey levels as they are."""
  return 2.0 * target - 1.0 if model.binarization.binary else target


def log_likelihood(model: PixelCNN, params: PyTree, target: jax.Array, labels: jax.Array | None) -> jax.Array:
  """``[N]`` exact ``log p(x)`` in nats: every pixel's factor from one network pass."""
  out = model.network.apply({"params": params}, network_input(model, target), labels)
  return model.likelihood.log_prob(out, target)


def train_step(model: PixelCNN, per_device_batch: int, state: ExplicitState,
               batch: dict[str, jax.Array]) -> tuple[ExplicitState, Metrics]:
  """One Adam update on the mean negative log-likelihood of the global batch.

  Args:
    batch: ``{'x': [1, per_device, *shape] float32 in [-1, 1], 'label': [1, per_device]}``.

  Metrics: ``nll`` (nats per image), ``bits_per_dim`` and ``grad_norm``. Run under the
  ``'batch'`` named axis.
  """
  chex.assert_shape(batch["x"], (1, per_device_batch) + model.spec.shape)
  key = jax.random.fold_in(state.rng, state.step)
  rows = global_rows(per_device_batch)
  target = likelihoods.binarize_rows(model.binarization, jax.random.fold_in(key, BINARIZE_STREAM),
                                     batch["x"][0], rows)
  labels = batch["label"][0] if model.num_classes else None

  def loss_fn(params):
    return -jnp.mean(log_likelihood(model, params, target, labels))

  nll, grads = jax.value_and_grad(loss_fn)(state.params)
  grads = lax.pmean(grads, AXIS)
  updates, opt_state = model.tx.update(grads, state.opt_state, state.params)
  params = optax.apply_updates(state.params, updates)
  dims = int(np.prod(model.spec.shape))
  metrics = {"nll": nll, "bits_per_dim": nll / (dims * math.log(2)), "grad_norm": optax.global_norm(grads)}
  return (state.replace(step=state.step + 1, params=params, opt_state=opt_state), lax.pmean(metrics, AXIS))


def make_train_step(model: PixelCNN, per_device_batch: int) -> StepFn:
  return functools.partial(train_step, model, per_device_batch)


def _exact(model: PixelCNN, params: PyTree, target: jax.Array, rows: jax.Array) -> jax.Array:
  if model.num_classes:
    raise ConfigError("nll_exact of a class-conditional PixelCNN needs the images' labels; "
                      "it is measured on unconditional models.")
  return cached("exact", model, lambda: jax.jit(
      lambda p, t: log_likelihood(model, p, t, None)))(params, target)


ESTIMATORS = {"exact": estimator("exact", _exact, batch=lambda model: 250,
                                 facts=lambda model: {"order": "raster, one channel"})}
"""The exact log-likelihood (metric ``nll_exact``)."""


def sample_labels(model: PixelCNN, num: int, label: int | None = None) -> np.ndarray | None:
  """:func:`jaxgan.state.class_labels` of a class-conditional PixelCNN (``None`` when unconditional)."""
  return class_labels(model.num_classes, num, label, model.spec.name,
                      "this PixelCNN is not class-conditional (pixelcnn.conditional=False)")


def draw(model: PixelCNN, params: PyTree, seed_key: jax.Array, rows: jax.Array,
         labels: jax.Array | None) -> jax.Array:
  """Ancestral sampling of ``len(rows)`` images ``[N, *shape]`` in [-1, 1], pixel by pixel.

  Row by row: for row ``i`` the vertical stack runs once over the image drawn so far (its
  links into row ``i`` read rows ``< i`` only), then for each pixel ``j`` the horizontal
  stack and the head run on row ``i`` alone (``GatedPixelCNN(stage='links' / 'rows')``):
  about ``2 H`` full-network passes instead of ``H * W``, the same logits as a full pass
  per pixel up to float rounding (tested). Pixel ``(i, j)`` is drawn with key
  ``fold_in(fold_in(seed_key, row), i * W + j)``.
  """
  height, width, channels = model.spec.shape
  n = rows.shape[0]
  keys = jax.vmap(lambda r: jax.random.fold_in(seed_key, r))(rows)
  apply = lambda x, **kw: model.network.apply({"params": params}, x, labels, **kw)

  def row_body(i, x):
    links = [lax.dynamic_slice_in_dim(link, i, 1, axis=1) for link in apply(x, stage="links")]

    def pixel_body(j, x_row):
      out = apply(x_row, stage="rows", links=links)  # [N, 1, W, out]
      at = lax.dynamic_slice(out, (0, 0, j, 0), (n, 1, 1, out.shape[-1]))
      pos = i * width + j
      pixel = jax.vmap(lambda k, o: model.likelihood.sample(jax.random.fold_in(k, pos), o[None])[0])(keys, at)
      return lax.dynamic_update_slice(x_row, pixel, (0, 0, j, 0))

    x_row = lax.fori_loop(0, width, pixel_body, jnp.zeros((n, 1, width, channels), jnp.float32))
    return lax.dynamic_update_slice(x, x_row, (0, i, 0, 0))

  return lax.fori_loop(0, height, row_body, jnp.zeros((n, height, width, channels), jnp.float32))


def iter_samples(model: PixelCNN, state: ExplicitState, num: int, seed: int, label: int | None = None,
                 chunk: int = 100) -> Iterator[np.ndarray]:
  labels = sample_labels(model, num, label)
  fn = cached("draw", model, lambda: jax.jit(functools.partial(draw, model)))
  key = jax.random.PRNGKey(seed)
  for start in range(0, num, chunk):
    rows = jnp.arange(start, min(start + chunk, num))
    yield np.asarray(fn(state.params, key, rows, None if labels is None else jnp.asarray(labels[start:start + chunk])))


def _generate(model: PixelCNN, state: ExplicitState, z, labels=None):
  raise ConfigError("a PixelCNN has no latent code to decode: its samples come from ancestral sampling "
                    "(python -m jaxgan.sample, Run.samples).")


def _describe(config: ml_collections.ConfigDict, spec: DataSpec) -> str:
  c = config.pixelcnn
  return (f"gated PixelCNN ({1 + c.layers} blocks of {c.channels} channels) on {spec.name} {spec.shape}, "
          f"{c.likelihood} pixels, binarize {c.binarize}" + (", class-conditional" if c.conditional else ""))


METHOD = Method(
    build=build_pixelcnn,
    init_state=create_state,
    make_step=make_train_step,
    batches_per_step=lambda model: 1,
    sample=lambda model, state, num, seed, label=None: iter_samples(model, state, num, seed, label),
    sample_labels=sample_labels,
    generate=_generate,
    sampler_source=lambda state: {"sampler": "ancestral sampling, pixel by pixel"},
    describe=_describe,
    estimators=ESTIMATORS,
)
