"""StyleGAN2 (Karras et al. 2020): the modulated convolution against per-sample convolutions,
demodulation, style mixing, the mapping network's learning-rate multiplier, w_avg and
truncation, and a run that resumes bit-identically."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from conftest import short_run
from jaxgan.config import default_config
from jaxgan.errors import ConfigError
from jaxgan.models import stylegan2 as sg
from jaxgan.trainer import train_and_evaluate


def _per_sample_reference(x, kernel, styles, demodulate):
  """One ordinary convolution per sample with that sample's modulated weights (eqs. 1-3)."""
  weights = sg.modulated_weights(kernel, styles, demodulate)
  conv = lambda xi, wi: lax.conv_general_dilated(xi[None], wi, (1, 1), "SAME",
                                                 dimension_numbers=("NHWC", "HWIO", "NHWC"))[0]
  return jax.vmap(conv)(x, weights)


@pytest.mark.parametrize("demodulate", [True, False])
def test_modulated_conv_equals_per_sample_convolutions(demodulate):
  k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
  x = jax.random.normal(k1, (3, 6, 6, 5))
  kernel = jax.random.normal(k2, (3, 3, 5, 7))
  styles = jax.random.normal(k3, (3, 5)) + 1.0
  np.testing.assert_allclose(sg.modulated_conv(x, kernel, styles, demodulate),
                             _per_sample_reference(x, kernel, styles, demodulate), rtol=1e-5, atol=1e-5)


def test_demodulated_weights_have_unit_norm_per_output_feature_map():
  kernel = jax.random.normal(jax.random.key(1), (3, 3, 4, 6))
  styles = jax.random.uniform(jax.random.key(2), (5, 4), minval=0.1, maxval=3.0)
  w = sg.modulated_weights(kernel, styles)
  np.testing.assert_allclose(jnp.sqrt(jnp.sum(w ** 2, axis=(1, 2, 3))), 1.0, rtol=1e-5)


def _tiny_g(**kw):
  return sg.StyleGAN2Generator(**dict(resolution=16, channels=1, width=8, max_channels=8, w_dim=8,
                                      mapping_layers=2) | kw)


def test_style_mixing_switches_styles_at_the_chosen_layer():
  """Layers before ``mix_at`` read z's style, the others z2's: changing z2 changes nothing
  when mix_at is past the last layer and changes the image when it is not; every layer is
  reachable (mix_at = 0 is z2 alone)."""
  g = _tiny_g()
  z, z2, z3 = (jax.random.normal(jax.random.key(i), (2, 8)) for i in range(3))
  variables = g.init(jax.random.key(9), z, train=False)
  run = lambda mix_at, other: g.apply(variables, z, train=False, mix_at=mix_at, z2=other)
  n = g.num_layers()
  np.testing.assert_array_equal(run(n, z2), run(n, z3))            # z2 unused
  np.testing.assert_array_equal(run(n, z2), g.apply(variables, z, train=False))
  assert not np.allclose(run(n - 1, z2), run(n - 1, z3))           # only the last toRGB switches
  # mix_at = 0 takes every style from z2 (noise still comes from z): equal to z2's own image
  # up to that noise, so compare with noise strengths at their initial zero.
  np.testing.assert_allclose(run(0, z2), g.apply(variables, z2, train=False), rtol=1e-5, atol=1e-6)


def test_mapping_lr_multiplier_scales_weights_and_their_gradients():
  layer = sg.EqualDense(4, lr_mul=0.01)
  x = jnp.ones((2, 8))
  params = layer.init(jax.random.key(0), x)
  np.testing.assert_allclose(np.std(params["params"]["kernel"]), 100.0, rtol=0.3)   # N(0, 1/lr_mul^2)
  grads = jax.grad(lambda p: jnp.sum(layer.apply(p, x)))(params)["params"]["kernel"]
  np.testing.assert_allclose(grads, 0.01 / np.sqrt(8) * 2, rtol=1e-6)                # x lr_mul / sqrt(fan-in)


