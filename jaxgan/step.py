"""The one training step for every GAN variant, and its data-parallel wrappers.

``train_step(state, batch) -> (state, metrics)`` is written for one device and speaks to
the others only through the named axis ``'batch'`` (``lax.pmean`` of gradients, metrics
and BatchNorm statistics). :data:`PARALLEL` wraps it with ``jax.pmap`` or with
``jax.shard_map`` over a 1-D mesh; both take and return the state with a leading device
axis, so the loop, checkpoints and tests do not care which is used.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxgan.augment import augment_batch
from jaxgan.errors import ConfigError
from jaxgan.registry import Registry
from jaxgan.state import GAN, GANState, pack_samples

AXIS = "batch"
REG_STREAM = 0x6E9  # folded into a D update's key for the regularizer's randomness
AUG_STREAM = 0xA06  # ... for DiffAugment of D's inputs
LABEL_STREAM = 0x1AB  # ... for the labels of generated samples
UNROLL_STREAM = 0x0E1  # folded into the step key for the unrolled look-ahead D updates
Metrics = dict[str, jax.Array]
StepFn = Callable[[GANState, dict[str, jax.Array]], tuple[GANState, Metrics]]


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
  """``[len(rows), latent_dim]`` standard normal latents for global batch rows ``rows``.

  Latent ``i`` of the global batch is drawn from ``fold_in(key, i)``; device ``d`` takes
  rows ``d * per_device ...`` (:func:`global_rows`). One device and eight devices, or one
  batch and its microbatches, therefore see the same global batch of latents.
  """
  return jax.vmap(lambda i: jax.random.normal(jax.random.fold_in(key, i), (latent_dim,)))(rows)


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


def make_train_step(gan: GAN, per_device_batch: int) -> StepFn:
  """Builds the per-device step: ``gan.n_critic`` D updates, then one G update.

  Args:
    gan: modules, optimizers, loss and the options below.
    per_device_batch: examples per device per update.

  Each D update draws its own latents (and, for class-conditional GANs, uniform labels)
  and reads its own real minibatch. The G update reuses the batch generated for the
  last D update (G's parameters have not changed since): that forward pass is taken with
  :func:`jax.vjp`, so the G update only runs D forward and backward on it and pulls the
  gradient back through the saved pass. This is the same computation as generating a
  fresh batch from those latents, without the second generator forward pass (Radford
  et al.'s reference implementation does the same).

  Options, all composed here rather than chosen by name in the step:

  * ``gan.regularizer`` (every ``gan.reg_every``-th D update, weighted ``x reg_every``:
    lazy regularization, Karras et al. 2020, arXiv:1912.04958, Sec. B);
  * an AC-GAN class head when D returns class logits (``gan.aux_weight``);
  * ``gan.augment``: DiffAugment of every D input, real and fake;
  * ``gan.unrolled_steps = k``: G's loss is taken against D after ``k`` look-ahead Adam
    updates on the step's last real batch and the generated batch, differentiated
    through (``lax.scan``; Metz et al. 2017, "Unrolled GANs", arXiv:1611.02163, eq. 5).
    D itself is updated as usual; the look-ahead parameters are thrown away;
  * ``gan.compute_dtype``: mixed precision (:func:`apply_train_mode`);
  * ``gan.grad_accum = m``: every D and G update averages the gradients of ``m`` equal
    microbatches of the per-device batch, computed one after the other (``lax.scan``),
    so only a microbatch's activations are live at a time. Latents, labels and
    augmentation are drawn per global row, so the update equals the one on the whole
    batch (up to float summation order) for models whose examples do not interact;
    BatchNorm statistics, minibatch layers and relativistic losses see one microbatch.
    The G update then regenerates each microbatch instead of reusing D's pass.

  Returns:
    ``train_step(state, batch)`` with ``batch = {'x': [n_critic, per_device, *shape],
    'label': [n_critic, per_device]}``, to be run under a ``'batch'`` named axis.
  """
  G, D, loss = gan.generator, gan.discriminator, gan.loss
  shape = gan.spec.shape
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
  conditional = gan.num_classes > 0
  dtype = gan.compute_dtype

  def d_apply(d_params, d_vars, x, labels, key, rows):
    """D in training mode on augmented ``x [n, *shape]`` (global rows ``rows``) ->
    ``(logits [n / pack], class logits [.., K] or None, vars)``."""
    x = augment_batch(x, key, gan.augment, rows[0])
    out, d_vars = apply_train_mode(D, d_params, d_vars, pack_samples(x, gan.pack), labels, dtype=dtype)
    logits, class_logits = out if isinstance(out, tuple) else (out, None)
    chex.assert_shape(logits, (x.shape[0] // gan.pack,))
    return logits, class_logits, d_vars

  def generate(g_params, g_vars, key: jax.Array, rows: jax.Array, keep_vjp: bool):
    """``(fake [n, *shape], labels or None, vjp of G in its params or None, G's vars)`` for
    global rows ``rows [n]``."""
    n = rows.shape[0]
    z = device_latents(key, gan.latent_dim, rows)
    chex.assert_shape(z, (n, gan.latent_dim))
    labels = device_labels(key, gan.num_classes, rows) if conditional else None
    apply = lambda p: apply_train_mode(G, p, g_vars, z, labels, dtype=dtype)
    if keep_vjp:
      fake, g_vjp, g_vars = jax.vjp(apply, g_params, has_aux=True)
    else:
      (fake, g_vars), g_vjp = apply(g_params), None
    chex.assert_shape(fake, (n,) + shape)
    return fake, labels, g_vjp, g_vars

  def penalty(d_params, d_vars, real, real_labels, fake, key, update_index, rows):
    """The regularizer's penalty (x reg_every on every reg_every-th update; always when
    ``update_index`` is None). D sees the real batch's labels."""
    d_fn = lambda x: d_apply(d_params, d_vars, x, real_labels, jax.random.fold_in(key, AUG_STREAM), rows)[0]
    value = lambda: gan.regularizer.penalty(d_fn, real, fake, key)
    if gan.reg_every == 1 or update_index is None:
      return value()
    return lax.cond(update_index % gan.reg_every == 0, lambda: gan.reg_every * value(),
                    lambda: jnp.zeros((), real.dtype))

  def d_objective(d_params, d_vars, real, real_labels, fake, fake_labels, key, update_index, rows):
    """D's loss on one real and one generated batch: GAN loss + penalty (+ AC-GAN term).

    Augmentation draws per global example (no device index in its key); the penalty's
    randomness is per device (and per microbatch)."""
    aug_key = jax.random.fold_in(key, AUG_STREAM)
    real_logits, real_classes, d_vars = d_apply(d_params, d_vars, real, real_labels, jax.random.fold_in(aug_key, 0), rows)
    fake_logits, fake_classes, d_vars = d_apply(d_params, d_vars, fake, fake_labels, jax.random.fold_in(aug_key, 1), rows)
    reg_key = jax.random.fold_in(jax.random.fold_in(key, REG_STREAM), rows[0])
    reg = penalty(d_params, d_vars, real, real_labels, fake, reg_key, update_index, rows)
    total = loss.d_loss(real_logits, fake_logits) + gan.reg_weight * reg
    aux = {"d_penalty": reg} if gan.regularizer.uses_input_gradients else {}
    if real_classes is not None:
      aux["d_class_loss"] = class_loss(real_classes, real_labels) + class_loss(fake_classes, fake_labels)
      total = total + gan.aux_weight * aux["d_class_loss"]
    metrics = {
        "d_loss": total,
        "d_real": jnp.mean(jax.nn.sigmoid(real_logits)),
        "d_fake": jnp.mean(jax.nn.sigmoid(fake_logits)),
    } | aux
    return total, (d_vars, metrics)

  def apply_d_grads(d_params, d_opt_state, grads):
    """One optimizer update of D from per-device grads (averaged over devices), clipped for WGAN."""
    grads = lax.pmean(grads, AXIS)
    updates, d_opt_state = gan.d_tx.update(grads, d_opt_state, d_params)
    d_params = optax.apply_updates(d_params, updates)
    if gan.weight_clip > 0:  # original WGAN's Lipschitz constraint (Arjovsky et al. 2017, Alg. 1)
      d_params = jax.tree.map(lambda p: jnp.clip(p, -gan.weight_clip, gan.weight_clip), d_params)
    return d_params, d_opt_state, grads

  def d_grads(state: GANState, real, real_labels, fake, fake_labels, key, update_index, rows):
    """``(grads, D's vars, metrics)`` of D's objective on one (micro)batch."""
    chex.assert_equal_shape([real, fake])
    (_, (d_vars, metrics)), grads = jax.value_and_grad(d_objective, has_aux=True)(
        state.d_params, state.d_vars, real, real_labels, lax.stop_gradient(fake), fake_labels,
        key, update_index, rows)
    return grads, d_vars, metrics

  def d_update(state: GANState, grads, d_vars, metrics) -> tuple[GANState, Metrics]:
    d_params, d_opt_state, grads = apply_d_grads(state.d_params, state.d_opt_state, grads)
    metrics = metrics | {"d_grad_norm": optax.global_norm(grads)}
    return state.replace(d_params=d_params, d_vars=d_vars, d_opt_state=d_opt_state), metrics

  def look_ahead(state: GANState, real, real_labels, fake, fake_labels, key, rows):
    """D's parameters and variables after ``gan.unrolled_steps`` updates on (real, fake),
    as a differentiable function of ``fake``."""
    def body(carry, k):
      d_params, d_opt_state, d_vars = carry
      grads, (d_vars, _) = jax.grad(d_objective, has_aux=True)(
          d_params, d_vars, real, real_labels, fake, fake_labels, k, None, rows)
      d_params, d_opt_state, _ = apply_d_grads(d_params, d_opt_state, grads)
      return (d_params, d_opt_state, d_vars), None

    keys = jax.random.split(key, gan.unrolled_steps)
    (d_params, _, d_vars), _ = lax.scan(body, (state.d_params, state.d_opt_state, state.d_vars), keys)
    return d_params, d_vars

  def g_loss_of(state: GANState, fake, fake_labels, real, real_labels, key, rows):
    """G's loss on generated ``fake`` (global rows ``rows``), against D (or its look-ahead)."""
    aug_key = jax.random.fold_in(key, AUG_STREAM)
    d_params, d_vars = state.d_params, state.d_vars
    if gan.unrolled_steps:
      d_params, d_vars = look_ahead(state, real, real_labels, fake, fake_labels,
                                    jax.random.fold_in(key, UNROLL_STREAM), rows)
    fake_logits, fake_classes, _ = d_apply(d_params, d_vars, fake, fake_labels, jax.random.fold_in(aug_key, 0), rows)
    real_logits = None
    if loss.g_uses_real:  # relativistic losses compare with D on real data (no gradient to G)
      real_logits = lax.stop_gradient(
          d_apply(d_params, d_vars, real, real_labels, jax.random.fold_in(aug_key, 1), rows)[0])
    g_loss = loss.g_loss(fake_logits, real_logits)
    if fake_classes is not None:
      g_loss = g_loss + gan.aux_weight * class_loss(fake_classes, fake_labels)
    return g_loss

  def g_update(state: GANState, grads, g_vars, g_loss) -> tuple[GANState, Metrics]:
    grads = lax.pmean(grads, AXIS)
    updates, g_opt_state = gan.g_tx.update(grads, state.g_opt_state, state.g_params)
    g_params = optax.apply_updates(state.g_params, updates)
    ema = state.ema_params
    if ema is not None:
      ema = optax.incremental_update(g_params, ema, step_size=1.0 - gan.ema_decay)
    state = state.replace(g_params=g_params, g_vars=g_vars, g_opt_state=g_opt_state, ema_params=ema)
    return state, {"g_loss": g_loss, "g_grad_norm": optax.global_norm(grads)}

  def whole_batch_step(state: GANState, real_batches, real_labels, d_keys, g_key):
    """The updates on whole per-device batches (``grad_accum == 1``)."""
    rows = global_rows(per_device_batch)
    d_metrics = []
    # A Python loop (unrolled at trace time), not lax.scan: on XLA:CPU the convolutions
    # inside a while loop ran ~12x slower (DCGAN-16 step: 700 ms with scan, 56 ms
    # unrolled), and n_critic is a small static number.
    for i in range(gan.n_critic):
      last = i == gan.n_critic - 1
      fake, fake_labels, g_vjp, g_vars = generate(state.g_params, state.g_vars, d_keys[i], rows, keep_vjp=last)
      chex.assert_shape(real_batches[i], (per_device_batch,) + shape)
      grads, d_vars, m = d_grads(state, real_batches[i], real_labels[i], fake, fake_labels, d_keys[i],
                                 state.step * gan.n_critic + i, rows)
      state, m = d_update(state, grads, d_vars, m)
      d_metrics.append(m)
    g_loss, d_fake = jax.value_and_grad(g_loss_of, argnums=1)(
        state, fake, fake_labels, real_batches[-1], real_labels[-1], g_key, rows)
    (grads,) = g_vjp(d_fake)
    state, g_metrics = g_update(state, grads, g_vars, g_loss)
    return state, d_metrics, g_metrics

  def micro_slice(x, j):
    return None if x is None else lax.dynamic_slice_in_dim(x, j * micro, micro)

  def accumulate(micro_fn, carry):
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

  def accumulated_step(state: GANState, real_batches, real_labels, d_keys, g_key):
    """The updates with ``accum`` microbatches each (:func:`accumulate`)."""
    d_metrics = []
    for i in range(gan.n_critic):
      def d_micro(d_vars, j, i=i):
        rows = global_rows(per_device_batch, j * micro, micro)
        fake, fake_labels, _, _ = generate(state.g_params, state.g_vars, d_keys[i], rows, keep_vjp=False)
        grads, d_vars, m = d_grads(state.replace(d_vars=d_vars), micro_slice(real_batches[i], j),
                                   micro_slice(real_labels[i], j), fake, fake_labels, d_keys[i],
                                   state.step * gan.n_critic + i, rows)
        return d_vars, (grads, m)

      d_vars, (grads, m) = accumulate(d_micro, state.d_vars)
      state, m = d_update(state, grads, d_vars, m)
      d_metrics.append(m)

    def g_micro(g_vars, j):
      rows = global_rows(per_device_batch, j * micro, micro)

      def loss_of_params(g_params):
        fake, fake_labels, _, new_vars = generate(g_params, g_vars, d_keys[-1], rows, keep_vjp=False)
        return g_loss_of(state, fake, fake_labels, micro_slice(real_batches[-1], j),
                         micro_slice(real_labels[-1], j), g_key, rows), new_vars

      (g_loss, g_vars), grads = jax.value_and_grad(loss_of_params, has_aux=True)(state.g_params)
      return g_vars, (grads, g_loss)

    g_vars, (grads, g_loss) = accumulate(g_micro, state.g_vars)
    state, g_metrics = g_update(state, grads, g_vars, g_loss)
    return state, d_metrics, g_metrics

  def train_step(state: GANState, batch: dict[str, jax.Array]) -> tuple[GANState, Metrics]:
    chex.assert_shape(batch["x"], (gan.n_critic, per_device_batch) + shape)
    chex.assert_type(batch["x"], jnp.float32)
    real_labels = batch["label"] if conditional else [None] * gan.n_critic
    if conditional:
      chex.assert_shape(real_labels, (gan.n_critic, per_device_batch))
    step_key = jax.random.fold_in(state.rng, state.step)
    d_keys = jax.random.split(jax.random.fold_in(step_key, 1), gan.n_critic)
    run = whole_batch_step if accum == 1 else accumulated_step
    state, d_metrics, g_metrics = run(state, batch["x"], real_labels, d_keys, jax.random.fold_in(step_key, 2))
    metrics = _tree_mean(d_metrics) | g_metrics
    return state.replace(step=state.step + 1), lax.pmean(metrics, AXIS)

  return train_step


def multi_step(step_fn: StepFn, steps: int) -> StepFn:
  """``steps`` train steps per call (one host dispatch), as a ``lax.scan`` of ``step_fn``.

  The batch leaves get a leading ``[steps]`` axis (``jaxgan.data.next_step_input``); the
  metrics returned are the last step's. Same steps, same results as calling ``step_fn``
  ``steps`` times. It pays where dispatch dominates (small models, accelerators); on
  XLA:CPU convolutions inside a loop run far slower (see :func:`make_train_step`), so
  convolutional GANs on CPU keep ``steps = 1``.
  """
  if steps == 1:
    return step_fn

  def scanned(state: GANState, batches: dict[str, jax.Array]) -> tuple[GANState, Metrics]:
    state, metrics = lax.scan(step_fn, state, batches)
    return state, jax.tree.map(lambda m: m[-1], metrics)

  return scanned


# ---- data parallelism -------------------------------------------------------------------

PARALLEL: Registry[Callable[[StepFn, Sequence[jax.Device]], StepFn]] = Registry("parallel mode")


@PARALLEL.register("pmap")
def pmap_step(step_fn: StepFn, devices: Sequence[jax.Device]) -> StepFn:
  """``jax.pmap`` over ``devices`` with the state buffers donated."""
  return jax.pmap(step_fn, axis_name=AXIS, devices=list(devices), donate_argnums=(0,))


@PARALLEL.register("shard_map")
def shard_map_step(step_fn: StepFn, devices: Sequence[jax.Device]) -> StepFn:
  """``jax.shard_map`` over a 1-D mesh, same signature and layout as :func:`pmap_step`."""
  mesh = Mesh(np.asarray(devices), (AXIS,))

  def per_device(state, batch):
    squeeze = lambda tree: jax.tree.map(lambda x: x[0], tree)
    expand = lambda tree: jax.tree.map(lambda x: x[None], tree)
    new_state, metrics = step_fn(squeeze(state), squeeze(batch))
    return expand(new_state), expand(metrics)

  mapped = jax.shard_map(per_device, mesh=mesh, in_specs=PartitionSpec(AXIS),
                         out_specs=PartitionSpec(AXIS))
  return jax.jit(mapped, donate_argnums=(0,))


def device_sharding(devices: Sequence[jax.Device]) -> NamedSharding:
  """Leading axis split over ``devices``: the layout both wrappers take and return."""
  return NamedSharding(Mesh(np.asarray(devices), (AXIS,)), PartitionSpec(AXIS))


def replicate(tree: Any, devices: Sequence[jax.Device]) -> Any:
  """Host pytree -> one copy per device, stacked on a leading device axis. In a
  multi-process run every process passes the same tree and places its own devices' copies."""
  sharding = device_sharding(devices)
  n = len(devices)

  def put(x):
    stacked = np.broadcast_to(np.asarray(x), (n,) + np.shape(x))
    if jax.process_count() == 1:
      return jax.device_put(stacked, sharding)
    return jax.make_array_from_callback(stacked.shape, sharding, lambda index: stacked[index])

  return jax.tree.map(put, tree)


def shard(batch: dict[str, np.ndarray], devices: Sequence[jax.Device]) -> dict[str, jax.Array]:
  """``[local devices, ...]`` host arrays -> one slice per device. With one process the
  local devices are ``devices``; in a multi-process run each process passes the slices of
  its own devices and the result spans all of ``devices``."""
  sharding = device_sharding(devices)
  if jax.process_count() == 1:
    return jax.device_put(batch, sharding)
  return jax.tree.map(lambda x: jax.make_array_from_process_local_data(
      sharding, x, (len(devices),) + x.shape[1:]), batch)


def unreplicate(tree: Any) -> Any:
  """Device 0's copy of a replicated pytree, as host numpy arrays."""
  return jax.tree.map(lambda x: np.asarray(x.addressable_data(0)).reshape(x.shape[1:]), tree)
