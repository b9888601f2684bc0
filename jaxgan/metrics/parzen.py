"""Parzen-window log-likelihood, the protocol of Goodfellow et al. 2014 (their ``parzen_ll.py``).

A Gaussian kernel of width ``sigma`` is put on each of ``n`` generated samples ``mu_j``
(flattened, intensities in [0, 1]); the density of an image ``x`` of ``d`` pixels is

    log p(x) = logsumexp_j(-||x - mu_j||^2 / (2 sigma^2)) - log n - d log sigma - (d / 2) log(2 pi).

``sigma`` is the value of ``logspace(-1, 0, 10)`` with the highest mean log-likelihood on a
validation set (MNIST: the first 1,000 images of train[50000:60000]); the reported figure
is the mean log-likelihood of the test images and its standard error (``std / sqrt(m)``).
Goodfellow et al. 2014, Table 1 (MNIST, 10,000 samples): GAN 225 +- 2, Deep GSN 214 +- 1.1,
DBN 138 +- 2, Stacked CAE 121 +- 1.6. Theis et al. 2016 ("A note on the evaluation of
generative models", arXiv:1511.01844, Sec. 3.2) show this estimate can rank models
wrongly, even below a model that memorises the training set, so compare with the real-data
row it is printed beside.

Distances are computed in float64 chunk by chunk (memory ``chunk x n`` at a time), once
per image set; every ``sigma`` reuses them.
"""

from __future__ import annotations

import math

import numpy as np

from jaxgan.errors import JaxganError

SIGMAS = tuple(float(s) for s in np.logspace(-1, 0, 10))  # parzen_ll.py: logspace(-1, 0, num=10)
VALIDATION_OFFSET = 50_000   # MNIST train[50000:60000], the pylearn2 validation split
VALIDATION_SIZE = 1_000      # parzen_ll.py's --limit_size
CHUNK = 500                  # images whose distances to every sample are held at once


def check_sigmas(sigmas) -> tuple[float, ...]:
  sigmas = tuple(float(s) for s in sigmas)
  if not sigmas or not all(s > 0 and math.isfinite(s) for s in sigmas):
    raise JaxganError(f"Parzen widths must be finite numbers > 0, got {sigmas}.")
  return sigmas


def flatten01(x: np.ndarray) -> np.ndarray:
  """Images in jaxgan's [-1, 1] as float64 rows of intensities in [0, 1]."""
  return ((np.asarray(x, np.float64).reshape(len(x), -1) + 1.0) / 2.0).clip(0.0, 1.0)


def squared_distances(x: np.ndarray, mu: np.ndarray, chunk: int = CHUNK):
  """Yields ``[<= chunk, n]`` squared distances of rows of ``x [m, d]`` to ``mu [n, d]``."""
  mu_sq = np.sum(mu * mu, axis=1)
  for start in range(0, len(x), chunk):
    xs = x[start:start + chunk]
    d = np.sum(xs * xs, axis=1)[:, None] + mu_sq[None, :] - 2.0 * xs @ mu.T
    yield np.maximum(d, 0.0)


def log_likelihoods(x: np.ndarray, mu: np.ndarray, sigmas) -> np.ndarray:
  """``[len(sigmas), m]``: the Parzen log-likelihood of each row of ``x [m, d]`` under
  kernels of each width on the rows of ``mu [n, d]`` (both float, same ``d``)."""
  sigmas = check_sigmas(sigmas)
  if x.ndim != 2 or mu.ndim != 2 or x.shape[1] != mu.shape[1]:
    raise JaxganError(f"Parzen windows need images and samples of one size; got {x.shape} and {mu.shape}.")
  n, d = mu.shape
  out = np.empty((len(sigmas), len(x)))
  start = 0
  for dist in squared_distances(x, mu):
    for i, s in enumerate(sigmas):
      a = -dist / (2.0 * s * s)
      top = a.max(axis=1, keepdims=True)
      lse = top[:, 0] + np.log(np.sum(np.exp(a - top), axis=1))
      out[i, start:start + len(dist)] = lse - math.log(n) - d * math.log(s) - 0.5 * d * math.log(2 * math.pi)
    start += len(dist)
  return out


def parzen_estimate(samples: np.ndarray, validation: np.ndarray, test: np.ndarray,
                    sigmas=SIGMAS) -> dict:
  """Goodfellow et al.'s procedure on flattened [0, 1] rows: ``sigma`` by the validation
  mean, then the test mean and standard error at that ``sigma``."""
  sigmas = check_sigmas(sigmas)
  valid_ll = log_likelihoods(validation, samples, sigmas).mean(axis=1)
  best = int(np.argmax(valid_ll))
  test_ll = log_likelihoods(test, samples, [sigmas[best]])[0]
  return {"ll": float(test_ll.mean()), "ll_se": float(test_ll.std() / math.sqrt(len(test_ll))),
          "sigma": sigmas[best], "validation_ll": [float(v) for v in valid_ll]}
