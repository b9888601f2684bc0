"""Deterministic, checkpointable batch sources.

A source serves global batches ``{'x': [B, *shape] float32, 'label': [B] int32}``. Batch
number ``i`` is a pure function of ``(seed, i)``, so the only iterator state is the
position, saved in every checkpoint: a resumed run reads exactly the batches an
uninterrupted run would have read.

Multi-host: a source built with ``shard=(p, P)`` serves process ``p`` of ``P`` only its
rows ``p * B/P : (p + 1) * B/P`` of each global batch (the rows its local devices get), and
reads only those; the ``P`` shards of batch ``i`` concatenated are global batch ``i``.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any, Sequence

import numpy as np

from jaxgan.spec import DataSpec


class BatchSource:
  """Base class: subclasses implement ``batch_at(index, size)``; position is the state."""

  def __init__(self, spec: DataSpec, batch_size: int, seed: int, prefetch: int = 0,
               shard: tuple[int, int] = (0, 1), workers: int = 1):
    index, count = shard
    if not 0 <= index < count or batch_size % count:
      raise ValueError(f"cannot take shard {index} of {count} of a global batch of {batch_size}: "
                       f"the batch must divide by the process count")
    self.spec = spec
    self.global_batch_size = batch_size
    self.batch_size = batch_size // count  # rows this process serves
    self.shard = (index, count)
    self.seed = seed
    self.position = 0
    self.prefetch = prefetch
    self._pool = concurrent.futures.ThreadPoolExecutor(workers, "jaxgan-data") if prefetch else None
    self._ahead: dict[int, concurrent.futures.Future] = {}

  def batch_at(self, index: int) -> dict[str, np.ndarray]:
    raise NotImplementedError

  def next(self) -> dict[str, np.ndarray]:
    """Batch number ``position``; with ``prefetch > 0`` the following ones are read ahead
    on ``workers`` host threads (safe, and the same batches, because ``batch_at`` is a pure
    function of the index)."""
    index = self.position
    self.position += 1
    if not self._pool:
      return self.batch_at(index)
    for ahead in range(index, index + self.prefetch + 1):
      if ahead not in self._ahead:
        self._ahead[ahead] = self._pool.submit(self.batch_at, ahead)
    for stale in [i for i in self._ahead if i < index]:
      self._ahead.pop(stale).cancel()
    return self._ahead.pop(index).result()

  def step_input(self, n_critic: int, num_devices: int, steps: int = 1) -> dict[str, np.ndarray]:
    """The next train step's input, split over devices (:func:`next_step_input`)."""
    return next_step_input(self, n_critic, num_devices, steps)

  def get_state(self) -> dict[str, Any]:
    return {"position": int(self.position), "seed": int(self.seed), "name": self.spec.name,
            "processes": int(self.shard[1])}

  def set_state(self, state: dict[str, Any]) -> None:
    if state.get("name") != self.spec.name or int(state.get("seed", -1)) != self.seed:
      raise ValueError(f"Data iterator state {state} does not belong to data set "
                       f"{self.spec.name!r} with seed {self.seed}.")
    processes = int(state.get("processes", 1))
    if processes != self.shard[1]:
      raise ValueError(f"its checkpoints were written by a run of {processes} process(es) and "
                       f"this run has {self.shard[1]}. jaxgan resumes a run on as many processes "
                       f"as wrote it: restart with {processes}, or train in a new workdir.")
    self.position = int(state["position"])
    for future in self._ahead.values():
      future.cancel()
    self._ahead.clear()


