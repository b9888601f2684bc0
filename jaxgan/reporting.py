"""What a run shows and writes: progress bar, ``metrics.jsonl``, TensorBoard, PNG pictures."""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any

import jax
import numpy as np
from PIL import Image
from tqdm.auto import tqdm

SCATTER_POINTS = 2000  # generated points per 2D scatter plot
PROGRESS_KEYS = ("d_loss", "g_loss", "elbo", "kl")  # metrics shown on the progress bar (GANs, VAEs)


def say(message: str) -> None:
  """Prints a line without breaking an active progress bar (process 0 of a multi-process run only)."""
  if jax.process_index() == 0:
    tqdm.write(message)


def image_grid(images: np.ndarray, columns: int | None = None, pad: int = 1,
               min_cell: int = 32) -> np.ndarray:
  """Tiles ``images [N, H, W, C]`` in [-1, 1] into one ``uint8 [rows*H', cols*W', 3]`` picture.

  Cells are enlarged by an integer factor (nearest neighbour) to at least ``min_cell``
  pixels so small images stay visible.
  """
  n, h, w, c = images.shape
  columns = columns or int(math.ceil(math.sqrt(n)))
  rows = int(math.ceil(n / columns))
  scale = max(1, int(math.ceil(min_cell / max(h, w))))
  pixels = np.clip((np.asarray(images, np.float32) + 1.0) * 127.5, 0, 255).round().astype(np.uint8)
  if c == 1:
    pixels = np.repeat(pixels, 3, axis=-1)
  pixels = pixels[..., :3].repeat(scale, axis=1).repeat(scale, axis=2)
  ch, cw = h * scale + pad, w * scale + pad
  grid = np.full((rows * ch + pad, columns * cw + pad, 3), 255, np.uint8)
  for i in range(n):
    r, col = divmod(i, columns)
    grid[pad + r * ch: pad + r * ch + h * scale, pad + col * cw: pad + col * cw + w * scale] = pixels[i]
  return grid


def save_image_grid(path: str, images: np.ndarray, columns: int | None = None) -> str:
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  Image.fromarray(image_grid(images, columns)).save(path)
  return path


def save_scatter(path: str, real: np.ndarray, fake: np.ndarray, title: str = "") -> str:
  """Scatter plot of real (grey) and generated (red) 2D points."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
  ax.scatter(real[:, 0], real[:, 1], s=2, c="0.6", label="real")
  ax.scatter(fake[:, 0], fake[:, 1], s=2, c="tab:red", alpha=0.5, label="generated")
  lim = 1.2 * max(float(np.abs(real).max()), 1e-3)
  ax.set_xlim(-lim, lim)
  ax.set_ylim(-lim, lim)
  ax.set_aspect("equal")
  ax.legend(loc="upper right", fontsize=7, markerscale=4)
  ax.set_title(title, fontsize=9)
  fig.tight_layout()
  fig.savefig(path)
  plt.close(fig)
  return path


def _row(line: str) -> dict | None:
  """One JSON-lines row, or None for a blank row or one cut short by a kill mid-write."""
  try:
    return json.loads(line)
  except ValueError:
    return None


def read_jsonl(path: str) -> list[dict]:
  """The rows of a JSON-lines file (``metrics.jsonl``, evaluation records), skipping a row
  cut short by a kill; [] when there is no file."""
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return [row for row in map(_row, f) if row is not None]


def drop_rows_after(path: str, step: int) -> None:
  """Removes the rows of JSON-lines file ``path`` logged after ``step`` (and any row cut
  short): a run resumed from checkpoint ``step`` logs those steps again, so
  ``metrics.jsonl`` keeps one row per step however often a run is resumed. Rewritten
  atomically, and only when there is such a row."""
  if not os.path.exists(path):
    return
  with open(path) as f:
    lines = [line for line in f.read().splitlines() if line.strip()]
  keep = [line for line in lines if (row := _row(line)) is not None and row.get("step", 0) <= step]
  if len(keep) == len(lines):
    return
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    f.write("".join(line + "\n" for line in keep))
  os.replace(tmp, path)


class Reporter:
  """Progress bar, JSON-lines metrics and TensorBoard scalars for one training run
  (``write=False``: none of them, for the other processes of a multi-process run)."""

  def __init__(self, metrics_path: str, tensorboard_dir: str, start_step: int, total_steps: int,
               progress: bool = True, tensorboard: bool = True, write: bool = True):
    self.metrics_path = metrics_path
    if write:
      drop_rows_after(metrics_path, start_step)
    self._jsonl = open(self.metrics_path, "a") if write else None
    progress = progress and write
    self._tb = None
    if tensorboard and write:
      from tensorboardX import SummaryWriter  # third-party, imported where used (slow to import)
      self._tb = SummaryWriter(tensorboard_dir)
    self._bar = tqdm(total=total_steps, initial=start_step, unit="step", dynamic_ncols=True,
                     disable=not progress, mininterval=1.0, desc="train")
    self._last_time, self._last_step = time.perf_counter(), start_step

  def advance(self, steps: int = 1) -> None:
    self._bar.update(steps)

  def log(self, step: int, metrics: dict[str, float]) -> dict[str, Any]:
    now = time.perf_counter()
    record = {"step": step, **{k: float(v) for k, v in sorted(metrics.items())}}
    if step > self._last_step:
      record["steps_per_sec"] = (step - self._last_step) / max(now - self._last_time, 1e-9)
    self._last_time, self._last_step = now, step
    if self._jsonl is not None:
      self._jsonl.write(json.dumps(record) + "\n")
      self._jsonl.flush()
    if self._tb is not None:
      for key, value in record.items():
        if key != "step":
          self._tb.add_scalar(f"train/{key}", value, step)
    self._bar.set_postfix({k: f"{record[k]:.3f}" for k in PROGRESS_KEYS if k in record},
                          refresh=False)
    return record

  def close(self) -> None:
    self._bar.close()
    if self._jsonl is not None:
      self._jsonl.close()
    if self._tb is not None:
      self._tb.close()


def save_samples_picture(path: str, samples: np.ndarray, real_points: np.ndarray | None = None,
                         title: str = "") -> str:
  """An image grid of ``samples [N, H, W, C]``; for 2D data (``real_points [M, 2]`` given,
  see :func:`jaxgan.data.reference_points`) a scatter of ``samples [N, 2]`` against them."""
  if real_points is not None:
    return save_scatter(path, real_points, samples, title)
  return save_image_grid(path, samples)
