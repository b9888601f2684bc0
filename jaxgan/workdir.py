"""The workdir layout, defined once: every command, method, notebook and test asks here
where a run's files are.

::

    WORKDIR/
      config.json          the run's full config (written by training, read by every command)
      checkpoints/<step>/  rolling orbax checkpoints (state + data position)
      best/<step>/         the best checkpoint by config.eval's metric, and best/best.json
      metrics.jsonl        training metrics, one JSON line per log step
      metrics/<name>.jsonl evaluation records (jaxgan.evaluate and config.eval)
      samples/             PNG grids (or 2D scatter plots) written during training
      tensorboard/         TensorBoard scalars
      runs.jsonl           one line per training command: steps, devices, host, wall time
      report.html          the run report (python -m jaxgan.report; written after training)
      .lock                held by the training that runs in it (pid, host, start time)
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import socket
import time

from jaxgan.errors import WorkdirError


@dataclasses.dataclass(frozen=True)
class Workdir:
  """The paths of one run's files under ``root``."""
  root: str

  @property
  def config(self) -> str:
    return os.path.join(self.root, "config.json")

  @property
  def checkpoints(self) -> str:
    return os.path.join(self.root, "checkpoints")

  @property
  def best(self) -> str:
    return os.path.join(self.root, "best")

  @property
  def best_record(self) -> str:
    return os.path.join(self.best, "best.json")

  @property
  def train_metrics(self) -> str:
    return os.path.join(self.root, "metrics.jsonl")

  @property
  def eval_metrics(self) -> str:
    return os.path.join(self.root, "metrics")

  @property
  def samples(self) -> str:
    return os.path.join(self.root, "samples")

  @property
  def tensorboard(self) -> str:
    return os.path.join(self.root, "tensorboard")

  @property
  def train_runs(self) -> str:
    return os.path.join(self.root, "runs.jsonl")

  @property
  def report(self) -> str:
    return os.path.join(self.root, "report.html")

  @property
  def lock(self) -> str:
    return os.path.join(self.root, ".lock")

  def sample_picture(self, step: int) -> str:
    """The picture training writes at ``step``."""
    return os.path.join(self.samples, f"step_{step:07d}.png")


class WorkdirLock:
  """An exclusive lock on a workdir for one training (``fcntl.flock`` on ``WORKDIR/.lock``).

  A second training on the same workdir is refused naming the process that holds it. The
  kernel releases the lock when its process ends, however it ends, so the lock of a
  killed run is stale at once and the next training takes it over. (On a network file
  system without ``flock`` support the lock is advisory only.)
  """

  def __init__(self, workdir: str):
    self.path = Workdir(workdir).lock
    self._file = None

  def acquire(self) -> "WorkdirLock":
    f = open(self.path, "a+")
    try:
      fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
      f.seek(0)
      holder = f.read().strip() or "another process"
      f.close()
      raise WorkdirError(f"Workdir {os.path.dirname(self.path)!r} is in use by another training "
                         f"({holder}). Wait for it to finish or stop it, or use another --workdir.") from None
    f.seek(0)
    f.truncate()
    f.write(f"pid {os.getpid()} on {socket.gethostname()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}")
    f.flush()
    self._file = f
    return self

  def release(self) -> None:
    if self._file is not None:
      fcntl.flock(self._file, fcntl.LOCK_UN)
      self._file.close()
      self._file = None
