"""Learning-rate and other schedules: cosine annealing of the learning rates, Adam's beta2 and the penalty weight (R3GAN's), and Burda et al. 2016's staged decay."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from conftest import short_run, toy_config
from jaxgan import state as state_lib
from jaxgan.config import validate
from jaxgan.errors import ConfigError
from jaxgan.trainer import train_and_evaluate


def test_cosine_anneal_endpoints_midpoint_and_hold():
  up = state_lib.cosine_anneal(0.9, 0.99, 100)
  np.testing.assert_allclose([float(up(t)) for t in (0, 50, 100, 1000)], [0.9, 0.945, 0.99, 0.99], rtol=1e-6)
  down = state_lib.cosine_anneal(2e-4, 5e-5, 10)
  want = 5e-5 + 1.5e-4 * 0.5 * (1 + np.cos(np.pi * 3 / 10))
  np.testing.assert_allclose(float(down(3)), want, rtol=1e-6)


def _grads(seed, n=5):
  key = jax.random.key(seed)
  return [{"w": jax.random.normal(jax.random.fold_in(key, i), (3, 2))} for i in range(n)]


def test_annealed_adam_with_a_constant_beta2_is_optax_adam():
  params = {"w": jnp.ones((3, 2))}
  plain = optax.adam(optax.constant_schedule(1e-2), b1=0.5, b2=0.99)  # the GAN passes schedules
  annealed = state_lib.adam(optax.constant_schedule(1e-2), 0.5, 0.99, 0.99, 10)
  s1, s2 = plain.init(params), annealed.init(params)
  assert jax.tree.structure(s1) == jax.tree.structure(s2)  # one checkpoint layout
  for g in _grads(0):
    u1, s1 = plain.update(g, s1, params)
    u2, s2 = annealed.update(g, s2, params)
    np.testing.assert_allclose(u1["w"], u2["w"], rtol=1e-6, atol=1e-9)


def test_annealed_beta2_follows_the_torch_style_reference():
  """Adam with beta2_t = cosine(0.9 -> 0.99 over 4 updates) and bias correction 1 - beta2_t^t."""
  params = {"w": jnp.ones((3, 2))}
  tx = state_lib.scale_by_adam_annealed(0.0, state_lib.cosine_anneal(0.9, 0.99, 4))
  s = tx.init(params)
  m = v = np.zeros((3, 2))
  for t, g in enumerate(_grads(1, 6), start=1):
    beta2 = 0.99 + (0.9 - 0.99) * 0.5 * (1 + np.cos(np.pi * min(t - 1, 4) / 4))
    gw = np.asarray(g["w"], np.float64)
    m, v = gw, beta2 * v + (1 - beta2) * gw ** 2
    want = m / (np.sqrt(v / (1 - beta2 ** t)) + 1e-8)
    u, s = tx.update(g, s, params)
    np.testing.assert_allclose(u["w"], want, rtol=1e-5)


def _annealed(steps=4):
  c = short_run(toy_config(), steps=steps)
  c.loss.name, c.loss.regularizer = "relativistic_pairing", "r1_r2"
  c.loss.reg_weight, c.loss.reg_weight_final = 2.0, 0.2
  c.train.lr_schedule, c.train.g_lr_final, c.train.d_lr_final = "cosine", 5e-5, 5e-5
  c.train.g_beta1 = c.train.d_beta1 = 0.0
  c.train.g_beta2 = c.train.d_beta2 = 0.9
  c.train.g_beta2_final = c.train.d_beta2_final = 0.99
  c.train.anneal_steps = 4
  return c


def test_penalty_weight_anneals_and_a_resumed_run_equals_an_uninterrupted_one(tmp_path):
  full = train_and_evaluate(_annealed(), str(tmp_path / "full"))
  # The weight logged at the last step (D update 3 of 4) is the cosine's value there.
  want = 0.2 + 1.8 * 0.5 * (1 + np.cos(np.pi * 3 / 4))
  np.testing.assert_allclose(full.metrics["d_penalty_weight"], want, rtol=1e-5)
  train_and_evaluate(_annealed(steps=2), str(tmp_path / "resumed"))
  resumed = train_and_evaluate(_annealed(), str(tmp_path / "resumed"))
  assert resumed.step == full.step == 4
  for a, b in zip(jax.tree.leaves(resumed.state), jax.tree.leaves(full.state)):
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("key,value,match", [
    ("train.g_lr_final", 1e-5, "lr_schedule='cosine'"),
    ("train.anneal_steps", 10, "none is on"),
    ("train.d_beta2_final", 1.0, r"\[0, 1\)"),
    ("loss.reg_weight_final", 0.5, "loss.reg_weight"),
])
def test_annealing_settings_that_do_nothing_or_make_no_sense_are_refused(key, value, match):
  c = toy_config()
  section, name = key.split(".")
  c[section][name] = value
  with pytest.raises(ConfigError, match=match):
    validate(c)


def test_burda_stages_follow_the_papers_passes():
  """Burda et al. 2016: stage i lasts 3^i passes at 1e-3 * 10^(-i/7); over 3,280 updates
  (one per pass) the stages start at updates 0, 1, 4, 13, 40, 121, 364, 1093."""
  schedule = state_lib.LR_SCHEDULES.get("burda_stages")(1e-3, 3280)
  starts = [0, 1, 4, 13, 40, 121, 364, 1093]
  for i, start in enumerate(starts):
    np.testing.assert_allclose(float(schedule(start)), 1e-3 * 10 ** (-i / 7), rtol=1e-6)
    if start:
      np.testing.assert_allclose(float(schedule(start - 1)), 1e-3 * 10 ** (-(i - 1) / 7), rtol=1e-6)
  np.testing.assert_allclose(float(schedule(10 ** 6)), 1e-4, rtol=1e-6)
  # a shorter run is the same schedule compressed, never past the last stage
  short = state_lib.LR_SCHEDULES.get("burda_stages")(1e-3, 10)
  values = [float(short(t)) for t in range(12)]
  assert values == sorted(values, reverse=True) and values[0] == np.float32(1e-3)
  np.testing.assert_allclose(values[-1], 1e-4, rtol=1e-6)
