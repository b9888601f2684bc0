"""The train step: pmap on 8 devices, 1-vs-8 equivalence, pmap == shard_map == vmap, determinism."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import config as config_lib
from jaxgan import data
from jaxgan import run as run_lib
from jaxgan.errors import ConfigError
from jaxgan.state import ema_beta
from jaxgan.parallel import AXIS, replicate, shard, unreplicate
from jaxgan.step import make_train_step

from conftest import tiny_dcgan_config, toy_config


def _setup(config):
  """The run's static GAN, its batch source and its initial host state (jaxgan.run)."""
  model = run_lib.build_model(config)
  source = data.build(config.data, config.train.batch_size, config.seed)
  return model.model, source, run_lib.fresh_state(model)


def _run(config, num_devices, mode="pmap", steps=2):
  """``steps`` train steps on ``num_devices`` devices, assembled as the trainer does."""
  config = config.copy_and_resolve_references()
  config.train.parallel = mode
  model = run_lib.build_model(config)
  source = data.build(config.data, config.train.batch_size, config.seed)
  devices = jax.devices()[:num_devices]
  step_fn = run_lib.parallel_step(model, devices).call
  state = replicate(run_lib.fresh_state(model), devices)
  for _ in range(steps):
    batch = data.split_for_devices([source.next() for _ in range(config.train.n_critic)], num_devices)
    state, metrics = step_fn(state, shard(batch, devices))
  return unreplicate(state), {k: float(v) for k, v in unreplicate(metrics).items()}


def _assert_trees_close(a, b, rtol, atol):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_allclose(np.asarray(x, np.float64), np.asarray(y, np.float64), rtol=rtol, atol=atol)


def test_pmap_on_8_devices_updates_everything():
  config = tiny_dcgan_config(ema_decay=0.9)
  gan, _, init = _setup(config)
  state, metrics = _run(config, 8, steps=1)
  assert set(metrics) == {"d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm"}
  assert all(np.isfinite(v) for v in metrics.values())
  assert int(state.step) == 1
  for name in ("g_params", "d_params", "g_vars", "d_vars"):
    changed = [not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(getattr(state, name)),
                                                        jax.tree.leaves(getattr(init, name)))]
    assert all(changed), name
  # EMA after one step: decay * init + (1 - decay) * new params.
  expected = jax.tree.map(lambda e, p: 0.9 * e + 0.1 * p, init.g_params, state.g_params)
  _assert_trees_close(state.ema_params, expected, 1e-5, 1e-7)


def test_ema_half_life_in_images_with_its_ramp():
  """StyleGAN2's EMA: beta = 0.5 ** (batch / half-life), the half-life ramped to
  min(h, rampup x images seen); after the first update the EMA is G (beta 0 at 0 images)."""
  config = tiny_dcgan_config(ema_kimg=0.16, ema_rampup=0.5)  # batch 16: half-life 160 images
  gan, _, init = _setup(config)
  betas = [float(ema_beta(gan, s)) for s in (0, 1, 10, 20, 100)]
  seen = np.array([0, 1, 10, 20, 100]) * 16.0
  want = 0.5 ** (16 / np.maximum(np.minimum(160.0, 0.5 * seen), 1e-8))
  np.testing.assert_allclose(betas, want, rtol=1e-6)
  assert betas[0] == 0.0 and betas[-1] == pytest.approx(0.5 ** 0.1)
  state, _ = _run(config, 8, steps=2)
  # beta(0) = 0: the EMA equals G after step 0; step 1 (16 images seen, half-life 8): beta 0.25.
  one, _ = _run(config, 8, steps=1)
  expected = jax.tree.map(lambda e, p: 0.25 * e + 0.75 * p, one.g_params, state.g_params)
  _assert_trees_close(state.ema_params, expected, 1e-5, 1e-7)
  _assert_trees_close(one.ema_params, one.g_params, 1e-6, 1e-8)
  plain = tiny_dcgan_config(ema_kimg=0.16)  # no ramp: 0.5 ** 0.1 from the first update
  assert float(ema_beta(_setup(plain)[0], 0)) == pytest.approx(0.5 ** 0.1)
  with pytest.raises(ConfigError, match="both set"):
    config_lib.validate(tiny_dcgan_config(ema_kimg=1.0, ema_decay=0.9))
  with pytest.raises(ConfigError, match="ramps"):
    config_lib.validate(tiny_dcgan_config(ema_rampup=0.05))


