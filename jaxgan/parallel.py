"""Devices and data parallelism: which devices a run uses, the ``pmap`` / ``shard_map``
wrappers of a per-device step, and placing host pytrees on devices and back.

A per-device step ``step(state, batch) -> (state, metrics)`` speaks to the other devices
only through the named axis :data:`AXIS` (``lax.pmean`` of gradients, metrics and
BatchNorm statistics). :data:`PARALLEL` wraps it with ``jax.pmap`` or with
``jax.shard_map`` over a 1-D mesh; both take and return the state with a leading device
axis, so the loop, checkpoints and tests do not care which is used. Nothing here knows
what the step computes: every method (GAN, VAE, ...) shares it.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import jax
import numpy as np
from jax import lax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxgan.errors import ConfigError
from jaxgan.registry import Registry

AXIS = "batch"
Metrics = dict[str, jax.Array]
StepFn = Callable[[Any, dict[str, jax.Array]], tuple[Any, Metrics]]


def select_devices(num_devices: int, batch_size: int) -> list[jax.Device]:
  """The devices to train on (every process's in a multi-process run; else the first
  ``num_devices`` local ones, 0 = all); checks that the global batch splits evenly."""
  processes = jax.process_count()
  if processes > 1:
    if num_devices:
      raise ConfigError(f"train.num_devices={num_devices} selects devices of a "
                        "single process; a multi-process run trains on every device of every "
                        "process. Leave it at 0.")
    devices = jax.devices()
  else:
    devices = jax.local_devices()
    wanted = num_devices or len(devices)
    if wanted > len(devices):
      raise ConfigError(f"train.num_devices={wanted} but only {len(devices)} devices are "
                        f"available ({devices[0].platform}).")
    devices = devices[:wanted]
  if batch_size % len(devices):
    lower = (batch_size // len(devices)) * len(devices)
    upper = lower + len(devices)
    suggestion = f"{lower} or {upper}" if lower else f"{upper}"
    where = (f"{len(devices)} devices ({processes} processes x {len(devices) // processes} local "
             f"devices)" if processes > 1 else f"{len(devices)} devices")
    fix = ("" if processes > 1 else f", or set train.num_devices to a divisor of {batch_size}")
    raise ConfigError(
        f"train.batch_size={batch_size} (the global batch) does not divide evenly over {where}. "
        f"Use a multiple of {len(devices)} (e.g. {suggestion}){fix}.")
  return devices


def multi_step(step_fn: StepFn, steps: int) -> StepFn:
  """``steps`` train steps per call (one host dispatch), as a ``lax.scan`` of ``step_fn``.

  The batch leaves get a leading ``[steps]`` axis (``jaxgan.data.next_step_input``); the
  metrics returned are the last step's. Same steps, same results as calling ``step_fn``
  ``steps`` times. It pays where dispatch dominates (small models, accelerators); on
  XLA:CPU convolutions inside a loop run far slower (see :func:`jaxgan.step.train_step`),
  so convolutional GANs on CPU keep ``steps = 1``.
  """
  if steps == 1:
    return step_fn

  def scanned(state, batches: dict[str, jax.Array]):
    state, metrics = lax.scan(step_fn, state, batches)
    return state, jax.tree.map(lambda m: m[-1], metrics)

  return scanned


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
