"""Many seeds in one run: ``train.num_seeds = K`` trains K independent members as one
``jax.vmap`` of the method's one train step over a leading member axis of the state.

Member ``i`` is the run of seed ``config.seed + i``: its own initial weights (its state is
the one :attr:`jaxgan.method.Method.init_state` makes for that seed), its own PRNG key
(latents, augmentation, penalties), and its own data order (a batch source built with
that seed). Nothing is shared: the vmapped step computes every reduction (losses,
BatchNorm statistics, minibatch layers) per member, and the cross-device mean of the
``'batch'`` axis averages each member with its own copies only.

Layouts (``K`` members, ``D`` devices):

* host state: every leaf ``[K, ...]`` (what checkpoints hold);
* on devices: ``[D, K, ...]`` (the device axis of :mod:`jaxgan.parallel` outermost);
* step input: ``[D, K, n_critic, B / D, ...]``, or ``[D, steps, K, n_critic, B / D, ...]``
  with ``train.steps_per_dispatch = steps`` (the member vmap is inside the step scan);
* metrics: ``[K]`` per name.

What it buys: one process, one compilation, one checkpoint and one command for K seeds.
Where one small step leaves the hardware idle (an accelerator), the member axis also
multiplies throughput; on the 2-core CPU measured, whose one-member step is already
matmul-bound, 8 members ran 1.25x the aggregate steps/s of one (README, "Many seeds in
one run"; ``python -m jaxgan.benchmark --config R --members 1,4,8,16``).
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import jax
import numpy as np

from jaxgan.errors import ConfigError
from jaxgan.parallel import StepFn

AXIS = 0  # the member axis of host states (after the device axis on devices)


def seeds(seed: int, num_seeds: int) -> list[int]:
  """The members' seeds: ``seed, seed + 1, ..., seed + num_seeds - 1``."""
  return [seed + i for i in range(num_seeds)]


def stack(trees: Sequence[Any]) -> Any:
  """Host pytrees of the same structure -> one pytree with a leading member axis."""
  return jax.tree.map(lambda *leaves: np.stack([np.asarray(x) for x in leaves]), *trees)


def member(tree: Any, index: int) -> Any:
  """Member ``index`` of a stacked host pytree."""
  return jax.tree.map(lambda x: x[index], tree)


def count(tree: Any) -> int:
  """The number of members of a stacked pytree (its leaves' leading size)."""
  return int(jax.tree.leaves(tree)[0].shape[0])


def vmap_step(step_fn: StepFn) -> StepFn:
  """``step_fn`` over a leading member axis of the state and the input (and metrics)."""
  return jax.vmap(step_fn, in_axes=(AXIS, AXIS), out_axes=(AXIS, AXIS))


def state_bytes(abstract_state: Any) -> int:
  """Bytes of one state given as shapes (``jax.eval_shape`` of the init)."""
  return int(sum(np.prod(x.shape, dtype=np.int64) * np.dtype(x.dtype).itemsize
                 for x in jax.tree.leaves(abstract_state)))


# A step holds, besides the state, its gradients, the optimizer's new moments and the
# new state before the old one is freed: a few state sizes per member at least.
STEP_STATE_COPIES = 4


def available_memory(device: jax.Device) -> tuple[int | None, str]:
  """Bytes a run may use on ``device``: the accelerator's limit, or the host's available
  memory for CPU devices; ``(None, why)`` when it cannot be told."""
  if device.platform != "cpu":
    stats = device.memory_stats() or {}
    limit = stats.get("bytes_limit")
    return (int(limit) - int(stats.get("bytes_in_use", 0)), f"{device.device_kind} memory") if limit else (
        None, "unknown")
  try:
    with open("/proc/meminfo") as f:
      for line in f:
        if line.startswith("MemAvailable:"):
          return int(line.split()[1]) * 1024, "available host memory"
  except OSError:
    pass
  try:
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), "free host memory"
  except (ValueError, OSError):
    return None, "unknown"


def check_fits(one_state_bytes: int, num_seeds: int, devices: Sequence[jax.Device]) -> None:
  """Refuses a member count whose states (x :data:`STEP_STATE_COPIES`) cannot fit in the
  memory of one device, before anything is compiled (every device holds every member;
  the CPU backend's devices share the host's memory)."""
  have, what = available_memory(devices[0])
  sharing = len(devices) if devices[0].platform == "cpu" else 1
  per_member = one_state_bytes * STEP_STATE_COPIES * sharing
  if have is None or per_member * num_seeds <= have:
    return
  raise ConfigError(
      f"train.num_seeds={num_seeds} needs about {per_member * num_seeds / 2**30:.1f} GiB for the "
      f"members' states ({one_state_bytes / 2**20:.1f} MiB each, x{STEP_STATE_COPIES} for a step's "
      f"gradients and optimizer updates{f', x{sharing} devices' if sharing > 1 else ''}) but the "
      f"{what} is {have / 2**30:.1f} GiB. Use train.num_seeds <= {max(1, have // per_member)}, or "
      "train the seeds in separate runs (config.seed).")
