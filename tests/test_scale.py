"""Mixed precision (config.dtype='bfloat16') and gradient accumulation (train.grad_accum)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import data
from jaxgan.config import default_config
from jaxgan.errors import ConfigError
from jaxgan.state import build_gan, create_state
from jaxgan.step import apply_train_mode, make_train_step
from jaxgan.trainer import train_and_evaluate

from conftest import tiny_dcgan_config, toy_config
from test_step import _assert_trees_close, _run


def _digits_config(dtype: str):
  c = default_config()
  c.dtype = dtype
  c.model.g_width = 16
  c.model.d_width = 16
  c.model.dcgan.use_batchnorm = False
  c.train.batch_size = 32
  return c


def _relative_difference(a, b) -> float:
  flat = lambda tree: np.concatenate([np.ravel(np.asarray(x, np.float64)) for x in jax.tree.leaves(tree)])
  return float(np.linalg.norm(flat(a) - flat(b)) / np.linalg.norm(flat(a)))


def test_bfloat16_run_tracks_the_float32_run_on_digits():
  """40 steps of the digits DCGAN: bf16 arithmetic, float32 parameters and optimizer state,
  and parameters within a few percent of the float32 run (measured: ~1%)."""
  fp32, m32 = _run(_digits_config("float32"), 1, steps=40)
  bf16, m16 = _run(_digits_config("bfloat16"), 1, steps=40)
  for tree in (bf16.g_params, bf16.d_params, bf16.g_opt_state, bf16.d_opt_state, bf16.g_vars):
    assert all(x.dtype in (np.float32, np.int32) for x in jax.tree.leaves(tree))
  assert _relative_difference(fp32.g_params, bf16.g_params) < 0.05
  assert _relative_difference(fp32.d_params, bf16.d_params) < 0.05
  assert _relative_difference(fp32.g_params, jax.tree.map(np.zeros_like, fp32.g_params)) == 1.0
  for key in ("d_loss", "g_loss", "d_real", "d_fake"):
    assert m16[key] == pytest.approx(m32[key], abs=0.05), key


def test_bfloat16_computes_in_bfloat16_with_float32_outputs():
  config = _digits_config("bfloat16")
  gan = build_gan(config, data.spec(config.data))
  state = create_state(gan, 0)
  z = jnp.ones((4, config.model.latent_dim))
  g = jax.vmap(lambda p: apply_train_mode(gan.generator, p, state.g_vars, z, None, dtype=gan.compute_dtype),
               axis_name="batch", axis_size=1)
  params = jax.tree.map(lambda x: x[None], state.g_params)
  jaxpr = str(jax.make_jaxpr(g)(params))
  assert "bf16[1,4,4,4,32]" in jaxpr  # the first transposed convolution's output
  fake, g_vars = g(params)
  assert fake.dtype == jnp.float32
  assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(g_vars))


@pytest.mark.parametrize("options", [
    {},
    {"loss.regularizer": "r1", "model.g_conditioning": "embed", "model.d_conditioning": "projection"},
    {"model.d_conditioning": "acgan", "model.g_conditioning": "embed", "loss.name": "hinge"},
    {"model.pack": 2, "loss.weight_clip": 0.1},
])
def test_gradient_accumulation_equals_the_big_batch(options):
  """4 microbatches per update on 2 devices give the parameters of the whole batch.

  (Losses whose gradient in some parameter is exactly zero in exact arithmetic, e.g. the
  hinge and Wasserstein losses in D's output bias at initialisation, are left out: Adam
  divides float rounding residues of ~1e-9 there by ~1e-8 and moves those parameters by a
  fraction of the learning rate, differently for each summation order.)"""
  configs = []
  for accum in (1, 4):
    config = toy_config(n_critic=2, grad_accum=accum, ema_decay=0.5)
    for key, value in options.items():
      section, name = key.split(".")
      config[section][name] = value
    configs.append(config)
  big, m_big = _run(configs[0], 2, steps=3)
  small, m_small = _run(configs[1], 2, steps=3)
  _assert_trees_close(big, small, rtol=1e-4, atol=1e-6)
  for key in m_big:
    assert m_small[key] == pytest.approx(m_big[key], rel=1e-4, abs=1e-6), key


def test_gradient_accumulation_with_batchnorm_runs_per_microbatch():
  """With BatchNorm the statistics are per microbatch, so the update differs from the big
  batch's but stays finite and close."""
  big, _ = _run(tiny_dcgan_config(grad_accum=1), 2, steps=2)
  small, metrics = _run(tiny_dcgan_config(grad_accum=2), 2, steps=2)
  assert all(np.isfinite(v) for v in metrics.values())
  assert 0 < _relative_difference(big.g_params, small.g_params) < 0.2


