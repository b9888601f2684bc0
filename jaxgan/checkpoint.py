"""Orbax checkpoints of the whole training state plus the data iterator position.

A checkpoint step directory holds two items: ``state`` (the method's state
pytree, e.g. a :class:`~jaxgan.state.GANState`: parameters, optimizer states, EMA, BatchNorm statistics, step, PRNG key) and
``data`` (the batch source's JSON state). Orbax writes each step to a temporary directory
and renames it when complete, so a run killed mid-save never leaves a partial checkpoint
that looks complete. A checkpoint that is complete but unreadable (corrupted on disk) is
skipped with a warning and the previous one is used.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable

import orbax.checkpoint as ocp

from jaxgan.errors import CheckpointError

# Orbax logs every save at INFO through absl; keep the user's terminal for jaxgan's output.
logging.getLogger("absl").setLevel(logging.WARNING)


class Checkpointer:
  """Rolling checkpoints in ``directory``, keeping the newest ``keep``."""

  def __init__(self, directory: str, keep: int, say: Callable[[str], None] = print):
    self.directory = os.path.abspath(directory)
    self._say = say
    self._manager = ocp.CheckpointManager(
        self.directory,
        options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True,
                                             enable_async_checkpointing=False))

  def steps(self) -> list[int]:
    return sorted(self._manager.all_steps())

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def save(self, step: int, state: Any, data_state: dict[str, Any]) -> None:
    """Writes ``state`` (host arrays) and ``data_state`` as checkpoint ``step``, synchronously."""
    self._manager.save(step, args=ocp.args.Composite(
        state=ocp.args.StandardSave(state), data=ocp.args.JsonSave(data_state)), force=True)
    self._manager.wait_until_finished()

  def restore(self, template: Any, step: int | None = None
              ) -> tuple[Any, dict[str, Any], int] | None:
    """Newest readable checkpoint as ``(state, data_state, step)``, or ``None`` if there is none.

    Args:
      template: a state of the right structure (e.g. freshly initialised) to restore into.
      step: restore exactly this step instead of the newest readable one.

    Raises:
      CheckpointError: checkpoints exist but none can be read, or ``step`` does not exist.
    """
    steps = sorted(self._manager.all_steps(), reverse=True)
    if step is not None:
      if step not in steps:
        raise CheckpointError(f"No checkpoint for step {step} in {self.directory}; "
                              f"available: {sorted(steps) or 'none'}.")
      steps = [step]
    failures = []
    for step in steps:
      try:
        restored = self._manager.restore(step, args=ocp.args.Composite(
            state=ocp.args.StandardRestore(template), data=ocp.args.JsonRestore()))
      except Exception as e:  # orbax raises many types for damaged files
        reason = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        failures.append(f"step {step}: {reason}")
        self._say(f"warning: checkpoint at step {step} in {self.directory} is unreadable "
                  f"({reason}); falling back to an older one.")
        continue
      return restored["state"], restored["data"], step
    if failures:
      raise CheckpointError(
          f"No readable checkpoint in {self.directory}: " + "; ".join(failures) +
          ". Move that directory away to start from scratch.")
    return None

  def close(self) -> None:
    self._manager.close()
