"""The one training step for every GAN variant, as top-level pure functions.

``train_step(gan, per_device_batch, state, batch) -> (state, metrics)`` is written for one
device and speaks to the others only through the named axis ``'batch'``
(:data:`jaxgan.parallel.AXIS`: ``lax.pmean`` of gradients, metrics and BatchNorm
statistics). :func:`make_train_step` checks the batch split and binds the static
arguments with ``functools.partial`` (as flax's ``examples/imagenet/train.py`` does);
:mod:`jaxgan.parallel` wraps the result with ``pmap`` or ``shard_map``.

Reading order: :func:`train_step` draws the step's keys and runs ``gan.n_critic`` times
:func:`d_step` (one D update: :func:`generate_batch`, :func:`d_gradients` of
:func:`d_objective`, :func:`d_update`), then :func:`g_step` (the G update:
:func:`g_objective`, :func:`g_update`). Every piece is a pure function of ``gan`` (static),
the state and arrays, so each can be run and tested alone. The module stays one file of
~430 lines (half of it docstrings) so that the step reads top to bottom in the order it runs.

Options composed here rather than chosen by name:

* ``gan.regularizer`` (every ``gan.reg_every``-th D update, weighted ``x reg_every``:
  lazy regularization, Karras et al. 2020, arXiv:1912.04958, Sec. B);
* an AC-GAN class head when D returns class logits (``gan.aux_weight``);
* ``gan.augment``: DiffAugment of every D input, real and fake;
* ``gan.ada``: adaptive discriminator augmentation of every D input with the state's
  probability ``state.ada.p``, which moves after each D update (:func:`ada_update`);
* ``gan.unrolled_steps = k``: G's loss is taken against D after ``k`` look-ahead Adam
  updates on the step's last real batch and the generated batch, differentiated
  through (``lax.scan``; Metz et al. 2017, "Unrolled GANs", arXiv:1611.02163, eq. 5).
  D itself is updated as usual; the look-ahead parameters are thrown away;
* ``gan.path_length``: StyleGAN2's path-length penalty of G (:func:`path_length_grads`,
  lazy every ``gan.g_reg_every``-th G update), its gradients added to G's;
* ``gan.reg_weight_final``: the penalty weight on a cosine (R3GAN's gamma schedule);
* ``gan.phase``: progressive growing (:mod:`jaxgan.growth`): the networks run at the phase's
  level, the fade-in alpha of ``state.step`` is put in their ``'growth'`` variables, and
  the real batch is brought to the phase's resolution;
* ``gan.compute_dtype``: mixed precision (:func:`apply_train_mode`);
* ``gan.grad_accum = m``: every D and G update averages the gradients of ``m`` equal
  microbatches of the per-device batch, computed one after the other (``lax.scan``),
  so only a microbatch's activations are live at a time. Latents, labels and
  augmentation are drawn per global row, so the update equals the one on the whole
  batch (up to float summation order) for models whose examples do not interact;
  BatchNorm statistics, minibatch layers and relativistic losses see one microbatch.
  The G update then regenerates each microbatch instead of reusing D's pass.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple

import chex
import jax
import jax.numpy as jnp
import optax
from jax import lax

from jaxgan import ada, growth
from jaxgan.augment import augment_batch
from jaxgan.regularizers import path_length_penalty
from jaxgan.errors import ConfigError
from jaxgan.latents import latents
from jaxgan.parallel import AXIS, Metrics, StepFn
from jaxgan.state import GAN, GANState, ema_beta, pack_samples, penalty_weight

REG_STREAM = 0x6E9  # folded into a D update's key for the regularizer's randomness
AUG_STREAM = 0xA06  # ... for DiffAugment of D's inputs
ADA_STREAM = 0xADA  # folded into an augmentation key for ADA's transforms
LABEL_STREAM = 0x1AB  # ... for the labels of generated samples
UNROLL_STREAM = 0x0E1  # folded into the step key for the unrolled look-ahead D updates
PL_STREAM = 0x9A7  # folded into G's key for the path-length regularizer


def _cast_floats(tree: Any, dtype: Any) -> Any:
  return jax.tree.map(lambda x: x.astype(dtype) if jnp.issubdtype(x.dtype, jnp.floating) else x, tree)


def apply_train_mode(module, params, variables, *args, dtype: Any = jnp.float32) -> tuple[Any, Any]:
  """Training-mode ``apply`` returning ``(output, updated non-param variables)``.

  Mixed precision (``dtype=jnp.bfloat16``): the float32 parameters and float inputs are
  cast to ``dtype`` for the computation, so every matmul and convolution runs in it and
  gradients flow back to the float32 parameters through the casts; outputs come back as
  float32, so losses and their reductions are float32; the other variables (BatchNorm
  statistics, which flax reduces in float32, and spectral-norm vectors) keep their dtypes.
  """
  if dtype != jnp.float32:
    params, args = _cast_floats(params, dtype), _cast_floats(args, dtype)
  if variables:
    out, new_vars = module.apply({"params": params, **variables}, *args, train=True,
                                 mutable=list(variables.keys()))
    new_vars = jax.tree.map(lambda new, old: new.astype(old.dtype), new_vars, variables)
  else:
    out, new_vars = module.apply({"params": params}, *args, train=True), variables
  return _cast_floats(out, jnp.float32), new_vars


def global_rows(per_device: int, offset: jax.Array | int = 0, count: int | None = None) -> jax.Array:
  """Indices in the global batch of this device's examples ``offset .. offset + count - 1``
  (all ``per_device`` of them by default). Under the ``'batch'`` axis."""
  count = per_device if count is None else count
  return lax.axis_index(AXIS) * per_device + offset + jnp.arange(count)


def device_latents(key: jax.Array, latent_dim: int, rows: jax.Array) -> jax.Array:
  """``[len(rows), latent_dim]`` latents for global batch rows ``rows``
  (:func:`jaxgan.latents.latents`); device ``d`` takes rows ``d * per_device ...``
  (:func:`global_rows`). One device and eight devices, or one batch and its microbatches,
  therefore see the same global batch of latents."""
  return latents(key, latent_dim, rows)


def device_labels(key: jax.Array, num_classes: int, rows: jax.Array) -> jax.Array:
  """``[len(rows)]`` int32 labels uniform over ``num_classes``, drawn per global row like
  :func:`device_latents` (from a separate stream of ``key``)."""
  key = jax.random.fold_in(key, LABEL_STREAM)
  return jax.vmap(lambda i: jax.random.randint(jax.random.fold_in(key, i), (), 0, num_classes))(rows)


def class_loss(class_logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Mean softmax cross-entropy of an AC-GAN head (Odena et al. 2017, eqs. 2-3)."""
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(class_logits, labels))