def test_w_avg_tracks_w_in_training_and_truncation_pulls_towards_it():
  g = _tiny_g(mixing_prob=0.0, axis_name=None)
  z = jax.random.normal(jax.random.key(0), (4, 8))
  variables = g.init(jax.random.key(1), z, train=False)
  assert np.all(variables["stats"]["w_avg"] == 0)
  _, new = g.apply(variables, z, train=True, mutable=["stats"])
  w = sg.Mapping(8, 2, 0.01).apply({"params": variables["params"]["Mapping_0"]}, z)
  np.testing.assert_allclose(new["stats"]["w_avg"], 0.005 * np.mean(w, 0), rtol=1e-5, atol=1e-7)
  variables = {**variables, "stats": {**variables["stats"], "w_avg": jnp.mean(w, 0)}}
  full, zero = (_tiny_g(truncation=t, axis_name=None) for t in (1.0, 0.0))
  mean_img = zero.apply(variables, z, train=False)
  np.testing.assert_allclose(mean_img, mean_img[:1].repeat(4, 0), rtol=1e-4, atol=1e-5)  # psi = 0: all w_avg
  assert not np.allclose(full.apply(variables, z, train=False), mean_img)


def test_minibatch_stddev_channel():
  x = jax.random.normal(jax.random.key(0), (8, 4, 4, 3))
  y = sg.minibatch_stddev(x, 4)
  assert y.shape == (8, 4, 4, 4)
  groups = np.asarray(x).reshape(4, 2, 4, 4, 3)
  want = np.sqrt(groups.var(axis=0) + 1e-8).mean(axis=(1, 2, 3))
  np.testing.assert_allclose(y[:, 0, 0, 3], np.tile(want, 4), rtol=1e-5)


def stylegan2_config(steps=4):
  c = short_run(default_config(), steps=steps)
  c.data.name, c.data.resolution, c.data.channels, c.data.num_examples = "synthetic_images", 8, 1, 64
  c.model.generator = c.model.discriminator = "stylegan2"
  c.model.latent_dim = 8
  c.model.stylegan2.width, c.model.stylegan2.max_channels, c.model.stylegan2.w_dim = 8, 8, 8
  c.model.stylegan2.mapping_layers = 2
  c.loss.regularizer, c.loss.reg_weight, c.loss.reg_every = "r1", 0.01, 2
  return c


def test_resumed_stylegan2_run_equals_uninterrupted_run(tmp_path):
  """With style mixing, lazy R1 and lazy path-length regularization (w_avg and pl_mean
  are state too)."""
  def config(steps):
    c = stylegan2_config(steps)
    c.loss.g_regularizer, c.loss.g_reg_every = "path_length", 2
    return c
  full = train_and_evaluate(config(4), str(tmp_path / "full"))
  train_and_evaluate(config(2), str(tmp_path / "resumed"))
  resumed = train_and_evaluate(config(4), str(tmp_path / "resumed"))
  assert resumed.step == full.step == 4
  for a, b in zip(jax.tree.leaves(resumed.state), jax.tree.leaves(full.state)):
    np.testing.assert_array_equal(a, b)
  assert np.any(np.asarray(full.state.g_vars["stats"]["w_avg"]) != 0)
  assert float(full.state.g_vars["stats"]["pl_mean"]) > 0 and "g_pl_penalty" in full.metrics


def test_resolution_must_be_a_power_of_two(tmp_path):
  c = stylegan2_config()
  c.data.resolution = 12
  with pytest.raises(ConfigError, match="power"):
    train_and_evaluate(c, str(tmp_path / "r"))


def test_sampling_with_truncation_from_the_command_line(tmp_path, capsys):
  from jaxgan import sample
  workdir = str(tmp_path / "run")
  train_and_evaluate(stylegan2_config(steps=2), workdir)
  npz = lambda psi: str(tmp_path / f"s{psi}.npz")
  for psi in ("1.0", "0.0"):
    assert sample.main(["--workdir", workdir, "--num", "4", "--npz", npz(psi), "--truncation", psi]) == 0
  assert "truncation psi 0" in capsys.readouterr().out
  plain, mean = np.load(npz("1.0"))["x"], np.load(npz("0.0"))["x"]
  assert np.std(mean[:, :, :, 0], axis=0).max() < np.std(plain[:, :, :, 0], axis=0).max()
  assert sample.main(["--workdir", workdir, "--truncation", "1.5"]) != 0


