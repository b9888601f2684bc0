"""Sample-quality statistics as pure functions on feature vectors (numpy, float64).

Every function takes features ``[N, D]`` (real and/or generated) or class probabilities and
returns plain floats. Pairwise distances are computed in row blocks so 50,000 x 50,000
comparisons fit in memory.

References:
  * Fréchet distance: Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule
    Converge to a Local Nash Equilibrium" (FID), arXiv:1706.08500.
  * Inception Score: Salimans et al. 2016, "Improved Techniques for Training GANs",
    arXiv:1606.03498.
  * KID: Bińkowski et al. 2018, "Demystifying MMD GANs", arXiv:1801.01401.
  * Precision/recall: Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for
    Assessing Generative Models", arXiv:1904.06991.
  * Density/coverage: Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for
    Generative Models", arXiv:2002.09797.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg

_BLOCK = 1024  # rows of a pairwise-distance block: 1024 x 50,000 float64 = 400 MB


def _check_features(name: str, x: np.ndarray) -> np.ndarray:
  x = np.asarray(x, np.float64)
  if x.ndim != 2 or len(x) == 0:
    raise ValueError(f"{name}: expected features [N, D] with N >= 1, got shape {x.shape}")
  if not np.isfinite(x).all():
    raise ValueError(f"{name}: features contain NaN or inf")
  return x


def feature_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Mean ``[D]`` and unbiased covariance ``[D, D]`` (float64) of ``features [N, D]``.

  Warns when N <= D: the covariance is then singular and the Fréchet distance biased.
  """
  x = _check_features("feature_stats", features)
  n, d = x.shape
  if n < 2:
    raise ValueError(f"feature_stats needs at least 2 samples, got {n}")
  if n <= d:
    warnings.warn(f"{n} samples for {d}-dimensional features: the covariance is singular and the "
                  f"Fréchet distance estimate is strongly biased; use more than {d} samples.",
                  stacklevel=2)
  return x.mean(axis=0), np.cov(x, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
  """``|mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2})`` between two Gaussians (Heusel et al. 2017).

  Computed in float64 with scipy's matrix square root. When the product is singular
  (non-finite root), ``eps * I`` is added to both covariances, as in the reference FID
  code; an imaginary part of the root's diagonal above 1e-3 is an error, a smaller one is
  numerical noise and dropped.
  """
  mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
  sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
  if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
    raise ValueError(f"mismatched statistics: mu {mu1.shape} vs {mu2.shape}, sigma {sigma1.shape} "
                     f"vs {sigma2.shape}")
  for name, value in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
    if not np.isfinite(value).all():
      raise ValueError(f"frechet_distance: {name} holds {int((~np.isfinite(value)).sum())} NaN or "
                       "infinite values (features of diverged samples, or a broken statistics "
                       "file?); the distance would be NaN")
  diff = mu1 - mu2
  with warnings.catch_warnings():  # singular products are handled below
    warnings.simplefilter("ignore", linalg.LinAlgWarning)
    covmean = linalg.sqrtm(sigma1 @ sigma2)
  if not np.isfinite(covmean).all():
    offset = np.eye(len(mu1)) * eps
    covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
  if np.iscomplexobj(covmean):
    max_imag = np.max(np.abs(np.diagonal(covmean).imag))
    if max_imag > 1e-3:
      raise ValueError(f"matrix square root has an imaginary component {max_imag:.3g}: the "
                       "covariances are not positive semi-definite enough (too few samples?)")
    covmean = covmean.real
  return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def inception_score(logits: np.ndarray, splits: int = 10) -> tuple[float, float]:
  """``exp(E_x KL(p(y|x) || p(y)))`` over ``splits`` equal parts; returns (mean, std).

  ``logits [N, K]``; p(y) is the mean of p(y|x) within each part (Salimans et al. 2016).
  Rows that already are probabilities (in [0, 1], summing to 1) are refused: a softmax of
  them would give a wrong score silently.
  """
  logits = _check_features("inception_score", logits)
  if (logits.min() >= 0 and logits.max() <= 1
      and np.allclose(logits.sum(axis=1), 1.0, rtol=0, atol=1e-3)):
    raise ValueError("inception_score takes logits, and every row of these lies in [0, 1] and sums "
                     "to 1: they look like probabilities already. Pass the logits (or np.log of "
                     "the probabilities).")
  if len(logits) < splits:
    raise ValueError(f"inception_score needs at least {splits} samples for {splits} splits")
  log_p = logits - logits.max(axis=1, keepdims=True)
  log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
  scores = []
  for part in np.array_split(log_p, splits):
    log_py = np.log(np.exp(part).mean(axis=0))
    scores.append(np.exp((np.exp(part) * (part - log_py)).sum(axis=1).mean()))
  return float(np.mean(scores)), float(np.std(scores))


def _polynomial_mmd2(x: np.ndarray, y: np.ndarray) -> float:
  """Unbiased MMD^2 with the kernel ``k(a, b) = (a.b / D + 1)^3``."""
  m, d = x.shape
  k_xx = (x @ x.T / d + 1.0) ** 3
  k_yy = (y @ y.T / d + 1.0) ** 3
  k_xy = (x @ y.T / d + 1.0) ** 3
  return float((k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
               + (k_yy.sum() - np.trace(k_yy)) / (m * (m - 1)) - 2.0 * k_xy.mean())


def kernel_inception_distance(real: np.ndarray, fake: np.ndarray, num_subsets: int = 100,
                              subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
  """KID (Bińkowski et al. 2018): unbiased polynomial-kernel MMD^2, mean and std over subsets.

  Each of ``num_subsets`` subsets draws ``min(subset_size, N_real, N_fake)`` rows of each
  set without replacement (numpy ``default_rng(seed)``). With one subset the spread is
  undefined, and the std is NaN rather than 0.
  """
  real, fake = _check_features("kid real", real), _check_features("kid fake", fake)
  if real.shape[1] != fake.shape[1]:
    raise ValueError(f"kid: feature sizes differ ({real.shape[1]} vs {fake.shape[1]})")
  if num_subsets < 1:
    raise ValueError(f"kid needs at least one subset, got num_subsets={num_subsets}")
  m = min(subset_size, len(real), len(fake))
  if m < 2:
    raise ValueError("kid needs at least 2 samples in each set")
  rng = np.random.default_rng(seed)
  values = [_polynomial_mmd2(real[rng.choice(len(real), m, replace=False)],
                             fake[rng.choice(len(fake), m, replace=False)])
            for _ in range(num_subsets)]
  return float(np.mean(values)), float(np.std(values)) if num_subsets > 1 else float("nan")


def _sq_dists(a: np.ndarray, b: np.ndarray, b_sq: np.ndarray) -> np.ndarray:
  return np.maximum((a * a).sum(axis=1)[:, None] + b_sq[None, :] - 2.0 * (a @ b.T), 0.0)


def knn_radii(x: np.ndarray, k: int) -> np.ndarray:
  """Distance from each row of ``x [N, D]`` to its k-th nearest other row, ``[N]``."""
  x = _check_features("knn_radii", x)
  if len(x) <= k:
    raise ValueError(f"k-NN radii with k={k} need more than {k} samples, got {len(x)}")
  x_sq = (x * x).sum(axis=1)
  radii = np.empty(len(x))
  for start in range(0, len(x), _BLOCK):
    d = _sq_dists(x[start:start + _BLOCK], x, x_sq)
    radii[start:start + _BLOCK] = np.partition(d, k, axis=1)[:, k]  # index 0 is the point itself
  return np.sqrt(radii)


def _ball_counts(queries: np.ndarray, centers: np.ndarray, radii: np.ndarray) -> np.ndarray:
  """For each query, how many of the balls ``B(centers[i], radii[i])`` contain it, ``[Nq]``."""
  c_sq, r_sq = (centers * centers).sum(axis=1), radii ** 2
  counts = np.empty(len(queries), np.int64)
  for start in range(0, len(queries), _BLOCK):
    d = _sq_dists(queries[start:start + _BLOCK], centers, c_sq)
    counts[start:start + _BLOCK] = (d <= r_sq[None, :]).sum(axis=1)
  return counts


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
  """Improved precision and recall (Kynkäänniemi et al. 2019) with k-NN balls, k=3.

  Precision: share of fake samples inside some real sample's k-NN ball. Recall: share of
  real samples inside some fake sample's k-NN ball.
  """
  real, fake = _check_features("prd real", real), _check_features("prd fake", fake)
  precision = (_ball_counts(fake, real, knn_radii(real, k)) > 0).mean()
  recall = (_ball_counts(real, fake, knn_radii(fake, k)) > 0).mean()
  return float(precision), float(recall)


def density_coverage(real: np.ndarray, fake: np.ndarray, k: int = 5) -> tuple[float, float]:
  """Density and coverage (Naeem et al. 2020) with real k-NN balls, k=5.

  Density: ``1/(k M) sum_j #{i : fake_j in B(real_i, r_i)}``. Coverage: share of real
  samples whose ball contains at least one fake sample.
  """
  real, fake = _check_features("dc real", real), _check_features("dc fake", fake)
  radii = knn_radii(real, k)
  density = _ball_counts(fake, real, radii).sum() / (k * len(fake))
  f_sq = (fake * fake).sum(axis=1)
  nearest = np.empty(len(real))
  for start in range(0, len(real), _BLOCK):
    nearest[start:start + _BLOCK] = _sq_dists(real[start:start + _BLOCK], fake, f_sq).min(axis=1)
  coverage = (nearest <= radii ** 2).mean()
  return float(density), float(coverage)
