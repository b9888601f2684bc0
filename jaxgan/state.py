"""The training state pytree and the static pieces (modules, optimizers, loss) that act on it."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, Iterator

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import ml_collections
import optax

from jaxgan import ada, augment, growth, losses, models, regularizers
from jaxgan.errors import ConfigError
from jaxgan.latents import latents
from jaxgan.spec import DataSpec
from jaxgan.registry import Registry

PyTree = Any


@flax.struct.dataclass
class GANState:
  """Everything that changes during training, as one pytree (checkpointed whole).

  Attributes:
    step: int32 scalar, generator updates done.
    rng: the run's root PRNG key (uint32 [2]); each step folds in ``step``.
    g_params, d_params: parameters.
    g_vars, d_vars: other variable collections (BatchNorm ``batch_stats``), maybe empty.
    g_opt_state, d_opt_state: optax states of the two optimizers.
    ema_params: exponential moving average of ``g_params``, or ``None`` when disabled.
    ada: ADA's augmentation probability and its running statistics
      (:class:`jaxgan.ada.AdaState`), or ``None`` without ADA.
  """
  step: jax.Array
  rng: jax.Array
  g_params: PyTree
  d_params: PyTree
  g_vars: PyTree
  d_vars: PyTree
  g_opt_state: PyTree
  d_opt_state: PyTree
  ema_params: PyTree | None
  ada: ada.AdaState | None = None


@dataclasses.dataclass(frozen=True)
class GAN:
  """The static half of a GAN: modules, optimizers and settings that are not arrays."""
  generator: nn.Module
  discriminator: nn.Module
  g_tx: optax.GradientTransformation
  d_tx: optax.GradientTransformation
  loss: losses.GANLoss
  regularizer: regularizers.Regularizer
  reg_weight: float
  weight_clip: float  # > 0: D's parameters are clipped to [-c, c] after each update
  pack: int  # PacGAN: D sees packs of this many samples stacked on the last axis
  spec: DataSpec
  latent_dim: int
  n_critic: int
  ema_decay: float
  num_classes: int = 0        # > 0: class-conditional G and D (labels drawn for fakes)
  aux_weight: float = 1.0     # AC-GAN classification loss weight (used when D has a class head)
  reg_every: int = 1          # lazy regularization interval (Karras et al. 2020)
  unrolled_steps: int = 0     # unrolled GAN look-ahead D updates (Metz et al. 2017)
  augment: tuple[str, ...] = ()  # DiffAugment policy (jaxgan.augment)
  compute_dtype: Any = jnp.float32  # dtype of G's and D's arithmetic (parameters stay float32)
  grad_accum: int = 1         # microbatches per update (gradient accumulation)
  reg_weight_final: float = -1.0  # >= 0: the penalty weight anneals to it (cosine_anneal)
  anneal_d_updates: int = 1   # D updates over which it anneals
  path_length: bool = False   # path-length regularization of G (StyleGAN2)
  g_reg_weight: float = 2.0
  g_reg_every: int = 4
  pl_batch_shrink: int = 2
  pl_decay: float = 0.01
  ada: ada.AdaSettings | None = None  # adaptive discriminator augmentation (jaxgan.ada)
  growth: growth.Growth | None = None  # progressive growing's schedule (jaxgan.growth)
  ema_half_life: float = 0.0  # > 0: the EMA's half-life in images (replaces ema_decay; see ema_beta)
  ema_rampup: float = 0.0     # > 0: the half-life is at most ema_rampup x the images seen
  batch_images: int = 0       # images per G update (the global batch), for the EMA's half-life
  phase: growth.Phase | None = None    # the phase this GAN's networks are cloned for (see at_phase)

  @property
  def uses_ema(self) -> bool:
    """An EMA generator is kept: a decay per step or a half-life in images is set."""
    return self.ema_decay > 0 or self.ema_half_life > 0


def ema_beta(gan: GAN, step: jax.Array) -> jax.Array | float:
  """The EMA's decay for G update ``step`` (0-based): ``gan.ema_decay``, or from a half-life
  of ``h`` images (StyleGAN2, Karras et al. 2020, App. B: 10k images; its reference's
  ``ema_kimg``) ``0.5 ** (batch / h)``, with ``ema_rampup = r`` the half-life
  ``min(h, r x images seen)`` (StyleGAN2-ADA's ``ema_rampup``: 0 at the start, so the EMA
  follows G closely while G moves fast)."""
  if gan.ema_half_life <= 0:
    return gan.ema_decay
  half_life = jnp.float32(gan.ema_half_life)
  if gan.ema_rampup > 0:
    seen = jnp.asarray(step, jnp.float32) * gan.batch_images
    half_life = jnp.minimum(half_life, seen * gan.ema_rampup)
  return 0.5 ** (gan.batch_images / jnp.maximum(half_life, 1e-8))


def penalty_weight(gan: GAN, update_index: jax.Array | None) -> jax.Array | float:
  """The penalty weight at D update ``update_index``: ``gan.reg_weight``, or with
  ``reg_weight_final >= 0`` the cosine from it to the final weight (R3GAN's gamma schedule).
  ``None`` (an unrolled look-ahead update) reads the start weight."""
  if gan.reg_weight_final < 0 or update_index is None:
    return gan.reg_weight
  return cosine_anneal(gan.reg_weight, gan.reg_weight_final, gan.anneal_d_updates)(update_index)


# Arithmetic of G and D in training (``config.dtype``); parameters, optimizer states and
# loss reductions stay float32 (mixed precision, see jaxgan.step.apply_train_mode).
COMPUTE_DTYPES: Registry[Any] = Registry("compute dtype")
COMPUTE_DTYPES.register("float32")(jnp.float32)
COMPUTE_DTYPES.register("bfloat16")(jnp.bfloat16)

def cosine_anneal(start: float, final: float, updates: int) -> optax.Schedule:
  """``t -> final + (start - final) * (1 + cos(pi * min(t, updates) / updates)) / 2``:
  ``start`` at update 0, ``final`` from update ``updates`` on (up or down). The schedules of
  R3GAN's reference configs (Huang et al. 2024, learning rate, gamma and Adam's beta2)."""
  updates = max(int(updates), 1)

  def schedule(count):
    frac = jnp.minimum(jnp.asarray(count, jnp.float32), updates) / updates
    return final + (start - final) * 0.5 * (1.0 + jnp.cos(jnp.pi * frac))
  return schedule


# (lr, updates, final lr) -> schedule over the optimizer's own update count.
LR_SCHEDULES: Registry[Callable[[float, int, float], optax.Schedule]] = Registry("learning-rate schedule")
LR_SCHEDULES.register("constant")(lambda lr, updates, final=0.0: optax.constant_schedule(lr))
# Linear decay to zero over the run: settles G and D at the end of training (used e.g. by
# Gulrajani et al. 2017, WGAN-GP, and Brock et al. 2019 ablations).
LR_SCHEDULES.register("linear_decay")(lambda lr, updates, final=0.0: optax.linear_schedule(lr, 0.0, updates))
# Cosine from lr to the final lr (train.g_lr_final / d_lr_final) over train.anneal_steps (R3GAN).
LR_SCHEDULES.register("cosine")(lambda lr, updates, final=0.0: cosine_anneal(lr, final, updates))


def burda_stages(lr: float, updates: int, final: float = 0.0, stages: int = 8) -> optax.Schedule:
  """Burda, Grosse & Salakhutdinov 2016 ("Importance Weighted Autoencoders", Sec. 5): stage
  ``i = 0 .. 7`` lasts ``3^i`` passes at ``lr * 10^(-i/7)`` (3,280 passes in all). Here the
  stages are those fractions of ``updates`` (stage ``i`` from update
  ``updates * (3^i - 1) / 2 / 3,280`` on), so ``train.steps`` of 3,280 passes is the paper's
  schedule and a shorter run is the same schedule compressed; ``final`` is unused."""
  del final
  total = sum(3 ** i for i in range(stages))
  starts = jnp.asarray([updates * (3 ** i - 1) / 2 / total for i in range(1, stages)], jnp.float32)

  def schedule(count):
    stage = jnp.sum(jnp.asarray(count, jnp.float32) >= starts)
    return lr * 10.0 ** (-stage.astype(jnp.float32) / 7.0)
  return schedule


# Burda et al. 2016's staged decay (VAE/IWAE training on MNIST), in fractions of the run.
LR_SCHEDULES.register("burda_stages")(burda_stages)


def scale_by_adam_annealed(b1: float, b2: optax.Schedule, eps: float = 1e-8,
                           eps_root: float = 0.0) -> optax.GradientTransformation:
  """``optax.scale_by_adam`` with ``beta2`` on a schedule of the update count (R3GAN anneals
  it from 0.9 to 0.99). The state is optax's own ``ScaleByAdamState``, so checkpoints of the
  annealed and the plain Adam have one structure. Bias correction uses the current beta2,
  ``nu / (1 - b2_t^t)``, as ``torch.optim.Adam`` does when its betas change between steps."""
  plain = optax.scale_by_adam(b1=b1, b2=0.999, eps=eps, eps_root=eps_root)

  def update(updates, state, params=None):
    del params
    count = optax.safe_int32_increment(state.count)
    beta2 = b2(state.count)
    mu = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, state.mu, updates)
    nu = jax.tree.map(lambda v, g: beta2 * v + (1 - beta2) * g * g, state.nu, updates)
    t = count.astype(jnp.float32)
    mu_hat = jax.tree.map(lambda m: m / (1 - b1 ** t), mu)
    nu_hat = jax.tree.map(lambda v: v / (1 - beta2 ** t), nu)
    out = jax.tree.map(lambda m, v: m / (jnp.sqrt(v + eps_root) + eps), mu_hat, nu_hat)
    return out, optax.ScaleByAdamState(count=count, mu=mu, nu=nu)

  return optax.GradientTransformation(plain.init, update)


def adam(lr: optax.Schedule, b1: float, b2: float, b2_final: float, anneal_updates: int,
         eps_root: float = 0.0) -> optax.GradientTransformation:
  """Adam; with ``b2_final >= 0`` its beta2 moves from ``b2`` to ``b2_final`` on a cosine over
  ``anneal_updates`` updates (:func:`scale_by_adam_annealed`)."""
  if b2_final < 0:
    return optax.adam(lr, b1=b1, b2=b2, eps_root=eps_root)
  return optax.chain(scale_by_adam_annealed(b1, cosine_anneal(b2, b2_final, anneal_updates), eps_root=eps_root),
                     optax.scale_by_learning_rate(lr))


def anneal_updates(train: ml_collections.ConfigDict) -> int:
  """G updates over which the cosine schedules run: ``train.anneal_steps``, 0 -> ``train.steps``."""
  return int(train.anneal_steps or train.steps)


def lr_schedules(train: ml_collections.ConfigDict) -> tuple[optax.Schedule, optax.Schedule]:
  """G's and D's learning rates as schedules of their own update counts: ``train.lr_schedule``
  over ``train.steps`` G updates (``cosine``: over :func:`anneal_updates`, to ``g_lr_final``)
  and ``n_critic`` times as many D updates."""
  schedule = LR_SCHEDULES.get(train.lr_schedule)
  g_updates = anneal_updates(train) if train.lr_schedule == "cosine" else train.steps
  return (schedule(train.g_lr, g_updates, train.g_lr_final),
          schedule(train.d_lr, g_updates * train.n_critic, train.d_lr_final))


def build_gan(config: ml_collections.ConfigDict, spec: DataSpec) -> GAN:
  """Modules, two Adam optimizers (two time-scale: own learning rates and betas) and the loss.

  The learning-rate schedule ``train.lr_schedule`` runs over the optimizer's own update
  count: ``train.steps`` for G and ``train.steps * train.n_critic`` for D. Every schedule,
  constant included, is passed as a callable, so the optimizer state has the same
  structure whatever the schedule and a run may resume with another one.
  """
  t = config.train
  regularizer = regularizers.REGULARIZERS.get(config.loss.regularizer)
  if regularizer.uses_input_gradients and models.discriminator_has_batch_norm(config.model):
    raise ConfigError(f"loss.regularizer={config.loss.regularizer!r} penalises per-example input "
                      "gradients, which BatchNorm in D couples across the batch; set "
                      f"model.{config.model.discriminator}.use_batchnorm=False (as WGAN-GP's critic does).")
  reg_weight = regularizer.default_weight if config.loss.reg_weight < 0 else config.loss.reg_weight
  path_length = config.loss.g_regularizer == "path_length"
  if path_length and not models.networks(config.model)[0].styles:
    raise ConfigError(f"loss.g_regularizer='path_length' differentiates the synthesis network in its styles; "
                      f"generator {config.model.generator!r} has no mapping network (use 'stylegan2').")
  # Unrolled GANs differentiate through D's Adam updates: eps_root keeps the square root of
  # the second moment differentiable where a gradient entry is exactly zero.
  d_eps_root = 1e-8 if t.unrolled_steps else 0.0
  g_lr, d_lr = lr_schedules(t)
  return GAN(
      generator=models.build_generator(config.model, spec),
      discriminator=models.build_discriminator(config.model, spec),
      g_tx=adam(g_lr, t.g_beta1, t.g_beta2, t.g_beta2_final,
                anneal_updates(t)),
      d_tx=adam(d_lr, t.d_beta1, t.d_beta2, t.d_beta2_final,
                anneal_updates(t) * t.n_critic, eps_root=d_eps_root),
      loss=losses.LOSSES.get(config.loss.name),
      regularizer=regularizer,
      reg_weight=float(reg_weight),
      reg_weight_final=float(config.loss.reg_weight_final),
      anneal_d_updates=anneal_updates(t) * t.n_critic,
      path_length=path_length,
      g_reg_weight=float(config.loss.g_reg_weight),
      g_reg_every=int(config.loss.g_reg_every),
      pl_batch_shrink=int(config.loss.pl_batch_shrink),
      pl_decay=float(config.loss.pl_decay),
      weight_clip=float(config.loss.weight_clip),
      pack=int(config.model.pack),
      spec=spec,
      latent_dim=config.model.latent_dim,
      n_critic=t.n_critic,
      ema_decay=t.ema_decay,
      ema_half_life=float(t.ema_kimg) * 1000,
      ema_rampup=float(t.ema_rampup),
      batch_images=int(t.batch_size),
      num_classes=spec.num_classes if models.conditioning.is_conditional(config.model) else 0,
      aux_weight=float(config.loss.aux_weight),
      reg_every=int(config.loss.reg_every),
      unrolled_steps=int(t.unrolled_steps),
      augment=augment.check_policy(t.augment, spec.kind),
      ada=ada.settings_from_config(t, spec.kind, spec.shape[-1]),
      growth=_growth(config, spec),
      compute_dtype=COMPUTE_DTYPES.get(config.dtype),
      grad_accum=int(t.grad_accum),
  )


def _growth(config: ml_collections.ConfigDict, spec: DataSpec) -> growth.Growth | None:
  """``train.grow_from``'s schedule, refused for networks that cannot grow."""
  if not config.train.grow_from:
    return None
  g, d = models.networks(config.model)
  if spec.kind != "image" or not (g.grows and d.grows):
    raise ConfigError(f"train.grow_from={config.train.grow_from} grows the networks progressively; generator "
                      f"{config.model.generator!r} and discriminator {config.model.discriminator!r} cannot "
                      "grow (use model.generator = model.discriminator = 'progan', or train.grow_from=0).")
  return growth.from_config(config.train, spec.shape[0])


