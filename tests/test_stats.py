"""Sample-quality statistics against references written the obvious way (loops, scipy)."""

import itertools

import numpy as np
import pytest
from scipy import linalg
from scipy.spatial.distance import cdist

from jaxgan.metrics import modes, stats


def _rng(seed=0):
  return np.random.default_rng(seed)


def _ref_frechet(x, y):
  mu1, mu2 = x.mean(0), y.mean(0)
  s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
  root = linalg.sqrtm(s1 @ s2).real
  return np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * root)


def _ref_kid_one(x, y):
  d = x.shape[1]
  k = lambda a, b: (a @ b / d + 1) ** 3
  m, n = len(x), len(y)
  xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
  yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
  xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
  return xx + yy - 2 * xy


def _ref_radii(x, k):
  d = cdist(x, x)
  return np.array([sorted(row)[k] for row in d])


def test_frechet_of_a_set_with_itself_is_zero():
  x = _rng().normal(size=(500, 16)) @ _rng(1).normal(size=(16, 16))
  mu, sigma = stats.feature_stats(x)
  assert abs(stats.frechet_distance(mu, sigma, mu, sigma)) < 1e-6


def test_frechet_matches_reference_and_closed_form():
  x = _rng().normal(size=(400, 8))
  y = _rng(1).normal(loc=0.5, scale=2.0, size=(300, 8))
  got = stats.frechet_distance(*stats.feature_stats(x), *stats.feature_stats(y))
  np.testing.assert_allclose(got, _ref_frechet(x, y), rtol=1e-4)
  # Hand-made: N(0, I) vs N(m, 4I) in D dims -> |m|^2 + D(1 + 4 - 2*2) = |m|^2 + D.
  d, m = 5, np.arange(5.0)
  got = stats.frechet_distance(np.zeros(d), np.eye(d), m, 4 * np.eye(d))
  np.testing.assert_allclose(got, m @ m + d, rtol=1e-10)


def test_frechet_singular_covariances_use_the_epsilon_fallback(monkeypatch):
  sigma1, sigma2 = np.diag([1.0, 0.0, 0.0]), np.diag([0.0, 1.0, 0.0])  # product is 0
  got = stats.frechet_distance(np.zeros(3), sigma1, np.ones(3), sigma2)
  assert abs(got - (3 + 2)) < 1e-2
  calls = []
  real_sqrtm = linalg.sqrtm

  def failing_once(a):  # the first root is non-finite: the eps * I retry must be taken
    calls.append(a.copy())
    return np.full_like(a, np.nan) if len(calls) == 1 else real_sqrtm(a)

  monkeypatch.setattr(stats.linalg, "sqrtm", failing_once)
  got = stats.frechet_distance(np.zeros(3), sigma1, np.ones(3), sigma2, eps=1e-6)
  assert len(calls) == 2 and abs(got - 5) < 1e-2
  np.testing.assert_allclose(calls[1], (sigma1 + 1e-6 * np.eye(3)) @ (sigma2 + 1e-6 * np.eye(3)))


def test_frechet_refuses_a_clearly_complex_root(monkeypatch):
  monkeypatch.setattr(stats.linalg, "sqrtm", lambda a: np.eye(len(a)) * (1 + 0.5j))
  with pytest.raises(ValueError, match="imaginary component"):
    stats.frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2))


def test_feature_stats_warns_when_fewer_samples_than_dimensions():
  with pytest.warns(UserWarning, match="biased"):
    stats.feature_stats(_rng().normal(size=(10, 20)))


def test_inception_score_matches_reference():
  logits = _rng().normal(scale=3.0, size=(1000, 10))
  p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
  scores = []
  for part in np.array_split(p, 10):
    py = part.mean(0)
    scores.append(np.exp(np.mean([np.sum(q * (np.log(q) - np.log(py))) for q in part])))
  got = stats.inception_score(logits, splits=10)
  np.testing.assert_allclose(got, (np.mean(scores), np.std(scores)), rtol=1e-4)
  # Hand-made: confident and uniform over K classes -> K; all one class -> 1.
  one_hot = np.eye(10)[np.arange(1000) % 10] * 50.0
  np.testing.assert_allclose(stats.inception_score(one_hot)[0], 10.0, rtol=1e-4)
  np.testing.assert_allclose(stats.inception_score(np.tile(one_hot[:1], (1000, 1)))[0], 1.0, rtol=1e-4)


def test_kid_matches_reference_on_one_subset():
  x, y = _rng().normal(size=(30, 4)), _rng(1).normal(loc=0.3, size=(30, 4))
  mean, std = stats.kernel_inception_distance(x, y, num_subsets=1, subset_size=30)
  np.testing.assert_allclose(mean, _ref_kid_one(x, y), rtol=1e-4)
  assert np.isnan(std)  # one subset: no spread to report (not 0.0)
  assert not np.isnan(stats.kernel_inception_distance(x, y, num_subsets=2, subset_size=20)[1])
  with pytest.raises(ValueError, match="at least one subset"):
    stats.kernel_inception_distance(x, y, num_subsets=0)


