"""Synthetic 2D mixtures used to study mode collapse.

* ``ring8``: 8 Gaussians evenly spaced on the unit circle, std 0.01
  (Metz et al. 2017, "Unrolled Generative Adversarial Networks").
* ``grid25``: 25 Gaussians on {-4, -2, 0, 2, 4}^2, std 0.05
  (Lin et al. 2018, "PacGAN"; Srivastava et al. 2017, "VEEGAN").

Each batch is drawn fresh from ``np.random.default_rng([seed, index])``; labels are the
index of the mixture component, kept for mode metrics and conditional models.
"""

from __future__ import annotations

import numpy as np

from jaxgan.data.source import BatchSource
from jaxgan.spec import DataSpec


def ring8_centers() -> np.ndarray:
  """[8, 2] mode centres on the unit circle."""
  angles = 2 * np.pi * np.arange(8) / 8
  return np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)


def grid25_centers() -> np.ndarray:
  """[25, 2] mode centres on {-4, -2, 0, 2, 4}^2."""
  g = np.arange(-4, 5, 2, dtype=np.float32)
  return np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 2)


TOY_SETS = {  # name -> (centres, std)
    "ring8": (ring8_centers, 0.01),
    "grid25": (grid25_centers, 0.05),
}


class MixtureSource(BatchSource):
  """An endless stream of samples from an equal-weight isotropic Gaussian mixture."""

  def __init__(self, name: str, batch_size: int, seed: int, shard: tuple[int, int] = (0, 1)):
    centers_fn, std = TOY_SETS[name]
    self.centers, self.std = centers_fn(), std
    super().__init__(DataSpec(name, (2,), len(self.centers), "points"), batch_size, seed, shard=shard)

  def batch_at(self, index: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([self.seed, index])
    labels = rng.integers(0, len(self.centers), size=self.global_batch_size)
    noise = rng.normal(size=(self.global_batch_size, 2)) * self.std
    rows = slice(self.shard[0] * self.batch_size, (self.shard[0] + 1) * self.batch_size)  # cheap: slice
    return {"x": (self.centers[labels] + noise).astype(np.float32)[rows],
            "label": labels.astype(np.int32)[rows]}


def sample_mixture(name: str, num: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
  """``num`` points and their mode labels from a toy set (e.g. as a metric reference)."""
  batch = MixtureSource(name, num, seed).batch_at(0)
  return batch["x"], batch["label"]