def at_phase(gan: GAN, phase: growth.Phase) -> GAN:
  """``gan`` with both networks at ``phase``'s level and fade (cached: one object per
  phase, so its compiled step and sampler are reused)."""
  key = (id(gan), phase)
  entry = _PHASE_CACHE.get(key)
  if entry is None or entry[0] is not gan:
    clone = lambda net: net.clone(level=phase.level, fading=phase.fading)
    entry = (gan, dataclasses.replace(gan, generator=clone(gan.generator),
                                      discriminator=clone(gan.discriminator), phase=phase))
    _PHASE_CACHE[key] = entry
  return entry[1]


def at_step(gan: GAN, step: int) -> GAN:
  """The GAN that train step ``step`` runs (``gan`` itself without progressive growing)."""
  return gan if gan.growth is None else at_phase(gan, gan.growth.phase_at(step))


def sampling_view(gan: GAN, state: GANState) -> tuple[GAN, GANState]:
  """``(gan, state)`` at the state's phase, with the fade-in alpha its next step would use
  (``gan`` itself without progressive growing, or when it is already at a phase). The phase
  is read from the state's step on the host: call it outside ``jit`` (as
  :mod:`jaxgan.exporting` does before tracing)."""
  if gan.growth is None or gan.phase is not None:
    return gan, state
  if isinstance(state.step, jax.core.Tracer):
    raise ValueError("sampling a growing GAN inside jit: apply jaxgan.state.sampling_view to the concrete "
                     "state first (the phase is a static choice made from the step)")
  step = int(np.asarray(state.step).reshape(-1)[0])
  phased = at_step(gan, step)
  g_vars, d_vars = growth.with_alpha(state.g_vars, state.d_vars, growth.alpha(phased.phase, step))
  return phased, state.replace(g_vars=g_vars, d_vars=d_vars)


