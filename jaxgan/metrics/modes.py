"""Mode coverage on 2D Gaussian mixtures (ring8, grid25).

Protocol (as in the unrolled-GAN, VEEGAN and PacGAN evaluations): a generated point is
*high quality* if it lies within ``threshold`` (3) standard deviations of its nearest mode
centre; a mode is *captured* if at least ``min_count`` high-quality points are assigned
to it. ``min_count`` defaults to 20 for 2,500 samples (0.8% of the samples; 1/16 of the
count an even spread over 8 modes would give), so isolated stray points do not count.

The PacGAN paper's rule is reported beside it as ``modes_captured_any``: a mode counts
once a single high-quality sample lands on it (Lin et al. 2018, arXiv:1712.04086; their
code, ``synthetic_data_experiments/PacGAN/pacgan/extensions.py``, ``MetricLogger``:
``mode coverage`` = the number of modes with a nonzero count of the 2,500 samples within
3 standard deviations), so jaxgan's numbers compare with the paper's under either rule.
"""

from __future__ import annotations

import numpy as np


def mode_stats(samples: np.ndarray, centers: np.ndarray, std: float, threshold: float = 3.0,
               min_count: int = 20) -> dict:
  """Mode coverage of ``samples [N, 2]`` for mixture ``centers [K, 2]`` of common ``std``.

  Returns:
    dict with ``modes_captured`` (int; ``modes_captured_any`` under the one-sample rule),
    ``high_quality_share`` (fraction of all samples),
    ``counts`` (high-quality samples per mode) and ``reverse_kl`` (KL between the
    generated mode histogram, over high-quality samples, and the uniform mode
    distribution; ``inf`` if there are none).
  """
  samples = np.asarray(samples, np.float64)
  centers = np.asarray(centers, np.float64)
  if samples.ndim != 2 or samples.shape[1] != centers.shape[1]:
    raise ValueError(f"samples must be [N, {centers.shape[1]}], got {samples.shape}")
  dist = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=-1)  # [N, K]
  nearest = dist.argmin(axis=1)
  good = dist[np.arange(len(samples)), nearest] <= threshold * std
  counts = np.bincount(nearest[good], minlength=len(centers))
  reverse_kl = kl_to_uniform(counts)
  return {
      "modes_captured": int((counts >= min_count).sum()),
      "modes_captured_any": int((counts >= 1).sum()),
      "num_modes": int(len(centers)),
      "high_quality_share": float(good.mean()) if len(samples) else 0.0,
      "reverse_kl": reverse_kl,
      "counts": counts.tolist(),
      "protocol": {"samples": int(len(samples)), "threshold_std": threshold,
                   "min_count": int(min_count), "std": float(std)},
  }


def kl_to_uniform(counts: np.ndarray) -> float:
  """``KL(p || uniform)`` of the histogram ``counts [K]`` (natural log); ``inf`` if empty."""
  counts = np.asarray(counts, np.float64)
  if counts.sum() == 0:
    return float("inf")
  p = counts / counts.sum()
  nz = p > 0
  return float(np.sum(p[nz] * np.log(p[nz] * len(counts))))


def class_mode_stats(labels: np.ndarray, num_modes: int) -> dict:
  """Mode coverage of predicted discrete modes, e.g. Stacked MNIST's 1,000 digit triples.

  A mode is captured when at least one sample is assigned to it (the Stacked-MNIST
  protocol of Metz et al. 2017 and Lin et al. 2018, PacGAN); ``kl_to_uniform`` is
  ``KL(p_gen || uniform)`` over the ``num_modes`` modes.

  Args:
    labels: ``[N]`` ints in ``[0, num_modes)``, the mode of each generated sample.
  """
  labels = np.asarray(labels)
  if labels.ndim != 1 or (len(labels) and (labels.min() < 0 or labels.max() >= num_modes)):
    raise ValueError(f"labels must be [N] ints in [0, {num_modes}), got shape {labels.shape}")
  counts = np.bincount(labels, minlength=num_modes)
  return {"modes_captured": int((counts > 0).sum()), "num_modes": int(num_modes),
          "kl_to_uniform": kl_to_uniform(counts), "max_mode_share": float(counts.max() / max(len(labels), 1)),
          "counts": counts.tolist()}
