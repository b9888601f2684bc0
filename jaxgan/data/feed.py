"""Step inputs placed on the devices one step ahead of use.

The trainer takes step ``i``'s input, dispatches step ``i`` (asynchronously), then reads,
splits and transfers step ``i + 1``'s input while step ``i`` runs. The data position saved
in checkpoints is that of the inputs handed out, never of the one read ahead, so a
resumed run reads exactly the batches an uninterrupted run would.
"""

from __future__ import annotations

from typing import Any, Callable

from jaxgan.data.source import BatchSource, MemberSources


class DeviceFeed:
  """``take(chunk)`` -> the next step input on devices; ``prefetch(chunk)`` reads the one after.

  Args:
    source: the batch source, or one per member (its position advances as inputs are read).
    n_critic: batches per train step.
    local_devices: how many devices this process feeds.
    put: host input ``[local devices, ...]`` -> device arrays (``jaxgan.step.shard``).
  """

  def __init__(self, source: BatchSource | MemberSources, n_critic: int, local_devices: int, put: Callable[[Any], Any]):
    self._source, self._n_critic, self._local, self._put = source, n_critic, local_devices, put
    self._ahead: tuple[int, Any, dict] | None = None  # (steps, device input, source state before it)

  def _read(self, steps: int) -> Any:
    return self._put(self._source.step_input(self._n_critic, self._local, steps))

  def take(self, steps: int = 1) -> Any:
    """The input of the next ``steps`` train steps (the prefetched one if it has that size)."""
    ahead, self._ahead = self._ahead, None
    if ahead is not None:
      if ahead[0] == steps:
        return ahead[1]
      self._source.set_state(ahead[2])  # read ahead for another chunk size: read again
    return self._read(steps)

  def prefetch(self, steps: int) -> None:
    """Reads and transfers the input of the ``steps`` steps after those taken."""
    if self._ahead is None:
      before = self._source.get_state()
      self._ahead = (steps, self._read(steps), before)

  def state(self) -> dict:
    """The source's state after the inputs taken so far (what a checkpoint stores)."""
    return self._ahead[2] if self._ahead is not None else self._source.get_state()
