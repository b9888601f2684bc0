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


def apply_train_mode(module, params, variables, *args) -> tuple[jax.Array, Any]:
  """Training-mode ``apply`` returning ``(output, updated non-param variables)``."""
  if variables:
    return module.apply({"params": params, **variables}, *args, train=True,
                        mutable=list(variables.keys()))
  return module.apply({"params": params}, *args, train=True), variables


def _global_rows(per_device: int) -> jax.Array:
  """Indices in the global batch of this device's ``per_device`` examples."""
  return lax.axis_index(AXIS) * per_device + jnp.arange(per_device)


def device_latents(key: jax.Array, latent_dim: int, per_device: int) -> jax.Array:
  """``[per_device, latent_dim]`` standard normal latents, independent of the device count.

  Latent ``i`` of the global batch is drawn from ``fold_in(key, i)``; device ``d`` takes
  rows ``d * per_device ...``. One device and eight devices therefore see the same
  global batch of latents.
  """
  return jax.vmap(lambda i: jax.random.normal(jax.random.fold_in(key, i), (latent_dim,)))(
      _global_rows(per_device))


def device_labels(key: jax.Array, num_classes: int, per_device: int) -> jax.Array:
  """``[per_device]`` int32 labels uniform over ``num_classes``, drawn per global row like
  :func:`device_latents` (from a separate stream of ``key``)."""
  key = jax.random.fold_in(key, LABEL_STREAM)
  return jax.vmap(lambda i: jax.random.randint(jax.random.fold_in(key, i), (), 0, num_classes))(
      _global_rows(per_device))


