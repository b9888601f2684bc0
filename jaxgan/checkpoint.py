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
import sys
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
    _quiet_closed_loop_noise()
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
    absl = logging.getLogger("absl")
    level = absl.level
    # orbax logs a failed write from each of its writer threads before raising it; the one
    # error below says what happened and what to do.
    absl.setLevel(logging.CRITICAL)
    try:
      self._manager.save(step, args=ocp.args.Composite(
          state=ocp.args.StandardSave(state), data=ocp.args.JsonSave(data_state)), force=True)
      self._manager.wait_until_finished()
    except Exception as e:  # orbax wraps file-system errors raised in its writer threads
      what = _storage_error(e)
      if what is None:
        raise
      self._remove_temporary()
      newest = self.latest_step()  # the manager was reloaded without the failed step
      kept = (f"the newest complete checkpoint (step {newest}) is intact. Free space (or choose another "
              "--workdir) and rerun to resume from it." if newest is not None else
              "no complete checkpoint was written before. Free space (or choose another --workdir) "
              "and rerun.")
      raise CheckpointError(f"Cannot write the checkpoint of step {step} to {self.directory}: {what}. "
                            f"Its temporary files were removed; {kept}") from None
    finally:
      absl.setLevel(level)

  def _remove_temporary(self) -> None:
    for path in glob.glob(os.path.join(self.directory, "*.orbax-checkpoint-tmp*")):
      shutil.rmtree(path, ignore_errors=True)
    self._manager.reload()

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


def _is_closed_loop_noise(unraisable) -> bool:
  return (isinstance(unraisable.exc_value, RuntimeError) and unraisable.object is None
          and str(unraisable.exc_value) == "Event loop is closed")


def _quiet_closed_loop_noise() -> None:
  """After a failed read or write (damaged files, a full disk), tensorstore's threads keep
  completing futures of orbax's already closed event loop; each completion is reported as
  an unraisable ``RuntimeError('Event loop is closed')`` (hundreds of tracebacks that bury
  jaxgan's own message). This drops exactly those reports and passes every other one on,
  and adds :func:`_drop_orphaned_orbax_task` to the ``asyncio`` logger for the same read's
  other failed tasks; installed once, by the first :class:`Checkpointer`."""
  previous = sys.unraisablehook
  if getattr(previous, "_jaxgan_filter", False):
    return

  def hook(unraisable):
    if not _is_closed_loop_noise(unraisable):
      previous(unraisable)

  hook._jaxgan_filter = True
  sys.unraisablehook = hook
  logging.getLogger("asyncio").addFilter(_drop_orphaned_orbax_task)


# The status codes tensorstore (orbax's storage layer) puts in front of its error messages.
_TENSORSTORE_STATUS = ("DATA_LOSS:", "NOT_FOUND:", "INVALID_ARGUMENT:", "FAILED_PRECONDITION:",
                       "OUT_OF_RANGE:", "RESOURCE_EXHAUSTED:", "UNKNOWN:", "INTERNAL:", "UNAVAILABLE:")


def _raised_in_orbax(exc_info) -> bool:
  """Whether a failure came from orbax's checkpoint I/O: raised in an orbax module, or a
  tensorstore status error (raised from tensorstore's C++ futures, so with no orbax frame)."""
  if not exc_info or exc_info[1] is None:
    return False
  if str(exc_info[1]).startswith(_TENSORSTORE_STATUS):
    return True
  tb = exc_info[2]
  while tb is not None:
    if f"{os.sep}orbax{os.sep}" in tb.tb_frame.f_code.co_filename:
      return True
    tb = tb.tb_next
  return False


def _drop_orphaned_orbax_task(record: logging.LogRecord) -> bool:
  """A logging filter for the ``asyncio`` logger: False (drop) for the "Task exception was
  never retrieved" report of an orbax task whose failure was already raised to jaxgan as a
  damaged-checkpoint error (the same read fails in several of orbax's tasks; the one jaxgan
  awaited becomes its message, the others are garbage-collected later and, on a loaded
  machine, reported after it). Every other record passes."""
  return not (str(record.msg).startswith("Task exception was never retrieved")
              and _raised_in_orbax(record.exc_info))


DISK_FULL = ("RESOURCE_EXHAUSTED", "No space left on device", "Disk quota exceeded")


def _storage_error(error: BaseException) -> str | None:
  """What the file system refused, if ``error`` is (or was caused by) a storage failure:
  an :class:`OSError`, or tensorstore's status errors (``RESOURCE_EXHAUSTED: ...``, which
  orbax raises as ``ValueError``); None for anything else."""
  seen = set()
  while error is not None and id(error) not in seen:
    if isinstance(error, OSError):
      return "the disk is full" if error.errno == errno.ENOSPC else (error.strerror or str(error))
    if any(marker in str(error) for marker in DISK_FULL):
      return "the disk is full"
    seen.add(id(error))
    error = error.__cause__ or error.__context__
  return None
