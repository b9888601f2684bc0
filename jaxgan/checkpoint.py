"""Orbax checkpoints of the whole training state plus the data iterator position.

A checkpoint step directory holds two items: ``state`` (the method's state
pytree, e.g. a :class:`~jaxgan.state.GANState`: parameters, optimizer states, EMA, BatchNorm statistics, step, PRNG key) and
``data`` (the batch source's JSON state). Orbax writes each step to a temporary directory
and renames it when complete, so a run killed mid-save never leaves a partial checkpoint
that looks complete. A checkpoint that is complete but unreadable (corrupted on disk) is
skipped with a warning and the previous one is used; when training (``move_aside``), the
unreadable ones newer than it are renamed ``<step>.corrupt`` (never deleted), so the run
can write those steps again. A save that fails on the file system (disk full, ...)
removes its temporary folder and raises one :class:`CheckpointError`, leaving the newest
complete checkpoint as it was.
"""

from __future__ import annotations

import errno
import glob
import logging
import os
import shutil
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
    """Writes ``state`` (host arrays) and ``data_state`` as checkpoint ``step``, synchronously.

    Raises:
      CheckpointError: the file system refused the write (e.g. disk full); the temporary
        folder is removed and the checkpoints already written are untouched.
    """
    try:
      self._manager.save(step, args=ocp.args.Composite(
          state=ocp.args.StandardSave(state), data=ocp.args.JsonSave(data_state)), force=True)
      self._manager.wait_until_finished()
    except Exception as e:  # orbax wraps file-system errors raised in its writer threads
      cause = _os_error(e)
      if cause is None:
        raise
      self._remove_temporary()
      what = "the disk is full" if cause.errno == errno.ENOSPC else (cause.strerror or str(cause))
      raise CheckpointError(
          f"Cannot write the checkpoint of step {step} to {self.directory}: {what}. Its temporary "
          f"files were removed; the newest complete checkpoint (step {self._newest_complete()}) is "
          "intact. Free space (or choose another --workdir) and rerun to resume from it.") from None

  def _remove_temporary(self) -> None:
    for path in glob.glob(os.path.join(self.directory, "*.orbax-checkpoint-tmp*")):
      shutil.rmtree(path, ignore_errors=True)
    self._manager.reload()

  def _newest_complete(self) -> int | None:
    steps = [int(name) for name in os.listdir(self.directory) if name.isdigit()]
    return max(steps) if steps else None

  def _move_aside(self, step: int) -> str:
    """Renames step ``step``'s folder to ``<step>.corrupt`` (``.corrupt.1``, ... if taken)."""
    source = os.path.join(self.directory, str(step))
    target, n = source + ".corrupt", 0
    while os.path.exists(target):
      n += 1
      target = f"{source}.corrupt.{n}"
    os.rename(source, target)
    return target

  def restore(self, template: Any, step: int | None = None, move_aside: bool = False
              ) -> tuple[Any, dict[str, Any], int] | None:
    """Newest readable checkpoint as ``(state, data_state, step)``, or ``None`` if there is none.

    Args:
      template: a state of the right structure (e.g. freshly initialised) to restore into.
      step: restore exactly this step instead of the newest readable one.
      move_aside: rename the unreadable checkpoints newer than the one restored to
        ``<step>.corrupt`` (training does, so it can save those steps again).

    Raises:
      CheckpointError: checkpoints exist but none can be read, or ``step`` does not exist.
    """
    steps = sorted(self._manager.all_steps(), reverse=True)
    if step is not None:
      if step not in steps:
        raise CheckpointError(f"No checkpoint for step {step} in {self.directory}; "
                              f"available: {sorted(steps) or 'none'}.")
      steps = [step]
    failures, unreadable = [], []
    for step in steps:
      try:
        restored = self._manager.restore(step, args=ocp.args.Composite(
            state=ocp.args.StandardRestore(template), data=ocp.args.JsonRestore()))
      except Exception as e:  # orbax raises many types for damaged files
        reason = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        failures.append(f"step {step}: {reason}")
        unreadable.append(step)
        self._say(f"warning: checkpoint at step {step} in {self.directory} is unreadable "
                  f"({reason}); falling back to an older one.")
        continue
      if move_aside and unreadable:
        moved = [self._move_aside(bad) for bad in unreadable]
        self._manager.reload()
        self._say(f"warning: moved the unreadable checkpoint(s) aside, not deleted: {', '.join(moved)}.")
      return restored["state"], restored["data"], step
    if failures:
      raise CheckpointError(
          f"No readable checkpoint in {self.directory}: " + "; ".join(failures) +
          ". Move that directory away to start from scratch.")
    return None

  def close(self) -> None:
    self._manager.close()


def _os_error(error: BaseException) -> OSError | None:
  """The :class:`OSError` that ``error`` is or was caused by, if any."""
  seen = set()
  while error is not None and id(error) not in seen:
    if isinstance(error, OSError):
      return error
    seen.add(id(error))
    error = error.__cause__ or error.__context__
  return None