def _tree_mean(trees: list[Any]) -> Any:
  return jax.tree.map(lambda *xs: sum(xs) / len(xs), *trees)


class Generated(NamedTuple):
  """A generated batch kept for G's update: ``fake [n, *shape]``, its labels (or None),
  the VJP of G in its parameters, G's updated variables and the batch's global rows."""
  fake: jax.Array
  labels: jax.Array | None
  g_vjp: Callable | None
  g_vars: Any
  rows: jax.Array


# ---- the discriminator's side ------------------------------------------------------------

def ada_p(state: GANState) -> jax.Array | None:
  """ADA's augmentation probability in ``state`` (None without ADA)."""
  return None if state.ada is None else state.ada.p


def discriminate(gan: GAN, d_params, d_vars, x: jax.Array, labels, key: jax.Array, rows: jax.Array,
                 aug_p: jax.Array | None = None):
  """D in training mode on augmented ``x [n, *shape]`` (global rows ``rows``; DiffAugment,
  then ADA with probability ``aug_p``) -> ``(logits [n / pack], class logits [.., K] or None, vars)``."""
  x = augment_batch(x, key, gan.augment, rows[0])
  if gan.ada is not None:
    x = ada.augment_batch(x, jax.random.fold_in(key, ADA_STREAM), aug_p, gan.ada.pipeline, rows[0])
  out, d_vars = apply_train_mode(gan.discriminator, d_params, d_vars, pack_samples(x, gan.pack), labels,
                                 dtype=gan.compute_dtype)
  logits, class_logits = out if isinstance(out, tuple) else (out, None)
  chex.assert_shape(logits, (x.shape[0] // gan.pack,))
  return logits, class_logits, d_vars


def generate_batch(gan: GAN, g_params, g_vars, key: jax.Array, rows: jax.Array, keep_vjp: bool):
  """``(fake [n, *shape], labels or None, vjp of G in its params or None, G's vars)`` for
  global rows ``rows [n]``: latents and (class-conditional GANs) labels drawn per row."""
  n = rows.shape[0]
  z = device_latents(key, gan.latent_dim, rows)
  chex.assert_shape(z, (n, gan.latent_dim))
  labels = device_labels(key, gan.num_classes, rows) if gan.num_classes > 0 else None
  apply = lambda p: apply_train_mode(gan.generator, p, g_vars, z, labels, dtype=gan.compute_dtype)
  if keep_vjp:
    fake, g_vjp, g_vars = jax.vjp(apply, g_params, has_aux=True)
  else:
    (fake, g_vars), g_vjp = apply(g_params), None
  chex.assert_shape(fake, (n,) + gan.spec.shape)
  return fake, labels, g_vjp, g_vars


def d_penalty(gan: GAN, d_params, d_vars, real, real_labels, fake, key, update_index, rows,
              aug_p=None) -> jax.Array:
  """The regularizer's penalty (x reg_every on every reg_every-th update; always when
  ``update_index`` is None). D sees the real batch's labels (and its augmentations)."""
  d_fn = lambda x: discriminate(gan, d_params, d_vars, x, real_labels, jax.random.fold_in(key, AUG_STREAM),
                                rows, aug_p)[0]
  value = lambda: gan.regularizer.penalty(d_fn, real, fake, key)
  if gan.reg_every == 1 or update_index is None:
    return value()
  return lax.cond(update_index % gan.reg_every == 0, lambda: gan.reg_every * value(),
                  lambda: jnp.zeros((), real.dtype))


def d_objective(d_params, gan: GAN, d_vars, real, real_labels, fake, fake_labels, key, update_index, rows,
                aug_p=None):
  """D's loss on one real and one generated batch: GAN loss + penalty (+ AC-GAN term),
  as ``(loss, (D's vars, metrics))``; differentiated in ``d_params``. ``aug_p``: ADA's
  probability (with ADA the metrics hold ``d_real_sign``, the batch's mean sign of D(real)).

  Augmentation draws per global example (no device index in its key); the penalty's
  randomness is per device (and per microbatch)."""
  aug_key = jax.random.fold_in(key, AUG_STREAM)
  real_logits, real_classes, d_vars = discriminate(gan, d_params, d_vars, real, real_labels,
                                                   jax.random.fold_in(aug_key, 0), rows, aug_p)
  fake_logits, fake_classes, d_vars = discriminate(gan, d_params, d_vars, fake, fake_labels,
                                                   jax.random.fold_in(aug_key, 1), rows, aug_p)
  reg_key = jax.random.fold_in(jax.random.fold_in(key, REG_STREAM), rows[0])
  reg = d_penalty(gan, d_params, d_vars, real, real_labels, fake, reg_key, update_index, rows, aug_p)
  weight = penalty_weight(gan, update_index)
  total = gan.loss.d_loss(real_logits, fake_logits) + weight * reg
  aux = {"d_penalty": reg} if gan.regularizer.uses_input_gradients else {}
  if gan.reg_weight_final >= 0:
    aux["d_penalty_weight"] = jnp.asarray(weight, jnp.float32)
  if gan.ada is not None:
    aux["d_real_sign"] = jnp.mean(jnp.sign(real_logits))
  if real_classes is not None:
    aux["d_class_loss"] = class_loss(real_classes, real_labels) + class_loss(fake_classes, fake_labels)
    total = total + gan.aux_weight * aux["d_class_loss"]
  metrics = {
      "d_loss": total,
      "d_real": jnp.mean(jax.nn.sigmoid(real_logits)),
      "d_fake": jnp.mean(jax.nn.sigmoid(fake_logits)),
  } | aux
  return total, (d_vars, metrics)


def apply_d_grads(gan: GAN, d_params, d_opt_state, grads):
  """One optimizer update of D from per-device grads (averaged over devices), clipped for WGAN."""
  grads = lax.pmean(grads, AXIS)
  updates, d_opt_state = gan.d_tx.update(grads, d_opt_state, d_params)
  d_params = optax.apply_updates(d_params, updates)
  if gan.weight_clip > 0:  # original WGAN's Lipschitz constraint (Arjovsky et al. 2017, Alg. 1)
    d_params = jax.tree.map(lambda p: jnp.clip(p, -gan.weight_clip, gan.weight_clip), d_params)
  return d_params, d_opt_state, grads


def d_gradients(gan: GAN, state: GANState, real, real_labels, fake, fake_labels, key, update_index, rows):
  """``(grads, D's vars, metrics)`` of :func:`d_objective` on one (micro)batch."""
  chex.assert_equal_shape([real, fake])
  (_, (d_vars, metrics)), grads = jax.value_and_grad(d_objective, has_aux=True)(
      state.d_params, gan, state.d_vars, real, real_labels, lax.stop_gradient(fake), fake_labels,
      key, update_index, rows, ada_p(state))
  return grads, d_vars, metrics


def d_update(gan: GAN, state: GANState, grads, d_vars, metrics, per_device_batch: int
             ) -> tuple[GANState, Metrics]:
  """Applies D's gradients (:func:`apply_d_grads`), stores D's new variables and moves ADA's
  probability (:func:`ada_update`)."""
  d_params, d_opt_state, grads = apply_d_grads(gan, state.d_params, state.d_opt_state, grads)
  metrics = metrics | {"d_grad_norm": optax.global_norm(grads)}
  state = state.replace(d_params=d_params, d_vars=d_vars, d_opt_state=d_opt_state)
  return ada_update(gan, state, metrics, per_device_batch)


def ada_update(gan: GAN, state: GANState, metrics, per_device_batch: int) -> tuple[GANState, Metrics]:
  """ADA's heuristic after a D update (:func:`jaxgan.ada.update`) on the devices' mean
  ``d_real_sign``; adds ``ada_p`` (the probability this update used) to the metrics."""
  if gan.ada is None:
    return state, metrics
  sign = lax.pmean(metrics["d_real_sign"], AXIS)
  images = per_device_batch * lax.psum(1, AXIS)
  new = ada.update(gan.ada, state.ada, sign, images)
  return state.replace(ada=new), metrics | {"ada_p": state.ada.p}


def micro_slice(x, j, micro: int):
  """Microbatch ``j`` (of ``micro`` rows) of a per-device batch, or None."""
  return None if x is None else lax.dynamic_slice_in_dim(x, j * micro, micro)


def accumulate(micro_fn, carry, accum: int):
  """Runs ``micro_fn(carry, j) -> (carry, values)`` for microbatches ``j = 0 .. accum-1``
  in order (the first one outside the scan, to give the sums their structure); returns
  the last carry and the mean of the values."""
  carry, sums = micro_fn(carry, 0)

  def body(acc, j):
    carry, sums = acc
    carry, values = micro_fn(carry, j)
    return (carry, jax.tree.map(jnp.add, sums, values)), None

  (carry, sums), _ = lax.scan(body, (carry, sums), jnp.arange(1, accum))
  return carry, jax.tree.map(lambda x: x / accum, sums)


class StepInputs(NamedTuple):
  """One step's inputs on one device: ``reals [n_critic, per_device, *shape]``, their
  ``labels [n_critic, per_device]`` (or ``n_critic`` Nones), the D updates' keys
  ``d_keys [n_critic, 2]``, G's key, and the per-device batch's global rows (whole
  batches; None with ``gan.grad_accum > 1``, where each microbatch has its own rows).

  The pieces index into them where they are used, so the traced step is the one the
  unsplit factory traced, operation for operation."""
  reals: jax.Array
  labels: Any
  d_keys: jax.Array
  g_key: jax.Array
  rows: jax.Array | None


def d_step(gan: GAN, per_device_batch: int, state: GANState, inputs: StepInputs, i: int,
           keep_generated: bool) -> tuple[GANState, Metrics, Generated | None]:
  """D update ``i`` of the step, on real batch ``inputs.reals[i]`` and a batch generated
  from ``inputs.d_keys[i]``; returns the new state, D's metrics and, with
  ``keep_generated``, the generated batch for G's update to reuse.

  With ``gan.grad_accum > 1`` each microbatch's gradients are accumulated
  (:func:`accumulate`) and nothing is kept.
  """
  reals, real_labels, d_keys, rows = inputs.reals, inputs.labels, inputs.d_keys, inputs.rows
  accum = gan.grad_accum
  if accum == 1:
    fake, fake_labels, g_vjp, g_vars = generate_batch(gan, state.g_params, state.g_vars, d_keys[i], rows,
                                                      keep_vjp=keep_generated)
    chex.assert_shape(reals[i], (per_device_batch,) + gan.spec.shape)
    grads, d_vars, metrics = d_gradients(gan, state, reals[i], real_labels[i], fake, fake_labels, d_keys[i],
                                         state.step * gan.n_critic + i, rows)
    generated = Generated(fake, fake_labels, g_vjp, g_vars, rows) if keep_generated else None
  else:
    micro = per_device_batch // accum

    def d_micro(d_vars, j):
      rows = global_rows(per_device_batch, j * micro, micro)
      fake, fake_labels, _, _ = generate_batch(gan, state.g_params, state.g_vars, d_keys[i], rows,
                                               keep_vjp=False)
      grads, d_vars, m = d_gradients(gan, state.replace(d_vars=d_vars), micro_slice(reals[i], j, micro),
                                     micro_slice(real_labels[i], j, micro), fake, fake_labels, d_keys[i],
                                     state.step * gan.n_critic + i, rows)
      return d_vars, (grads, m)

    d_vars, (grads, metrics) = accumulate(d_micro, state.d_vars, accum)
    generated = None
  state, metrics = d_update(gan, state, grads, d_vars, metrics, per_device_batch)
  return state, metrics, generated


# ---- the generator's side ----------------------------------------------------------------

def look_ahead(gan: GAN, state: GANState, real, real_labels, fake, fake_labels, key, rows):
  """D's parameters and variables after ``gan.unrolled_steps`` updates on (real, fake),
  as a differentiable function of ``fake``."""
  def body(carry, k):
    d_params, d_opt_state, d_vars = carry
    grads, (d_vars, _) = jax.grad(d_objective, has_aux=True)(
        d_params, gan, d_vars, real, real_labels, fake, fake_labels, k, None, rows, ada_p(state))
    d_params, d_opt_state, _ = apply_d_grads(gan, d_params, d_opt_state, grads)
    return (d_params, d_opt_state, d_vars), None

  keys = jax.random.split(key, gan.unrolled_steps)
  (d_params, _, d_vars), _ = lax.scan(body, (state.d_params, state.d_opt_state, state.d_vars), keys)
  return d_params, d_vars


def g_objective(gan: GAN, state: GANState, fake, fake_labels, real, real_labels, key, rows) -> jax.Array:
  """G's loss on generated ``fake`` (global rows ``rows``), against D (or its look-ahead)."""
  aug_key = jax.random.fold_in(key, AUG_STREAM)
  d_params, d_vars = state.d_params, state.d_vars
  if gan.unrolled_steps:
    d_params, d_vars = look_ahead(gan, state, real, real_labels, fake, fake_labels,
                                  jax.random.fold_in(key, UNROLL_STREAM), rows)
  fake_logits, fake_classes, _ = discriminate(gan, d_params, d_vars, fake, fake_labels,
                                              jax.random.fold_in(aug_key, 0), rows, ada_p(state))
  real_logits = None
  if gan.loss.g_uses_real:  # relativistic losses compare with D on real data (no gradient to G)
    real_logits = lax.stop_gradient(discriminate(gan, d_params, d_vars, real, real_labels,
                                                 jax.random.fold_in(aug_key, 1), rows, ada_p(state))[0])
  g_loss = gan.loss.g_loss(fake_logits, real_logits)
  if fake_classes is not None:
    g_loss = g_loss + gan.aux_weight * class_loss(fake_classes, fake_labels)
  return g_loss


def path_length_grads(gan: GAN, state: GANState, g_vars, key: jax.Array, per_device_batch: int):
  """``(grads, g_vars, metrics)`` of G's path-length penalty (``gan.path_length``), lazy: on
  every ``g_reg_every``-th G update, weighted ``g_reg_weight x g_reg_every``, zero between.
  It runs on ``batch / pl_batch_shrink`` latents of its own, drawn per global row like the
  image noise ``y`` (so 1 and 8 devices compute the same penalty), and the running mean ``pl_mean``
  in G's ``stats`` moves towards the devices' mean length after each penalty."""
  n = max(1, per_device_batch // gan.pl_batch_shrink)
  rows = global_rows(n)  # global rows 0 .. B / shrink - 1, split over the devices
  key = jax.random.fold_in(key, PL_STREAM)
  z = device_latents(key, gan.latent_dim, rows)
  pl_mean = g_vars["stats"]["pl_mean"]
  y_keys = jax.vmap(lambda r: jax.random.fold_in(jax.random.fold_in(key, 1), r))(rows)

  def penalty(g_params):
    apply_g = lambda z, **kw: gan.generator.apply({"params": g_params, **g_vars}, z, None, train=False, **kw)
    return path_length_penalty(apply_g, z, y_keys, pl_mean)

  def regularize():
    (value, length), grads = jax.value_and_grad(penalty, has_aux=True)(state.g_params)
    scale = gan.g_reg_weight * gan.g_reg_every
    return jax.tree.map(lambda g: g * scale, grads), value, length, jnp.ones((), jnp.float32)

  def skip():
    zeros = jax.tree.map(jnp.zeros_like, state.g_params)
    return zeros, jnp.zeros((), jnp.float32), jnp.zeros((), jnp.float32), jnp.zeros((), jnp.float32)

  grads, value, length, done = lax.cond(state.step % gan.g_reg_every == 0, regularize, skip)
  mean_length = lax.pmean(length, AXIS)
  new_mean = jnp.where(done > 0, pl_mean + gan.pl_decay * (mean_length - pl_mean), pl_mean)
  g_vars = {**g_vars, "stats": {**g_vars["stats"], "pl_mean": new_mean.astype(pl_mean.dtype)}}
  return grads, g_vars, {"g_pl_penalty": value, "pl_mean": new_mean}


def g_update(gan: GAN, state: GANState, grads, g_vars, g_loss) -> tuple[GANState, Metrics]:
  """Applies G's gradients (averaged over devices) and updates the EMA generator."""
  grads = lax.pmean(grads, AXIS)
  updates, g_opt_state = gan.g_tx.update(grads, state.g_opt_state, state.g_params)
  g_params = optax.apply_updates(state.g_params, updates)
  ema = state.ema_params
  if ema is not None:
    ema = optax.incremental_update(g_params, ema, step_size=1.0 - ema_beta(gan, state.step))
  state = state.replace(g_params=g_params, g_vars=g_vars, g_opt_state=g_opt_state, ema_params=ema)
  return state, {"g_loss": g_loss, "g_grad_norm": optax.global_norm(grads)}


def g_step(gan: GAN, per_device_batch: int, state: GANState, inputs: StepInputs,
           generated: Generated | None) -> tuple[GANState, Metrics]:
  """The G update against the real batch of the step's last D update.

  With ``generated`` (whole batches) it reuses the batch generated for that D update (G's
  parameters have not changed since): the forward pass was taken with :func:`jax.vjp`, so
  G's update only runs D forward and backward on it and pulls the gradient back through
  the saved pass -- the same computation as generating a fresh batch from those latents,
  without the second generator forward pass (Radford et al.'s reference implementation
  does the same). Without it (``grad_accum > 1``) each microbatch is regenerated from
  the last D update's key and the gradients are accumulated.
  """
  reals, real_labels, g_key = inputs.reals, inputs.labels, inputs.g_key
  if generated is not None:
    g_loss, d_fake = jax.value_and_grad(g_objective, argnums=2)(
        gan, state, generated.fake, generated.labels, reals[-1], real_labels[-1], g_key, generated.rows)
    (grads,) = generated.g_vjp(d_fake)
    return regularized_g_update(gan, per_device_batch, state, grads, generated.g_vars, g_loss, g_key)

  accum = gan.grad_accum
  micro = per_device_batch // accum

  def g_micro(g_vars, j):
    rows = global_rows(per_device_batch, j * micro, micro)

    def loss_of_params(g_params):
      fake, fake_labels, _, new_vars = generate_batch(gan, g_params, g_vars, inputs.d_keys[-1], rows,
                                                      keep_vjp=False)
      return g_objective(gan, state, fake, fake_labels, micro_slice(reals[-1], j, micro),
                         micro_slice(real_labels[-1], j, micro), g_key, rows), new_vars

    (g_loss, g_vars), grads = jax.value_and_grad(loss_of_params, has_aux=True)(state.g_params)
    return g_vars, (grads, g_loss)

  g_vars, (grads, g_loss) = accumulate(g_micro, state.g_vars, accum)
  return regularized_g_update(gan, per_device_batch, state, grads, g_vars, g_loss, g_key)


def regularized_g_update(gan: GAN, per_device_batch: int, state: GANState, grads, g_vars, g_loss,
                         key: jax.Array) -> tuple[GANState, Metrics]:
  """:func:`g_update` with G's regularizer's gradients added (none, or :func:`path_length_grads`)."""
  if not gan.path_length:
    return g_update(gan, state, grads, g_vars, g_loss)
  pl_grads, g_vars, pl_metrics = path_length_grads(gan, state, g_vars, key, per_device_batch)
  grads = jax.tree.map(jnp.add, grads, pl_grads)
  state, metrics = g_update(gan, state, grads, g_vars, g_loss)
  return state, metrics | pl_metrics


# ---- the step ----------------------------------------------------------------------------

def train_step(gan: GAN, per_device_batch: int, state: GANState,
               batch: dict[str, jax.Array]) -> tuple[GANState, Metrics]:
  """``gan.n_critic`` D updates (:func:`d_step`), then one G update (:func:`g_step`).

  Args:
    gan: modules, optimizers, loss and options (static).
    per_device_batch: examples per device per update.
    state: this device's copy of the state.
    batch: ``{'x': [n_critic, per_device, *shape] float32, 'label': [n_critic, per_device]}``.

  Each D update draws its own latents (and, for class-conditional GANs, uniform labels)
  from its own key and reads its own real minibatch. Run under a ``'batch'`` named axis.
  """
  shape, conditional = gan.spec.shape, gan.num_classes > 0
  chex.assert_shape(batch["x"], (gan.n_critic, per_device_batch) + shape)
  chex.assert_type(batch["x"], jnp.float32)
  if gan.phase is not None:  # progressive growing: this phase's alpha, and reals at its resolution
    alpha = growth.alpha(gan.phase, state.step)
    g_vars, d_vars = growth.with_alpha(state.g_vars, state.d_vars, alpha)
    state = state.replace(g_vars=g_vars, d_vars=d_vars)
    batch = {**batch, "x": growth.process_reals(batch["x"], gan.phase, alpha)}
  real_labels = batch["label"] if conditional else [None] * gan.n_critic
  if conditional:
    chex.assert_shape(real_labels, (gan.n_critic, per_device_batch))
  step_key = jax.random.fold_in(state.rng, state.step)
  d_keys = jax.random.split(jax.random.fold_in(step_key, 1), gan.n_critic)
  g_key = jax.random.fold_in(step_key, 2)
  rows = global_rows(per_device_batch) if gan.grad_accum == 1 else None
  inputs = StepInputs(batch["x"], real_labels, d_keys, g_key, rows)
  d_metrics, generated = [], None
  # A Python loop (unrolled at trace time), not lax.scan: on XLA:CPU the convolutions
  # inside a while loop ran ~12x slower (DCGAN-16 step: 700 ms with scan, 56 ms
  # unrolled), and n_critic is a small static number.
  for i in range(gan.n_critic):
    last = i == gan.n_critic - 1
    state, metrics, generated = d_step(gan, per_device_batch, state, inputs, i,
                                       keep_generated=last and gan.grad_accum == 1)
    d_metrics.append(metrics)
  state, g_metrics = g_step(gan, per_device_batch, state, inputs, generated)
  metrics = _tree_mean(d_metrics) | g_metrics
  return state.replace(step=state.step + 1), lax.pmean(metrics, AXIS)


def check_batch_split(gan: GAN, per_device_batch: int) -> None:
  """Refuses per-device batches that ``gan.grad_accum`` or ``gan.pack`` cannot split."""
  accum = gan.grad_accum
  if per_device_batch % accum:
    raise ConfigError(f"train.grad_accum={accum} must divide the per-device batch {per_device_batch}.")
  micro = per_device_batch // accum
  if micro % gan.pack:
    what = (f"per-device batch {micro}" if accum == 1 else
            f"microbatch of {micro} ({per_device_batch} per device / train.grad_accum={accum})")
    raise ConfigError(f"model.pack={gan.pack} must divide the {what}.")
  if accum > 1 and gan.unrolled_steps:
    raise ConfigError("train.grad_accum > 1 cannot be combined with train.unrolled_steps (the "
                      "look-ahead differentiates through D updates on the whole batch).")


def make_train_step(gan: GAN, per_device_batch: int) -> StepFn:
  """:func:`train_step` bound to ``gan`` and ``per_device_batch``: ``step(state, batch)``,
  after checking that the batch splits (:func:`check_batch_split`)."""
  check_batch_split(gan, per_device_batch)
  return functools.partial(train_step, gan, per_device_batch)