@pytest.mark.parametrize("changes, message", [
    ({"train.grad_accum": 0}, "grad_accum must be >= 1"),
    ({"train.grad_accum": 3}, "grad_accum=3 must divide the per-device batch 2"),
    ({"train.grad_accum": 2, "model.pack": 2}, "pack=2 must divide the microbatch of 1 \\(2 per device / train.grad_accum=2\\)"),
    ({"train.grad_accum": 2, "train.unrolled_steps": 2}, "cannot be combined with train.unrolled_steps"),
    ({"dtype": "float16"}, "Valid names: bfloat16, float32"),
])
def test_bad_scale_options_are_refused_before_the_workdir(changes, message, tmp_path):
  config = toy_config()  # batch 16 on 8 devices: 2 per device
  for key, value in changes.items():
    *section, name = key.split(".")
    (config[section[0]] if section else config)[name] = value
  with pytest.raises(ConfigError, match=message):
    train_and_evaluate(config, str(tmp_path / "run"))
  assert not (tmp_path / "run").exists()


def test_a_bfloat16_run_resumes_as_float32(tmp_path):
  """The compute dtype is not part of the checkpoint: a run may switch it on resume."""
  config = toy_config(steps=2)
  config.dtype = "bfloat16"
  train_and_evaluate(config, str(tmp_path))
  config = toy_config(steps=4)
  result = train_and_evaluate(config, str(tmp_path))
  assert result.step == 4


def test_make_train_step_checks_the_microbatch():
  config = toy_config(grad_accum=3)
  gan = build_gan(config, data.spec(config.data))
  with pytest.raises(ConfigError, match="grad_accum=3"):
    make_train_step(gan, 16)


def _train(tmp_path, name, steps, **train):
  config = toy_config(steps=steps, **train)
  config.log.every = config.checkpoint.every = config.log.sample_every = 2
  config.log.tensorboard = False
  return train_and_evaluate(config, str(tmp_path / name))


def test_several_steps_per_dispatch_give_the_same_run(tmp_path):
  one = _train(tmp_path, "one", 8)
  scanned = _train(tmp_path, "scanned", 8, steps_per_dispatch=2)
  assert scanned.step == 8
  _assert_trees_close(one.state, scanned.state, rtol=1e-5, atol=1e-7)
  assert scanned.metrics == pytest.approx(one.metrics, rel=1e-5)
  assert sorted(p.name for p in (tmp_path / "scanned" / "samples").iterdir()) == [
      f"step_{s:07d}.png" for s in (2, 4, 6, 8)]


def test_a_run_resumed_off_a_multiple_realigns_with_single_steps(tmp_path):
  """3 steps one at a time, then resumed with 2 steps per dispatch: step 4 is run alone,
  then pairs; the run ends where an uninterrupted one does."""
  _train(tmp_path, "run", 3)
  resumed = _train(tmp_path, "run", 8, steps_per_dispatch=2)
  straight = _train(tmp_path, "straight", 8)
  assert resumed.step == 8
  _assert_trees_close(straight.state, resumed.state, rtol=1e-5, atol=1e-7)


def test_steps_per_dispatch_must_divide_the_event_intervals(tmp_path):
  config = toy_config(steps=8, steps_per_dispatch=3)
  config.log.every = 3
  with pytest.raises(ConfigError, match="train.steps=8, checkpoint.every=2 are not"):
    train_and_evaluate(config, str(tmp_path / "run"))
  assert not (tmp_path / "run").exists()


def test_device_feed_reads_one_step_ahead_without_moving_the_saved_position():
  from jaxgan.data.feed import DeviceFeed
  config = toy_config()
  source = data.build(config.data, 16, seed=0)
  reference = data.build(config.data, 16, seed=0)
  expected = [reference.batch_at(i)["x"] for i in range(6)]
  feed = DeviceFeed(source, n_critic=1, local_devices=2, put=lambda b: b)
  first = feed.take(1)
  np.testing.assert_array_equal(first["x"].reshape(16, 2), expected[0])
  feed.prefetch(1)
  assert source.position == 2 and feed.state()["position"] == 1  # batch 1 read ahead, not taken
  np.testing.assert_array_equal(feed.take(1)["x"].reshape(16, 2), expected[1])
  feed.prefetch(1)
  # A chunk of another size than the one read ahead rewinds and reads again, in order.
  pair = feed.take(2)
  assert pair["x"].shape == (2, 2, 1, 8, 2)
  np.testing.assert_array_equal(pair["x"][:, 1].reshape(16, 2), expected[3])
  assert feed.state()["position"] == 4