def class_loss(class_logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Mean softmax cross-entropy of an AC-GAN head (Odena et al. 2017, eqs. 2-3)."""
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(class_logits, labels))


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
    D itself is updated as usual; the look-ahead parameters are thrown away.

  Returns:
    ``train_step(state, batch)`` with ``batch = {'x': [n_critic, per_device, *shape],
    'label': [n_critic, per_device]}``, to be run under a ``'batch'`` named axis.
  """
  G, D, loss = gan.generator, gan.discriminator, gan.loss
  shape = gan.spec.shape
  if per_device_batch % gan.pack:
    raise ConfigError(f"model.pack={gan.pack} must divide the per-device batch {per_device_batch}.")
  num_logits = per_device_batch // gan.pack  # one logit per pack of samples
  conditional = gan.num_classes > 0

  def d_apply(d_params, d_vars, x, labels, key):
    """D in training mode on augmented ``x [per_device, *shape]`` ->
    ``(logits [per_device / pack], class logits [.., K] or None, vars)``."""
    x = augment_batch(x, key, gan.augment, _global_rows(per_device_batch)[0])
    out, d_vars = apply_train_mode(D, d_params, d_vars, pack_samples(x, gan.pack), labels)
    logits, class_logits = out if isinstance(out, tuple) else (out, None)
    chex.assert_shape(logits, (num_logits,))
    return logits, class_logits, d_vars

  def generate(state: GANState, key: jax.Array, keep_vjp: bool):
    """``(fake [per_device, *shape], labels or None, vjp of G in its params or None, G's vars)``."""
    z = device_latents(key, gan.latent_dim, per_device_batch)
    chex.assert_shape(z, (per_device_batch, gan.latent_dim))
    labels = device_labels(key, gan.num_classes, per_device_batch) if conditional else None
    apply = lambda g_params: apply_train_mode(G, g_params, state.g_vars, z, labels)
    if keep_vjp:
      fake, g_vjp, g_vars = jax.vjp(apply, state.g_params, has_aux=True)
    else:
      (fake, g_vars), g_vjp = apply(state.g_params), None
    chex.assert_shape(fake, (per_device_batch,) + shape)
    return fake, labels, g_vjp, g_vars

  def penalty(d_params, d_vars, real, real_labels, fake, key, update_index):
    """The regularizer's penalty (x reg_every on every reg_every-th update; always when
    ``update_index`` is None). D sees the real batch's labels."""
    d_fn = lambda x: d_apply(d_params, d_vars, x, real_labels, jax.random.fold_in(key, AUG_STREAM))[0]
    value = lambda: gan.regularizer.penalty(d_fn, real, fake, key)
    if gan.reg_every == 1 or update_index is None:
      return value()
    return lax.cond(update_index % gan.reg_every == 0, lambda: gan.reg_every * value(),
                    lambda: jnp.zeros((), real.dtype))

  def d_objective(d_params, d_vars, real, real_labels, fake, fake_labels, key, update_index):
    """D's loss on one real and one generated batch: GAN loss + penalty (+ AC-GAN term).

    Augmentation draws per global example (no device index in its key); the penalty's
    randomness is per device."""
    aug_key = jax.random.fold_in(key, AUG_STREAM)
    real_logits, real_classes, d_vars = d_apply(d_params, d_vars, real, real_labels, jax.random.fold_in(aug_key, 0))
    fake_logits, fake_classes, d_vars = d_apply(d_params, d_vars, fake, fake_labels, jax.random.fold_in(aug_key, 1))
    reg_key = jax.random.fold_in(jax.random.fold_in(key, REG_STREAM), lax.axis_index(AXIS))
    reg = penalty(d_params, d_vars, real, real_labels, fake, reg_key, update_index)
    total = loss.d_loss(real_logits, fake_logits) + gan.reg_weight * reg
    aux = {"d_penalty": reg} if gan.regularizer.uses_input_gradients else {}
    if real_classes is not None:
      aux["d_class_loss"] = class_loss(real_classes, real_labels) + class_loss(fake_classes, fake_labels)
      total = total + gan.aux_weight * aux["d_class_loss"]
    return total, (d_vars, real_logits, fake_logits, aux)

  def apply_d_grads(d_params, d_opt_state, grads):
    """One optimizer update of D from per-device grads (averaged over devices), clipped for WGAN."""
    grads = lax.pmean(grads, AXIS)
    updates, d_opt_state = gan.d_tx.update(grads, d_opt_state, d_params)
    d_params = optax.apply_updates(d_params, updates)
    if gan.weight_clip > 0:  # original WGAN's Lipschitz constraint (Arjovsky et al. 2017, Alg. 1)
      d_params = jax.tree.map(lambda p: jnp.clip(p, -gan.weight_clip, gan.weight_clip), d_params)
    return d_params, d_opt_state, grads

  def d_update(state: GANState, real: jax.Array, real_labels: jax.Array, fake: jax.Array,
               fake_labels: jax.Array | None, key: jax.Array, update_index: jax.Array
               ) -> tuple[GANState, Metrics]:
    chex.assert_shape(real, (per_device_batch,) + shape)
    chex.assert_equal_shape([real, fake])
    fake = lax.stop_gradient(fake)
    (d_loss, (d_vars, real_logits, fake_logits, aux)), grads = jax.value_and_grad(d_objective, has_aux=True)(
        state.d_params, state.d_vars, real, real_labels, fake, fake_labels, key, update_index)
    d_params, d_opt_state, grads = apply_d_grads(state.d_params, state.d_opt_state, grads)
    metrics = {
        "d_loss": d_loss,
        "d_real": jnp.mean(jax.nn.sigmoid(real_logits)),
        "d_fake": jnp.mean(jax.nn.sigmoid(fake_logits)),
        "d_grad_norm": optax.global_norm(grads),
    } | aux
    return state.replace(d_params=d_params, d_vars=d_vars, d_opt_state=d_opt_state), metrics

  def look_ahead(state: GANState, real, real_labels, fake, fake_labels, key):
    """D's parameters and variables after ``gan.unrolled_steps`` updates on (real, fake),
    as a differentiable function of ``fake``."""
    def body(carry, k):
      d_params, d_opt_state, d_vars = carry
      grads, (d_vars, *_) = jax.grad(d_objective, has_aux=True)(
          d_params, d_vars, real, real_labels, fake, fake_labels, k, None)
      d_params, d_opt_state, _ = apply_d_grads(d_params, d_opt_state, grads)
      return (d_params, d_opt_state, d_vars), None

    keys = jax.random.split(key, gan.unrolled_steps)
    (d_params, _, d_vars), _ = lax.scan(body, (state.d_params, state.d_opt_state, state.d_vars), keys)
    return d_params, d_vars

  def g_update(state: GANState, fake, fake_labels, g_vjp: Callable, g_vars: Any, real, real_labels,
               key: jax.Array) -> tuple[GANState, Metrics]:
    aug_key = jax.random.fold_in(key, AUG_STREAM)

    def loss_fn(fake):
      d_params, d_vars = state.d_params, state.d_vars
      if gan.unrolled_steps:
        d_params, d_vars = look_ahead(state, real, real_labels, fake, fake_labels,
                                      jax.random.fold_in(key, UNROLL_STREAM))
      fake_logits, fake_classes, _ = d_apply(d_params, d_vars, fake, fake_labels, jax.random.fold_in(aug_key, 0))
      real_logits = None
      if loss.g_uses_real:  # relativistic losses compare with D on real data (no gradient to G)
        real_logits = lax.stop_gradient(
            d_apply(d_params, d_vars, real, real_labels, jax.random.fold_in(aug_key, 1))[0])
      g_loss = loss.g_loss(fake_logits, real_logits)
      if fake_classes is not None:
        g_loss = g_loss + gan.aux_weight * class_loss(fake_classes, fake_labels)
      return g_loss

    g_loss, d_fake = jax.value_and_grad(loss_fn)(fake)
    (grads,) = g_vjp(d_fake)
    grads = lax.pmean(grads, AXIS)
    updates, g_opt_state = gan.g_tx.update(grads, state.g_opt_state, state.g_params)
    g_params = optax.apply_updates(state.g_params, updates)
    ema = state.ema_params
    if ema is not None:
      ema = optax.incremental_update(g_params, ema, step_size=1.0 - gan.ema_decay)
    state = state.replace(g_params=g_params, g_vars=g_vars, g_opt_state=g_opt_state, ema_params=ema)
    return state, {"g_loss": g_loss, "g_grad_norm": optax.global_norm(grads)}

  def train_step(state: GANState, batch: dict[str, jax.Array]) -> tuple[GANState, Metrics]:
    chex.assert_shape(batch["x"], (gan.n_critic, per_device_batch) + shape)
    chex.assert_type(batch["x"], jnp.float32)
    real_labels = batch["label"] if conditional else [None] * gan.n_critic
    if conditional:
      chex.assert_shape(real_labels, (gan.n_critic, per_device_batch))
    step_key = jax.random.fold_in(state.rng, state.step)
    d_keys = jax.random.split(jax.random.fold_in(step_key, 1), gan.n_critic)
    # A Python loop (unrolled at trace time), not lax.scan: on XLA:CPU the convolutions
    # inside a while loop ran ~12x slower (DCGAN-16 step: 700 ms with scan, 56 ms
    # unrolled), and n_critic is a small static number.
    d_metrics = []
    for i in range(gan.n_critic):
      last = i == gan.n_critic - 1
      fake, fake_labels, g_vjp, g_vars = generate(state, d_keys[i], keep_vjp=last)
      state, m = d_update(state, batch["x"][i], real_labels[i], fake, fake_labels, d_keys[i],
                          state.step * gan.n_critic + i)
      d_metrics.append(m)
    state, g_metrics = g_update(state, fake, fake_labels, g_vjp, g_vars, batch["x"][-1], real_labels[-1],
                                jax.random.fold_in(step_key, 2))
    metrics = {k: jnp.mean(jnp.stack([m[k] for m in d_metrics])) for k in d_metrics[0]} | g_metrics
    return state.replace(step=state.step + 1), lax.pmean(metrics, AXIS)

  return train_step


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
  """Host pytree -> one copy per device, stacked on a leading device axis."""
  sharding = device_sharding(devices)
  n = len(devices)
  return jax.tree.map(
      lambda x: jax.device_put(np.broadcast_to(np.asarray(x), (n,) + np.shape(x)), sharding), tree)


def shard(batch: dict[str, np.ndarray], devices: Sequence[jax.Device]) -> dict[str, jax.Array]:
  """``[devices, ...]`` host arrays -> one slice per device."""
  return jax.device_put(batch, device_sharding(devices))


def unreplicate(tree: Any) -> Any:
  """Device 0's copy of a replicated pytree, as host numpy arrays."""
  return jax.tree.map(lambda x: np.asarray(x.addressable_data(0)).reshape(x.shape[1:]), tree)