def test_truncation_is_refused_for_generators_without_a_mapping_network(tmp_path):
  from conftest import toy_config
  from jaxgan.run import load_run
  workdir = str(tmp_path / "toy")
  train_and_evaluate(short_run(toy_config(), steps=2), workdir)
  with pytest.raises(ConfigError, match="mapping network"):
    load_run(workdir).with_truncation(0.7)


def test_path_length_penalty_equals_a_direct_jacobian_computation():
  from jaxgan.regularizers import path_length_penalty
  g = _tiny_g(mixing_prob=0.0, resolution=8)
  z = jax.random.normal(jax.random.key(0), (2, 8))
  variables = g.init(jax.random.key(1), z, train=False)
  # Non-zero noise strengths, so the noise inputs take part as in a trained G.
  variables = jax.tree_util.tree_map_with_path(
      lambda path, v: v + 0.3 if "noise_strength" in jax.tree_util.keystr(path) else v, variables)
  apply_g = lambda z, **kw: g.apply(variables, z, None, train=False, **kw)
  keys, pl_mean = jax.random.split(jax.random.key(5), 2), jnp.asarray(0.4)
  got, mean_length = path_length_penalty(apply_g, z, keys, pl_mean)

  ws = apply_g(z, only_ws=True)
  img = apply_g(z, ws=ws)
  y = np.stack([np.asarray(jax.random.normal(k, img.shape[1:])) for k in keys]) / np.sqrt(8 * 8)
  lengths = []
  for i in range(2):  # the full Jacobian of example i's image in its own styles
    jac = jax.jacrev(lambda w: apply_g(z, ws=ws.at[i].set(w))[i])(ws[i])  # [H, W, C, L, w_dim]
    g_i = np.einsum("hwc,hwcld->ld", y[i], np.asarray(jac))
    lengths.append(np.sqrt(np.mean(np.sum(g_i ** 2, axis=1))))
  lengths = np.array(lengths)
  np.testing.assert_allclose(mean_length, lengths.mean(), rtol=1e-4)
  np.testing.assert_allclose(got, np.mean((lengths - 0.4) ** 2), rtol=1e-4)


def test_path_length_needs_a_mapping_network(tmp_path):
  from conftest import tiny_dcgan_config
  c = tiny_dcgan_config()
  c.loss.g_regularizer = "path_length"
  with pytest.raises(ConfigError, match="mapping network"):
    train_and_evaluate(c, str(tmp_path / "r"))


