"""ProGAN (Karras et al. 2018): pixel normalization, equalized learning rate, the growth
schedule and its alpha, continuity of both networks across every phase change, the reals'
fade, sampling at a checkpoint's phase, and a run resumed mid-fade that ends bit-identical."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import short_run
from jaxgan import growth, losses
from jaxgan.config import default_config
from jaxgan.errors import ConfigError
from jaxgan.models import progan
from jaxgan.run import load_run
from jaxgan.trainer import train_and_evaluate

R = 16  # 4, 8, 16: levels 0, 1, 2


def _nets(**kw):
  g = progan.ProGANGenerator(resolution=R, channels=3, width=8, max_channels=8, **kw)
  d = progan.ProGANDiscriminator(resolution=R, width=8, max_channels=8, mbstd_group=2, **kw)
  return g, d


def _init():
  g, d = _nets()
  z = jax.random.normal(jax.random.key(0), (4, 8))
  x = jax.random.normal(jax.random.key(1), (4, R, R, 3))
  return g.init(jax.random.key(2), z), d.init(jax.random.key(3), x), z, x


def _at(variables, alpha):
  return {**variables, "growth": {"alpha": jnp.asarray(alpha, jnp.float32)}}


def test_pixel_norm_gives_unit_mean_square_per_pixel():
  x = jax.random.normal(jax.random.key(0), (2, 3, 3, 5)) * 7
  np.testing.assert_allclose(jnp.mean(progan.pixel_norm(x) ** 2, axis=-1), 1.0, rtol=1e-5)


def test_equalized_learning_rate_scales_unit_weights_by_the_he_constant():
  layer = progan.WSConv(4, kernel=3)
  x = jax.random.normal(jax.random.key(0), (1, 5, 5, 6))
  params = layer.init(jax.random.key(1), x)
  w = params["params"]["kernel"]
  assert abs(float(jnp.std(w)) - 1.0) < 0.15  # stored weights ~ N(0, 1)
  want = jax.lax.conv_general_dilated(x, w * np.sqrt(2) / np.sqrt(6 * 9), (1, 1), "SAME",
                                      dimension_numbers=("NHWC", "HWIO", "NHWC"))
  np.testing.assert_allclose(layer.apply(params, x), want, rtol=1e-5, atol=1e-6)


def test_one_parameter_tree_holds_every_level():
  g_vars, d_vars, _, _ = _init()
  assert {"to_rgb_4", "to_rgb_8", "to_rgb_16", "conv_8_a", "conv_16_b"} <= set(g_vars["params"])
  assert {"from_rgb_4", "from_rgb_8", "from_rgb_16", "conv_8_a", "conv_16_b", "logit"} <= set(d_vars["params"])


@pytest.mark.parametrize("level", [1, 2])
def test_generator_is_continuous_across_phase_changes(level):
  g_vars, _, z, _ = _init()
  stable_before, _ = _nets(level=level - 1)
  fading, _ = _nets(level=level, fading=True)
  stable_after, _ = _nets(level=level)
  # The fade's first step (alpha 0) draws the previous level's image; its end (alpha 1) the new level's.
  np.testing.assert_allclose(fading.apply(_at(g_vars, 0.0), z), stable_before.apply(g_vars, z), rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(fading.apply(_at(g_vars, 1.0), z), stable_after.apply(g_vars, z), rtol=1e-5, atol=1e-6)
  half = fading.apply(_at(g_vars, 0.5), z)
  np.testing.assert_allclose(half, 0.5 * (stable_before.apply(g_vars, z) + stable_after.apply(g_vars, z)),
                             rtol=1e-5, atol=1e-6)
  # The image of a level is constant on blocks of R / resolution pixels.
  img = np.asarray(stable_before.apply(g_vars, z))
  f = R // (4 << (level - 1))
  np.testing.assert_array_equal(img, np.repeat(np.repeat(img[:, ::f, ::f], f, axis=1), f, axis=2))


@pytest.mark.parametrize("level", [1, 2])
def test_discriminator_is_continuous_across_phase_changes(level):
  _, d_vars, _, x = _init()
  _, stable_before = _nets(level=level - 1)
  _, fading = _nets(level=level, fading=True)
  _, stable_after = _nets(level=level)
  np.testing.assert_allclose(fading.apply(_at(d_vars, 0.0), x), stable_before.apply(d_vars, x), rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(fading.apply(_at(d_vars, 1.0), x), stable_after.apply(d_vars, x), rtol=1e-5, atol=1e-5)


def test_the_schedule_in_steps_and_its_alpha():
  c = default_config()
  c.train.grow_from, c.train.stable_kimg, c.train.fade_kimg = 4, 0.64, 0.32
  c.train.batch_size, c.train.n_critic = 16, 2  # 32 images per step: 20 steps stable, 10 fading
  schedule = growth.from_config(c.train, 16)
  phases = schedule.phases()
  assert [(p.resolution, p.fading, p.start, p.end) for p in phases] == [
      (4, False, 0, 20), (8, True, 20, 30), (8, False, 30, 50), (16, True, 50, 60), (16, False, 60, None)]
  assert schedule.phase_at(0) == phases[0] and schedule.phase_at(29) == phases[1]
  assert schedule.phase_at(10 ** 6) == phases[-1]
  fade = phases[1]
  alphas = [float(growth.alpha(fade, s)) for s in range(20, 30)]
  np.testing.assert_allclose(alphas, np.arange(10) / 10, atol=1e-7)
  assert float(growth.alpha(phases[2], 35)) == 1.0
  c.train.grow_from = 8  # starting higher skips the 4x4 phase and its fade
  assert [(p.resolution, p.fading) for p in growth.from_config(c.train, 16).phases()] == [
      (8, False), (16, True), (16, False)]


def test_reals_follow_the_phase():
  x = jax.random.uniform(jax.random.key(0), (2, 3, R, R, 1))
  fade = growth.Phase(level=1, fading=True, start=0, end=10)  # fading in 8x8
  blocks = lambda y, f: np.repeat(np.repeat(progan.downsample(y.reshape(-1, R, R, 1), f), f, 1), f, 2).reshape(y.shape)
  np.testing.assert_allclose(growth.process_reals(x, fade, jnp.float32(1.0)), blocks(x, 2), rtol=1e-6)
  np.testing.assert_allclose(growth.process_reals(x, fade, jnp.float32(0.0)), blocks(x, 4), rtol=1e-6)
  full = growth.Phase(level=2, fading=False, start=0, end=None)
  np.testing.assert_array_equal(growth.process_reals(x, full, jnp.float32(1.0)), x)


def test_drift_loss_against_its_closed_form():
  r, f = np.linspace(-2, 3, 8), np.linspace(-1, 1, 8)
  want = f.mean() - r.mean() + 0.001 * np.mean(r ** 2)
  np.testing.assert_allclose(float(losses.wasserstein_drift_d_loss(jnp.asarray(r), jnp.asarray(f))), want, rtol=1e-6)


def progan_config(steps=12, resolution=R, **train):
  c = short_run(default_config(), steps=steps)
  c.data.name, c.data.resolution, c.data.channels, c.data.num_examples = "synthetic_images", resolution, 1, 64
  c.model.generator = c.model.discriminator = "progan"
  c.model.latent_dim = 8
  c.model.progan.width = c.model.progan.max_channels = 8
  c.model.progan.mbstd_group = 2
  c.loss.name, c.loss.regularizer, c.loss.reg_weight = "wasserstein_drift", "gradient_penalty", 10.0
  c.train.g_beta1 = c.train.d_beta1 = 0.0
  c.train.ema_decay = 0.9
  # 16 images a step: 4x4 for steps 0-2, fade 8x8 in 3-5, 8x8 6-8, fade 16x16 in 9-11, 16x16 from 12.
  c.train.grow_from, c.train.stable_kimg, c.train.fade_kimg = 4, 0.048, 0.048
  for key, value in train.items():
    c.train[key] = value
  return c


def test_run_resumed_mid_fade_ends_where_an_uninterrupted_run_does(tmp_path):
  config = lambda steps, **train: progan_config(steps, resolution=8, **train)  # 4x4, fade 8x8, 8x8
  full = train_and_evaluate(config(8), str(tmp_path / "full"))
  # Killed at step 4 (mid-fade of 8x8: alpha 1/3), resumed to 8.
  train_and_evaluate(config(4), str(tmp_path / "resumed"))
  resumed = train_and_evaluate(config(8), str(tmp_path / "resumed"))
  assert resumed.step == full.step == 8
  for a, b in zip(jax.tree.leaves(resumed.state), jax.tree.leaves(full.state)):
    np.testing.assert_array_equal(a, b)
  assert all(np.isfinite(v) for v in full.metrics.values())
  # Several steps per dispatch do not cross a phase boundary (a call that did would run a
  # step at the wrong level) and give the same run up to float rounding: XLA fuses the
  # scanned steps differently, and Adam with beta1 = 0 carries the 1e-7 differences along.
  c = config(8, steps_per_dispatch=2)
  c.log.every = 2
  chunked = train_and_evaluate(c, str(tmp_path / "chunked"))
  for a, b in zip(jax.tree.leaves(chunked.state), jax.tree.leaves(full.state)):
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


def test_samples_of_a_checkpoint_are_drawn_at_its_phase(tmp_path):
  train_and_evaluate(progan_config(2), str(tmp_path / "run"))  # still at 4x4
  run = load_run(str(tmp_path / "run"))
  images = run.samples(4, seed=0)
  assert images.shape == (4, R, R, 1)
  np.testing.assert_array_equal(images, np.repeat(np.repeat(images[:, ::4, ::4], 4, 1), 4, 2))
  assert len(np.unique(images[0])) > 1


def test_growth_is_refused_for_networks_that_cannot_grow_and_for_bad_schedules(tmp_path):
  c = progan_config()
  c.model.generator = c.model.discriminator = "dcgan"
  c.model.progan = default_config().model.progan
  c.model.g_width = c.model.d_width = 8
  c.model.dcgan.use_batchnorm = False
  with pytest.raises(ConfigError, match="cannot grow"):
    train_and_evaluate(c, str(tmp_path / "a"))
  for start in (3, 16, 32):
    with pytest.raises(ConfigError, match="grow_from"):
      train_and_evaluate(progan_config(grow_from=start), str(tmp_path / f"b{start}"))
  with pytest.raises(ConfigError, match="stable_kimg"):
    train_and_evaluate(progan_config(stable_kimg=0.0), str(tmp_path / "c"))


def test_an_exported_generator_of_a_run_mid_fade_draws_at_its_phase(tmp_path):
  import jaxgan
  from jaxgan.exporting import export_generator
  from jaxgan.state import generate, sampling_params
  trained = jaxgan.train(progan_config(4, resolution=8), str(tmp_path / "run"))  # step 4: fading in 8x8
  run = load_run(str(tmp_path / "run"))
  z = np.asarray(jax.random.normal(jax.random.key(0), (3, 8)))
  exported = np.asarray(export_generator(run, ("cpu",)).call(jnp.asarray(z)))
  np.testing.assert_allclose(exported, trained.generate(z), rtol=1e-6, atol=1e-6)
  # ... which is not what the full network (its 8x8 layers alone, alpha 1) draws.
  full = np.asarray(generate(run.gan, sampling_params(run.state), run.state.g_vars, jnp.asarray(z)))
  assert np.abs(full - exported).max() > 1e-3