@pytest.mark.parametrize("make_config", [toy_config, tiny_dcgan_config])
def test_one_device_equals_eight_devices(make_config):
  config = make_config(n_critic=2)
  one, m1 = _run(config, 1)
  eight, m8 = _run(config, 8)
  _assert_trees_close(one.g_params, eight.g_params, rtol=2e-4, atol=2e-5)
  _assert_trees_close(one.d_params, eight.d_params, rtol=2e-4, atol=2e-5)
  for k in m1:
    assert np.isclose(m1[k], m8[k], rtol=1e-3, atol=1e-5), k


def test_shard_map_equals_pmap():
  config = tiny_dcgan_config()
  a, ma = _run(config, 8, "pmap")
  b, mb = _run(config, 8, "shard_map")
  _assert_trees_close(a, b, rtol=1e-5, atol=1e-6)


def test_unwrapped_step_under_jit_and_vmap_equals_pmap():
  """The same per-device function under jit(vmap) and pmap gives the same state (op-by-op
  vmap, without jit, is the same function and takes ~30 s of per-op compiles on CPU)."""
  config = toy_config()
  gan, source, host = _setup(config)
  step = make_train_step(gan, config.train.batch_size)
  batch = data.split_for_devices([source.next()], 1)
  stacked = jax.tree.map(lambda x: jnp.asarray(x)[None], host)
  results = [
      jax.jit(jax.vmap(step, axis_name=AXIS))(stacked, batch),
      jax.pmap(step, axis_name=AXIS, devices=jax.devices()[:1])(stacked, batch),
  ]
  for other in results[1:]:
    _assert_trees_close(results[0][0].g_params, other[0].g_params, rtol=1e-5, atol=1e-6)


def test_same_seed_same_run_bit_for_bit():
  config = tiny_dcgan_config()
  a, _ = _run(config, 8, steps=3)
  b, _ = _run(config, 8, steps=3)
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_array_equal(x, y)
  config.seed = 1
  c, _ = _run(config, 8, steps=3)
  assert not np.array_equal(jax.tree.leaves(a.g_params)[0], jax.tree.leaves(c.g_params)[0])


def test_each_critic_step_reads_its_own_minibatch():
  config = toy_config(n_critic=2)
  gan, source, host = _setup(config)
  step = jax.pmap(make_train_step(gan, config.train.batch_size), axis_name=AXIS,
                  devices=jax.devices()[:1])
  b0, b1 = source.batch_at(0), source.batch_at(1)
  state = jax.tree.map(lambda x: jnp.asarray(x)[None], host)
  distinct, _ = step(state, data.split_for_devices([b0, b1], 1))
  repeated, _ = step(state, data.split_for_devices([b0, b0], 1))
  assert not np.allclose(jax.tree.leaves(distinct.d_params)[0], jax.tree.leaves(repeated.d_params)[0])


def test_wrong_batch_shape_fails_the_shape_guard():
  config = toy_config()
  gan, _, host = _setup(config)
  step = jax.vmap(make_train_step(gan, config.train.batch_size), axis_name=AXIS)
  stacked = jax.tree.map(lambda x: jnp.asarray(x)[None], host)
  bad = {"x": jnp.zeros((1, 1, config.train.batch_size, 3)), "label": jnp.zeros((1, 1, 16), jnp.int32)}
  with pytest.raises(AssertionError):
    step(stacked, bad)