@pytest.mark.slow
def test_one_device_equals_eight_with_path_length():
  """Noise, mixing and path-length latents are keyed per global row. (Minibatch-stddev groups
  form within a device's batch, as on the reference's GPUs, so group 1 here.)"""
  import tempfile
  states = []
  for n in (1, 8):
    c = stylegan2_config(2)
    c.model.stylegan2.mbstd_group, c.model.stylegan2.mixing_prob = 1, 0.9
    c.loss.g_regularizer, c.loss.g_reg_every = "path_length", 1
    c.train.num_devices = n
    states.append(train_and_evaluate(c, tempfile.mkdtemp()).state)
  for a, b in zip(jax.tree.leaves(states[0]), jax.tree.leaves(states[1])):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_style_mixing_grid_and_truncation_sweep_from_the_command_line(tmp_path, capsys):
  from jaxgan import sample, styles
  from jaxgan.run import load_run
  workdir = str(tmp_path / "run")
  train_and_evaluate(stylegan2_config(steps=2), workdir)
  run = load_run(workdir)
  grid = styles.mixing_grid(run, rows=2, cols=3, mix_at=2, seed=0)
  assert grid.shape == (12, 8, 8, 1) and np.all(grid[0] == 1.0)  # blank corner
  samples = run.samples(5, seed=0)  # A = samples 0..2, B = samples 3..4 of seed 0
  np.testing.assert_allclose(grid[1:4], samples[:3], rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(grid[[4, 8]], samples[3:5], rtol=1e-5, atol=1e-6)
  # A cell equals G on B's styles below layer 2 and A's above (noise keyed by B).
  g, state = run.gan.generator, run.state
  variables = {"params": state.ema_params if state.ema_params is not None else state.g_params, **state.g_vars}
  ws_a, ws_b = (g.apply(variables, z, None, train=False, only_ws=True)
                for z in (jnp.asarray(run_latents(run, [0])), jnp.asarray(run_latents(run, [3]))))
  layer = np.arange(ws_a.shape[1])[None, :, None]
  cell = g.apply(variables, jnp.asarray(run_latents(run, [3])), None, train=False,
                 ws=jnp.where(layer < 2, ws_b, ws_a))
  np.testing.assert_allclose(grid[5], np.clip(np.asarray(cell[0]), -1, 1), rtol=1e-5, atol=1e-6)
  with pytest.raises(ConfigError, match="mix_at"):
    styles.mixing_grid(run, 2, 3, mix_at=run.gan.generator.num_layers())
  sweep = styles.truncation_sweep(run, 2, [1.0, 0.0], seed=0)
  np.testing.assert_allclose(sweep[0::2], samples[:2], rtol=1e-5, atol=1e-6)
  # psi 0: every latent at w_avg (only the per-latent noise inputs still differ)
  assert np.abs(sweep[1] - sweep[3]).max() < 0.1 * np.abs(sweep[0] - sweep[2]).max()
  out = str(tmp_path / "mix.png")
  assert sample.main(["--workdir", workdir, "--style_mixing", "2x3", "--mix_at", "2", "--out", out]) == 0
  assert (tmp_path / "mix.png").exists() and "styles below layer 2" in capsys.readouterr().out
  assert sample.main(["--workdir", workdir, "--truncation_sweep", "1,0.5,0", "--num", "2"]) == 0
  assert (tmp_path / "run" / "samples" / "truncation_sweep.png").exists()
  assert sample.main(["--workdir", workdir, "--style_mixing", "2x3", "--mix_at", "99"]) != 0


def run_latents(run, rows):
  from jaxgan.latents import latents
  return latents(jax.random.PRNGKey(0), run.gan.latent_dim, jnp.asarray(rows))


def test_samples_of_generators_without_tanh_are_clipped_to_the_image_range(tmp_path):
  """StyleGAN2's output is linear: samples (pictures, metrics) are clipped to [-1, 1]."""
  from jaxgan.run import load_run
  from jaxgan.state import generate, sampling_params
  workdir = str(tmp_path / "run")
  train_and_evaluate(stylegan2_config(steps=2), workdir)
  run = load_run(workdir)
  # Scale the toRGB biases far out, so the raw output leaves [-1, 1].
  params = jax.tree_util.tree_map_with_path(
      lambda path, p: p + 5.0 if "bias" in jax.tree_util.keystr(path) and p.shape == (1,) else p,
      sampling_params(run.state))
  state = run.state.replace(ema_params=params) if run.state.ema_params is not None else run.state.replace(g_params=params)
  run.state = state
  z = run_latents(run, list(range(4)))
  raw = np.asarray(generate(run.gan, params, state.g_vars, z))
  assert raw.max() > 1.0
  samples = run.samples(4, seed=0)
  assert samples.min() >= -1.0 and samples.max() <= 1.0
  np.testing.assert_allclose(samples, np.clip(raw, -1, 1), rtol=1e-5, atol=1e-6)


def test_auto_settings_follow_the_reference_heuristics():
  """StyleGAN2-ADA's --cfg=auto: gamma = 0.0002 res^2 / batch, batch and EMA from the resolution."""
  s = sg.auto_settings(1024, devices=8)
  assert (s["batch_size"], s["mbstd_group"], s["width"], s["lr"]) == (32, 4, 1024, 0.002)
  assert s["r1_gamma"] == pytest.approx(0.0002 * 1024 ** 2 / 32) and s["ema_kimg"] == 10.0
  s = sg.auto_settings(64, devices=8)
  assert (s["batch_size"], s["r1_gamma"], s["ema_kimg"]) == (64, pytest.approx(0.0128), 20.0)
  assert sg.auto_settings(256, devices=1)["batch_size"] == 16  # one device: min(4096 / 256, 32)
