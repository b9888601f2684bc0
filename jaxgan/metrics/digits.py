"""Class coverage of generated ``digits`` images, judged by a classifier fit on the real set.

Protocol: a scikit-learn logistic-regression classifier (C=10, lbfgs, 5,000 iterations,
features = the 64 pixel values / 16) is fit on all 1,797 real 8x8 ``digits`` images
(deterministic, no randomness). Generated images ``[N, R, R, 1]`` in [-1, 1] are
box-downsampled to 8x8 and mapped back to the 0..16 pixel scale before classification.
Reported: classes found (any sample predicted as it), the largest class share, and the
mean top-class probability (how confidently samples look like *some* digit).
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image

from jaxgan.data.images import DIGITS_MAX

CLASSIFIER_DESCRIPTION = "sklearn LogisticRegression(C=10, max_iter=5000) on the 1,797 real digits, 8x8, pixels/16"


@functools.lru_cache(maxsize=1)
def real_digits_classifier():
  from sklearn.datasets import load_digits
  from sklearn.linear_model import LogisticRegression
  digits = load_digits()
  clf = LogisticRegression(C=10.0, max_iter=5000)
  clf.fit(digits.data / DIGITS_MAX, digits.target)
  return clf


def to_digits_pixels(images: np.ndarray) -> np.ndarray:
  """``[N, R, R, 1]`` in [-1, 1] -> ``[N, 64]`` on the 0..16 scale of the real digits."""
  images = np.asarray(images, np.float32)
  if images.ndim != 4 or images.shape[-1] != 1:
    raise ValueError(f"expected grayscale images [N, R, R, 1], got {images.shape}")
  out = np.empty((images.shape[0], 8, 8), np.float32)
  for i, img in enumerate(images[..., 0]):
    out[i] = np.asarray(Image.fromarray(img, mode="F").resize((8, 8), Image.BOX))
  return ((np.clip(out, -1, 1) + 1.0) / 2.0 * DIGITS_MAX).reshape(len(images), 64)


def digits_class_stats(images: np.ndarray, labels: np.ndarray | None = None) -> dict:
  """Class histogram and confidence of generated digits (see module docstring); with the
  ``labels`` a class-conditional generator was asked for, also ``label_accuracy``, the
  share of samples the classifier assigns to their label."""
  clf = real_digits_classifier()
  probs = clf.predict_proba(to_digits_pixels(images) / DIGITS_MAX)
  preds = probs.argmax(axis=1)
  counts = np.bincount(preds, minlength=10)
  accuracy = {} if labels is None else {"label_accuracy": float(np.mean(preds == labels))}
  return accuracy | {
      "classes_found": int((counts > 0).sum()),
      "max_class_share": float(counts.max() / len(preds)),
      "mean_top_prob": float(probs.max(axis=1).mean()),
      "class_counts": counts.tolist(),
      "protocol": {"samples": int(len(images)), "classifier": CLASSIFIER_DESCRIPTION},
  }
