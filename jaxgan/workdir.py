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
"""

from __future__ import annotations

import dataclasses
import os


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

  def sample_picture(self, step: int) -> str:
    """The picture training writes at ``step``."""
    return os.path.join(self.samples, f"step_{step:07d}.png")
