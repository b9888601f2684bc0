import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import losses


def _sigmoid(x):
  return 1 / (1 + np.exp(-x))


def test_closed_form_at_zero_logits():
  z = jnp.zeros(4)
  assert np.isclose(losses.minimax_d_loss(z, z), 2 * np.log(2), rtol=1e-6)
  assert np.isclose(losses.minimax_g_loss(z), -np.log(2), rtol=1e-6)
  assert np.isclose(losses.non_saturating_g_loss(z), np.log(2), rtol=1e-6)


def test_matches_probability_form_on_random_logits():
  rng = np.random.default_rng(0)
  real, fake = rng.normal(size=32) * 3, rng.normal(size=32) * 3
  d_ref = -np.mean(np.log(_sigmoid(real))) - np.mean(np.log(1 - _sigmoid(fake)))
  assert np.isclose(losses.minimax_d_loss(jnp.asarray(real), jnp.asarray(fake)), d_ref, rtol=1e-5)
  assert np.isclose(losses.minimax_g_loss(jnp.asarray(fake)), np.mean(np.log(1 - _sigmoid(fake))), rtol=1e-5)
  assert np.isclose(losses.non_saturating_g_loss(jnp.asarray(fake)), -np.mean(np.log(_sigmoid(fake))), rtol=1e-5)


def test_stable_for_extreme_logits():
  big = jnp.array([1e4, -1e4])
  for value in (losses.minimax_d_loss(big, -big), losses.minimax_g_loss(big),
                losses.non_saturating_g_loss(big)):
    assert np.isfinite(value)
  assert np.isclose(losses.minimax_d_loss(jnp.array([1e4]), jnp.array([-1e4])), 0.0, atol=1e-6)
  assert np.isclose(losses.non_saturating_g_loss(jnp.array([-100.0])), 100.0, rtol=1e-6)


def test_registry_and_shape_checks():
  assert set(losses.LOSSES.names()) >= {"minimax", "non_saturating"}
  with pytest.raises(ValueError, match="Valid names"):
    losses.LOSSES.get("hinge_typo")
  with pytest.raises(AssertionError):
    losses.non_saturating_g_loss(jnp.zeros((4, 1)))


def test_other_losses_against_closed_forms():
  rng = np.random.default_rng(1)
  r, f = rng.normal(size=16) * 2, rng.normal(size=16) * 2
  jr, jf = jnp.asarray(r), jnp.asarray(f)
  close = lambda a, b: np.testing.assert_allclose(float(a), b, rtol=1e-5, atol=1e-6)
  close(losses.hinge_d_loss(jr, jf), np.mean(np.maximum(0, 1 - r)) + np.mean(np.maximum(0, 1 + f)))
  close(losses.critic_g_loss(jf), -f.mean())
  close(losses.wasserstein_d_loss(jr, jf), f.mean() - r.mean())
  close(losses.least_squares_d_loss(jr, jf), 0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f ** 2))
  close(losses.least_squares_g_loss(jf), 0.5 * np.mean((f - 1) ** 2))
  sp = lambda x: np.log1p(np.exp(x))
  close(losses.relativistic_average_d_loss(jr, jf),
        np.mean(sp(-(r - f.mean()))) + np.mean(sp(f - r.mean())))
  close(losses.relativistic_average_g_loss(jf, jr),
        np.mean(sp(-(f - r.mean()))) + np.mean(sp(r - f.mean())))
  # Known points: hinge at perfect margins is 0; LSGAN at its optimum D(real)=1, D(fake)=0 is 0.
  close(losses.hinge_d_loss(jnp.full(4, 2.0), jnp.full(4, -3.0)), 0.0)
  close(losses.least_squares_d_loss(jnp.ones(4), jnp.zeros(4)), 0.0)
  assert losses.LOSSES.get("relativistic_average").g_uses_real
  assert {"hinge", "wasserstein", "least_squares", "relativistic_average"} <= set(losses.LOSSES.names())


def test_relativistic_pairing_against_its_closed_form():
  """RpGAN pairs example i of the real batch with example i of the fake batch (R3GAN eq. 2)."""
  rng = np.random.default_rng(2)
  r, f = rng.normal(size=16) * 2, rng.normal(size=16) * 2
  sp = lambda x: np.log1p(np.exp(x))
  entry = losses.LOSSES.get("relativistic_pairing")
  np.testing.assert_allclose(float(entry.d_loss(jnp.asarray(r), jnp.asarray(f))), np.mean(sp(-(r - f))), rtol=1e-5)
  np.testing.assert_allclose(float(entry.g_loss(jnp.asarray(f), jnp.asarray(r))), np.mean(sp(-(f - r))), rtol=1e-5)
  assert entry.g_uses_real
  # Pairing, not averaging: a permutation of the fakes changes the loss; equal logits give log 2.
  assert not np.isclose(float(entry.d_loss(jnp.asarray(r), jnp.asarray(f[::-1]))), np.mean(sp(-(r - f))))
  np.testing.assert_allclose(float(entry.d_loss(jnp.asarray(r), jnp.asarray(r))), np.log(2), rtol=1e-6)
  with pytest.raises(AssertionError):
    entry.d_loss(jnp.zeros(4), jnp.zeros(3))
