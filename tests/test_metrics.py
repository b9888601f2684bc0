import numpy as np
import pytest

from jaxgan.data import toy
from jaxgan.data.images import load_digits
from jaxgan.metrics import digits, modes


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_real_samples_capture_every_mode(name):
  x, _ = toy.sample_mixture(name, 2500, seed=0)
  centers, std = toy.TOY_SETS[name][0](), toy.TOY_SETS[name][1]
  r = modes.mode_stats(x, centers, std)
  assert r["modes_captured"] == len(centers)
  assert r["high_quality_share"] > 0.98  # 3 std in 2D holds 98.9% of a Gaussian
  assert r["reverse_kl"] < 0.02


def test_one_mode_and_junk():
  centers, std = toy.ring8_centers(), 0.01
  one = centers[3] + np.random.default_rng(0).normal(size=(2500, 2)) * std
  r = modes.mode_stats(one, centers, std)
  assert r["modes_captured"] == 1 and r["counts"][3] == sum(r["counts"])
  assert np.isclose(r["reverse_kl"], np.log(8), atol=1e-9)
  far = np.full((100, 2), 10.0)
  r = modes.mode_stats(far, centers, std)
  assert r["modes_captured"] == 0 and r["high_quality_share"] == 0.0 and r["reverse_kl"] == float("inf")


def test_exact_threshold_and_min_count():
  centers = np.array([[0.0, 0.0], [1.0, 0.0]])
  pts = np.array([[0.0, 0.29]] * 5 + [[1.0, 0.31]] * 5)  # inside / outside 3 * 0.1
  r = modes.mode_stats(pts, centers, 0.1, min_count=5)
  assert r["counts"] == [5, 0] and r["modes_captured"] == 1 and r["high_quality_share"] == 0.5
  assert modes.mode_stats(pts, centers, 0.1, min_count=6)["modes_captured"] == 0
  with pytest.raises(ValueError, match="samples must be"):
    modes.mode_stats(np.zeros((3, 3)), centers, 0.1)


def test_digits_classifier_on_real_digits():
  x, labels = load_digits(16)
  r = digits.digits_class_stats(x)
  assert r["classes_found"] == 10 and r["max_class_share"] < 0.12 and r["mean_top_prob"] > 0.9
  one_class = digits.digits_class_stats(x[labels == 7])
  assert one_class["classes_found"] <= 3 and one_class["max_class_share"] > 0.9
  with pytest.raises(ValueError, match="grayscale"):
    digits.digits_class_stats(np.zeros((2, 16, 16, 3)))


def test_a_metrics_own_std_is_printed_without_members():
  """KID records its own spread over subsets as ``kid_std``; that is not a many-seed summary."""
  from jaxgan.metrics.evaluators import _value
  assert _value({"kid": 107.4, "kid_std": 6.5}, "kid") == "kid=107.4"
  assert _value({"fd": 2.0, "fd_std": 0.5, "fd_members": [1.5, 2.5]}, "fd") == "fd=2 +- 0.5 (1.5, 2.5)"