def test_frechet_refuses_non_finite_statistics():
  mu, sigma = np.zeros(3), np.eye(3)
  bad = sigma.copy()
  bad[1, 2] = np.nan
  with pytest.raises(ValueError, match="sigma2 holds 1 NaN"):
    stats.frechet_distance(mu, sigma, mu, bad)
  with pytest.raises(ValueError, match="mu1 holds 1 NaN"):
    stats.frechet_distance(np.array([0.0, np.inf, 0.0]), sigma, mu, sigma)


def test_inception_score_refuses_probabilities():
  logits = _rng().normal(scale=3.0, size=(100, 10))
  p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
  with pytest.raises(ValueError, match="look like probabilities"):
    stats.inception_score(p)
  np.testing.assert_allclose(stats.inception_score(np.log(p))[0], stats.inception_score(logits)[0],
                             rtol=1e-6)


def test_kid_is_unbiased():
  values = [stats.kernel_inception_distance(_rng(2 * i).normal(size=(50, 8)),
                                            _rng(2 * i + 1).normal(size=(50, 8)),
                                            num_subsets=1)[0] for i in range(300)]
  assert abs(np.mean(values)) < 3 * np.std(values) / np.sqrt(len(values))
  shifted = stats.kernel_inception_distance(_rng().normal(size=(200, 8)),
                                            _rng(1).normal(loc=1.0, size=(200, 8)))[0]
  assert shifted > 10 * np.std(values)


@pytest.mark.parametrize("k", [1, 3])
def test_knn_radii_match_brute_force(k):
  x = _rng().normal(size=(300, 6))
  np.testing.assert_allclose(stats.knn_radii(x, k), _ref_radii(x, k), rtol=1e-6)


def test_precision_recall_match_reference(monkeypatch):
  monkeypatch.setattr(stats, "_BLOCK", 64)  # several row blocks
  real, fake = _rng().normal(size=(200, 5)), _rng(1).normal(loc=0.7, size=(150, 5))
  r_real, r_fake = _ref_radii(real, 3), _ref_radii(fake, 3)
  d = cdist(fake, real)
  precision = np.mean([any(d[j, i] <= r_real[i] for i in range(len(real))) for j in range(len(fake))])
  recall = np.mean([any(d[j, i] <= r_fake[j] for j in range(len(fake))) for i in range(len(real))])
  np.testing.assert_allclose(stats.precision_recall(real, fake, k=3), (precision, recall), rtol=1e-4)


def test_precision_recall_hand_made():
  grid = np.array(list(itertools.product(range(5), range(5))), np.float64)  # 25 points
  assert stats.precision_recall(grid, grid) == (1.0, 1.0)
  far = grid + 100.0
  assert stats.precision_recall(grid, far) == (0.0, 0.0)
  half = np.concatenate([grid[:10], far[:15]])
  p, _ = stats.precision_recall(grid, half)
  assert p == pytest.approx(10 / 25)


def test_density_coverage_match_reference():
  real, fake = _rng().normal(size=(200, 5)), _rng(1).normal(loc=0.5, size=(180, 5))
  radii = _ref_radii(real, 5)
  d = cdist(fake, real)
  density = np.sum([np.sum(d[j] <= radii) for j in range(len(fake))]) / (5 * len(fake))
  coverage = np.mean([d[:, i].min() <= radii[i] for i in range(len(real))])
  np.testing.assert_allclose(stats.density_coverage(real, fake, k=5), (density, coverage), rtol=1e-4)
  assert stats.density_coverage(real, real + 1000.0) == (0.0, 0.0)


def test_bad_features_are_refused():
  with pytest.raises(ValueError, match="NaN"):
    stats.feature_stats(np.full((10, 2), np.nan))
  with pytest.raises(ValueError, match="shape"):
    stats.precision_recall(np.zeros(10), np.zeros((10, 1)))
  with pytest.raises(ValueError, match="feature sizes differ"):
    stats.kernel_inception_distance(np.zeros((10, 2)), np.zeros((10, 3)))


def test_class_mode_stats_for_stacked_mnist():
  uniform = modes.class_mode_stats(np.arange(3000) % 1000, 1000)
  assert uniform["modes_captured"] == 1000 and abs(uniform["kl_to_uniform"]) < 1e-12
  one = modes.class_mode_stats(np.full(100, 7), 1000)
  assert one["modes_captured"] == 1 and one["kl_to_uniform"] == pytest.approx(np.log(1000))
  with pytest.raises(ValueError):
    modes.class_mode_stats(np.array([1000]), 1000)