def packed_shape(shape: tuple[int, ...], pack: int) -> tuple[int, ...]:
  """One D input for ``pack`` samples of ``shape``: the samples stacked on the last axis."""
  return tuple(shape[:-1]) + (shape[-1] * pack,)


def pack_samples(x: jax.Array, pack: int) -> jax.Array:
  """PacGAN packing (Lin et al. 2018, arXiv:1712.04086): ``[B, *shape] -> [B/m, *packed_shape]``.

  Consecutive samples ``m*j .. m*j + m-1`` form pack ``j``; their last axes (channels, or
  coordinates of points) are concatenated, so one D sees ``m`` samples at once.
  """
  if pack == 1:
    return x
  b, shape = x.shape[0], x.shape[1:]
  x = jnp.moveaxis(x.reshape((b // pack, pack) + shape), 1, -2)  # [B/m, ..., m, C]
  return x.reshape((b // pack,) + packed_shape(shape, pack))


def split_variables(variables: PyTree) -> tuple[PyTree, PyTree]:
  variables = dict(variables)
  params = variables.pop("params")
  return params, variables


def create_state(gan: GAN, seed: int) -> GANState:
  """Initialises parameters (on the host's default device) from ``seed``.

  One compiled computation: initialising op by op compiles every op on its own (10-20 s
  for a 32x32 DCGAN or ResNet on a 2-core CPU, against 4-6 s compiled whole), compiled
  once per ``gan`` (the members of a many-seed run reuse it).
  """
  return _jitted_init(gan)(jax.random.PRNGKey(seed))


def _init_state(gan: GAN, root: jax.Array) -> GANState:
  g_key, d_key = jax.random.split(jax.random.fold_in(root, 0x5EED))
  z = jnp.zeros((2, gan.latent_dim), jnp.float32)
  x = jnp.zeros((2,) + packed_shape(gan.spec.shape, gan.pack), jnp.float32)
  labels = jnp.zeros((2,), jnp.int32)
  # Initialise in inference mode so BatchNorm needs no named device axis outside pmap.
  g_params, g_vars = split_variables(gan.generator.init(g_key, z, labels, train=False))
  d_params, d_vars = split_variables(gan.discriminator.init(d_key, x, labels, train=False))
  return GANState(
      step=jnp.zeros((), jnp.int32),
      rng=root,
      g_params=g_params,
      d_params=d_params,
      g_vars=g_vars,
      d_vars=d_vars,
      g_opt_state=gan.g_tx.init(g_params),
      d_opt_state=gan.d_tx.init(d_params),
      ema_params=jax.tree.map(jnp.copy, g_params) if gan.uses_ema else None,
      ada=ada.init_state(gan.ada) if gan.ada is not None else None,
  )


def sampling_params(state: GANState) -> PyTree:
  """EMA parameters when the run keeps them, else the live generator parameters."""
  return state.ema_params if state.ema_params is not None else state.g_params


def generate(gan: GAN, params: PyTree, g_vars: PyTree, z: jax.Array,
             labels: jax.Array | None = None) -> jax.Array:
  """Inference-mode generator: ``z [N, latent] -> x [N, *shape]`` (BatchNorm running stats)."""
  return gan.generator.apply({"params": params, **g_vars}, z, labels, train=False)


def class_labels(num_classes: int, num: int, label: int | None, data_name: str,
                 unconditional_hint: str) -> np.ndarray | None:
  """Labels for ``num`` samples of a model over ``num_classes`` classes (0: unconditional):
  all ``label`` when given, else ``0, 1, ..., K-1, 0, 1, ...`` (every class equally often);
  ``None`` when unconditional, where a ``label`` is refused with ``unconditional_hint``."""
  if num_classes == 0:
    if label is not None:
      raise ConfigError(f"{unconditional_hint}; sample it without a label.")
    return None
  if label is not None:
    if not 0 <= label < num_classes:
      raise ConfigError(f"label {label} is out of range: {data_name} has classes 0..{num_classes - 1}.")
    return np.full((num,), label, np.int32)
  return (np.arange(num) % num_classes).astype(np.int32)


def sample_labels(gan: GAN, num: int, label: int | None = None) -> np.ndarray | None:
  """:func:`class_labels` of a class-conditional GAN (``None`` when unconditional)."""
  return class_labels(gan.num_classes, num, label, gan.spec.name,
                      "this GAN is not class-conditional (model.g_conditioning='none')")


def iter_samples(gan: GAN, state: GANState, num: int, seed: int, chunk: int = 500,
                 label: int | None = None) -> Iterator[np.ndarray]:
  """``num`` samples from fixed latents of ``seed``, yielded as host numpy chunks ``[<=chunk, *shape]``.

  Uses the EMA generator when the run keeps one. Latent ``i`` comes from
  ``fold_in(PRNGKey(seed), i)``, so the first 64 samples are the same whatever ``num``
  is: a fixed latent batch that shows progress over training. Class-conditional GANs get
  the labels of :func:`sample_labels` (one class, or all classes in turn). Images are
  clipped to [-1, 1].
  """
  params, g_vars = sampling_params(state), state.g_vars
  key = jax.random.PRNGKey(seed)
  gen = _jitted_generate(gan)
  labels = sample_labels(gan, num, label)
  for start in range(0, num, chunk):
    rows = jnp.arange(start, min(start + chunk, num))
    z = latents(key, gan.latent_dim, rows)
    x = np.asarray(gen(params, g_vars, z, None if labels is None else labels[start:start + chunk]))
    # Generators without a final tanh (StyleGAN2, R3GAN) can step outside [-1, 1]; samples
    # are clipped to the image range, as the reference implementations clamp when they
    # quantize to uint8 for pictures and metrics.
    yield np.clip(x, -1.0, 1.0) if gan.spec.kind == "image" else x


def generate_samples(gan: GAN, state: GANState, num: int, seed: int, chunk: int = 500,
                     label: int | None = None) -> np.ndarray:
  """All of :func:`iter_samples` as one array ``[num, *shape]``."""
  return np.concatenate(list(iter_samples(gan, state, num, seed, chunk, label)))


def _jitted_init(gan: GAN):
  return _cached(_INIT_CACHE, gan, lambda: jax.jit(functools.partial(_init_state, gan)))


def _cached(cache: dict, gan: GAN, make):
  entry = cache.get(id(gan))
  if entry is None or entry[0] is not gan:
    entry = (gan, make())
    cache[id(gan)] = entry
  return entry[1]


# id(gan) -> (gan, jitted init / generate). Holding the GAN itself keeps its id from being
# reused by another object while the entry exists.
_GENERATE_CACHE: dict[int, tuple[GAN, Any]] = {}
_INIT_CACHE: dict[int, tuple[GAN, Any]] = {}
_PHASE_CACHE: dict[tuple[int, growth.Phase], tuple[GAN, GAN]] = {}


def _jitted_generate(gan: GAN):
  return _cached(_GENERATE_CACHE, gan, lambda: jax.jit(lambda p, v, z, labels: generate(gan, p, v, z, labels)))