class ArraySource(BatchSource):
  """Serves a fixed in-memory array set in a fresh seeded permutation each epoch.

  The example stream is the concatenation of per-epoch permutations, so batches that
  straddle an epoch boundary are well defined and nothing is dropped.
  """

  def __init__(self, spec: DataSpec, x: np.ndarray, labels: np.ndarray, batch_size: int,
               seed: int, shard: tuple[int, int] = (0, 1)):
    super().__init__(spec, batch_size, seed, shard=shard)
    if x.shape[1:] != spec.shape:
      raise ValueError(f"{spec.name}: examples have shape {x.shape[1:]}, spec says {spec.shape}")
    self.x = np.ascontiguousarray(x, dtype=np.float32)
    self.labels = np.asarray(labels, dtype=np.int32)
    self._perm_cache: dict[int, np.ndarray] = {}

  def _perm(self, epoch: int) -> np.ndarray:
    if epoch not in self._perm_cache:
      if len(self._perm_cache) > 4:
        self._perm_cache.clear()
      self._perm_cache[epoch] = np.random.default_rng([self.seed, epoch]).permutation(len(self.x))
    return self._perm_cache[epoch]

  def batch_at(self, index: int) -> dict[str, np.ndarray]:
    n = len(self.x)
    start = index * self.global_batch_size + self.shard[0] * self.batch_size
    flat = np.arange(start, start + self.batch_size)
    epochs, offsets = np.divmod(flat, n)
    rows = np.array([self._perm(int(e))[o] for e, o in zip(epochs, offsets)])
    return {"x": self.x[rows], "label": self.labels[rows]}


def split_for_devices(batches: list[dict[str, np.ndarray]], num_devices: int) -> dict[str, np.ndarray]:
  """Stacks ``n_critic`` global batches and splits them over devices.

  Args:
    batches: ``n_critic`` dicts of ``[B, ...]`` arrays.
    num_devices: ``B`` must be divisible by it.

  Returns:
    dict of ``[num_devices, n_critic, B // num_devices, ...]`` arrays; device ``d`` holds
    rows ``d * B/D : (d + 1) * B/D`` of each global batch, so results do not depend on the
    number of devices.
  """
  out = {}
  for key in batches[0]:
    stacked = np.stack([b[key] for b in batches])  # [n_critic, B, ...]
    n_critic, b = stacked.shape[:2]
    if b % num_devices:
      raise ValueError(f"batch of {b} does not split over {num_devices} devices")
    per_device = stacked.reshape((n_critic, num_devices, b // num_devices) + stacked.shape[2:])
    out[key] = np.swapaxes(per_device, 0, 1)
  return out


def next_step_input(source: BatchSource, n_critic: int, num_devices: int, steps: int = 1
                    ) -> dict[str, np.ndarray]:
  """The next train step's input from ``source``, split over devices.

  Returns ``[num_devices, n_critic, B / D, ...]`` arrays (:func:`split_for_devices`), or
  with ``steps > 1`` the input of that many consecutive steps, ``[num_devices, steps,
  n_critic, B / D, ...]`` (for :func:`jaxgan.step.multi_step`); the same batches in the
  same order either way.
  """
  per_step = [split_for_devices([source.next() for _ in range(n_critic)], num_devices)
              for _ in range(steps)]
  if steps == 1:
    return per_step[0]
  return {key: np.stack([b[key] for b in per_step], axis=1) for key in per_step[0]}


class MemberSources:
  """One batch source per member of a many-seed run (:mod:`jaxgan.members`), read, saved
  and restored together (state ``{'members': [...]}``)."""

  def __init__(self, sources: Sequence[BatchSource]):
    self.sources = list(sources)
    self.spec = self.sources[0].spec

  def get_state(self) -> dict[str, Any]:
    return {"members": [s.get_state() for s in self.sources]}

  def set_state(self, state: dict[str, Any]) -> None:
    states = state.get("members") if isinstance(state, dict) else None
    if states is None:
      raise ValueError("its checkpoints were written by a run of one seed (train.num_seeds=1); "
                       f"this run has train.num_seeds={len(self.sources)}")
    if len(states) != len(self.sources):
      raise ValueError(f"its checkpoints hold {len(states)} members and this run has "
                       f"train.num_seeds={len(self.sources)}")
    for source, s in zip(self.sources, states):
      source.set_state(s)

  def step_input(self, n_critic: int, num_devices: int, steps: int = 1) -> dict[str, np.ndarray]:
    """Every member's next step input (:func:`next_step_input`), stacked on a member axis
    after the device axis: ``[num_devices, K, n_critic, B / D, ...]``, or ``[num_devices,
    steps, K, n_critic, B / D, ...]`` with ``steps > 1``."""
    per_member = [next_step_input(s, n_critic, num_devices, steps) for s in self.sources]
    axis = 1 if steps == 1 else 2
    return {key: np.stack([m[key] for m in per_member], axis=axis) for key in per_member[0]}
