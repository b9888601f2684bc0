"""Adaptive discriminator augmentation (jaxgan.ada): each transform on known images, p = 0
is the identity, the heuristic moves p the right way, and p lives in the checkpointed state."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import short_run, tiny_dcgan_config, toy_config
from jaxgan import ada
from jaxgan.errors import ConfigError
from jaxgan.trainer import train_and_evaluate
from test_step import _assert_trees_close, _run

BGC = ada.parse_pipeline("bgc")


def _image(h=8, w=8, c=3, seed=0):
  return jnp.asarray(np.random.default_rng(seed).uniform(-1, 1, (h, w, c)), jnp.float32)


def _outcomes(name, image, keys=24):
  """The pipeline of one transform at p = 1 on ``image`` under ``keys`` keys."""
  pipeline = ada.parse_pipeline(name)
  return [np.asarray(ada.augment_image(image, jax.random.PRNGKey(k), 1.0, pipeline)) for k in range(keys)]


@pytest.mark.parametrize("channels", [1, 3])
def test_p_zero_is_the_identity(channels):
  x = jnp.stack([_image(c=channels, seed=s) for s in range(4)])
  y = jax.jit(lambda x: ada.augment_batch(x, jax.random.PRNGKey(0), 0.0, BGC))(x)
  np.testing.assert_array_equal(np.asarray(y), np.asarray(x))


def test_xflip_and_rotate90_give_exact_flips_and_quarter_turns():
  x = np.asarray(_image(w=8, h=8))
  flips = _outcomes("xflip", jnp.asarray(x))
  seen = {("same" if np.array_equal(o, x) else "flip" if np.array_equal(o, x[:, ::-1]) else "other")
          for o in flips}
  assert seen == {"same", "flip"}
  turns = [np.asarray(o) for o in _outcomes("rotate90", jnp.asarray(x))]
  kinds = set()
  for o in turns:
    match = [k for k in range(4) if np.allclose(o, np.rot90(x, k, axes=(0, 1)), atol=1e-6)]
    assert len(match) == 1
    kinds.add(match[0])
  assert kinds == {0, 1, 2, 3}


def test_xint_shifts_by_whole_pixels_within_an_eighth_of_the_side():
  x = np.asarray(_image(h=16, w=16, c=1))
  for o in _outcomes("xint", jnp.asarray(x)):
    shifts = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
              if np.array_equal(o[2:-2, 2:-2], np.roll(x, (dy, dx), axis=(0, 1))[2:-2, 2:-2])]
    assert len(shifts) == 1  # a whole-pixel shift of at most 16 / 8 = 2 pixels


def _linear(h, w, a=0.3, b=-0.2, c=0.1):
  ys, xs = np.meshgrid(np.arange(h) - (h - 1) / 2, np.arange(w) - (w - 1) / 2, indexing="ij")
  return (a * xs + b * ys + c)[..., None].astype(np.float32)


@pytest.mark.parametrize("name", ["scale", "rotate", "aniso", "xfrac"])
def test_geometric_transforms_map_pixel_centres_by_their_matrix(name):
  """Bilinear resampling is exact on a linear image: where the map lands inside the image,
  the output is the linear function at the mapped position; the matrix has its form."""
  h = w = 16
  x = _linear(h, w)
  pipeline = ada.parse_pipeline(name)
  moved = 0
  for k in range(12):
    key = jax.random.PRNGKey(k)
    g_inv, color = ada.image_matrices(key, 1.0, pipeline, h, w, 1)
    g = np.asarray(g_inv, np.float64)
    np.testing.assert_array_equal(np.asarray(color), np.eye(4))
    np.testing.assert_allclose(g[2], [0, 0, 1])
    lin = g[:2, :2]
    if name == "scale":
      assert np.isclose(lin[0, 0], lin[1, 1]) and lin[0, 1] == lin[1, 0] == 0 and lin[0, 0] > 0
    elif name == "rotate":
      np.testing.assert_allclose(lin @ lin.T, np.eye(2), atol=1e-6)
      assert np.isclose(np.linalg.det(lin), 1.0)
    elif name == "aniso":
      assert np.isclose(lin[0, 0] * lin[1, 1], 1.0, rtol=1e-5) and lin[0, 1] == lin[1, 0] == 0
    else:
      np.testing.assert_array_equal(lin, np.eye(2))
    if name != "xfrac":
      np.testing.assert_array_equal(g[:2, 2], [0, 0])
    moved += not np.allclose(g, np.eye(3))
    out = np.asarray(ada.augment_image(jnp.asarray(x), key, 1.0, pipeline))[..., 0]
    ys, xs = np.meshgrid(np.arange(h) - (h - 1) / 2, np.arange(w) - (w - 1) / 2, indexing="ij")
    src = np.einsum("ij,jhw->ihw", g, np.stack([xs, ys, np.ones_like(xs)]))
    inside = ((np.abs(src[0]) <= (w - 1) / 2 - 1e-3) & (np.abs(src[1]) <= (h - 1) / 2 - 1e-3))
    want = 0.3 * src[0] - 0.2 * src[1] + 0.1
    np.testing.assert_allclose(out[inside], want[inside], atol=1e-5)
  assert moved >= 10  # at p = 1 almost every image moves (a rotation: 1 - sqrt(1 - 1) = 1 each)


def test_colour_transforms_on_known_pixels():
  x = np.asarray(_image(c=3))
  for o in _outcomes("brightness", jnp.asarray(x)):
    shift = o - x
    np.testing.assert_allclose(shift, np.full_like(shift, shift.flat[0]), atol=1e-6)
  for o in _outcomes("contrast", jnp.asarray(x)):
    ratio = o / x
    np.testing.assert_allclose(ratio, np.full_like(ratio, ratio.flat[0]), rtol=1e-4)
  luma = x.mean(-1, keepdims=True)
  flipped = [np.allclose(o, x - 2 * luma, atol=1e-6) for o in _outcomes("lumaflip", jnp.asarray(x))]
  assert any(flipped) and not all(flipped)  # reflected luma (a gray pixel g -> -g) or unchanged
  for name in ("hue", "saturation"):
    for o in _outcomes(name, jnp.asarray(x), keys=8):
      np.testing.assert_allclose(o.mean(-1), luma[..., 0], atol=1e-5)  # luma kept
      dev_in, dev_out = x - luma, o - luma
      if name == "hue":  # a rotation about the luma axis keeps each pixel's chroma length
        np.testing.assert_allclose(np.linalg.norm(dev_out, axis=-1), np.linalg.norm(dev_in, axis=-1), atol=1e-5)
      else:  # saturation scales chroma by one factor per image
        ratio = np.linalg.norm(dev_out, axis=-1) / np.linalg.norm(dev_in, axis=-1)
        np.testing.assert_allclose(ratio, np.full_like(ratio, ratio.flat[0]), rtol=1e-4)


def test_grayscale_images_take_brightness_contrast_and_lumaflip_only():
  x = np.asarray(_image(c=1))
  for name in ("hue", "saturation"):
    for o in _outcomes(name, jnp.asarray(x), keys=4):
      np.testing.assert_array_equal(o, x)
  flips = [np.allclose(o, -x, atol=1e-6) for o in _outcomes("lumaflip", jnp.asarray(x))]
  assert any(flips) and not all(flips)


def test_augmentation_probability_and_differentiability():
  x = jnp.stack([_image(c=3, seed=s) for s in range(64)])
  pipeline = ada.parse_pipeline("xflip")
  y = ada.augment_batch(x, jax.random.PRNGKey(1), 0.5, pipeline)
  changed = np.mean([not np.array_equal(a, b) for a, b in zip(np.asarray(y), np.asarray(x))])
  assert 0.1 < changed < 0.45  # applied with p = 0.5, and then a flip half the time: ~0.25
  grad = jax.jit(jax.grad(lambda x: jnp.sum(ada.augment_batch(x, jax.random.PRNGKey(0), 1.0, BGC) ** 2)))(x[:8])
  assert np.all(np.isfinite(np.asarray(grad))) and float(jnp.abs(grad).sum()) > 0
  # Rows draw from their global index: a slice of the batch is augmented as in the whole.
  aug = jax.jit(lambda x, first: ada.augment_batch(x, jax.random.PRNGKey(0), 0.7, BGC, first))
  whole, part = aug(x[:16], 0), aug(x[8:16], 8)
  np.testing.assert_array_equal(np.asarray(whole[8:16]), np.asarray(part))


def test_p_rises_for_an_overfitting_d_and_falls_for_one_that_does_not():
  settings = ada.AdaSettings(BGC, p_init=0.2, target=0.6, interval=4, kimg=10.0)
  up = down = ada.init_state(settings)
  for i in range(8):
    up = ada.update(settings, up, jnp.float32(0.9), images=64)      # D sure of every real image
    down = ada.update(settings, down, jnp.float32(0.1), images=64)  # D unsure
    if i == 2:  # not yet: p moves every 4 updates
      assert float(up.p) == float(down.p) == pytest.approx(0.2)
  step = 4 * 64 / 10_000
  assert float(up.p) == pytest.approx(0.2 + 2 * step)
  assert float(down.p) == pytest.approx(0.2 - 2 * step)
  for _ in range(40):
    down = ada.update(settings, down, jnp.float32(-1.0), images=64)
  assert float(down.p) == 0.0  # floored at zero
  fixed = ada.AdaSettings(BGC, p_init=0.3, target=0.0)
  assert float(ada.update(fixed, ada.init_state(fixed), jnp.float32(1.0), 64).p) == pytest.approx(0.3)


def _ada_config(steps=4, **train):
  c = short_run(tiny_dcgan_config(resolution=8, channels=3), steps=steps)
  c.train.ada_pipeline, c.train.ada_p, c.train.ada_interval, c.train.ada_kimg = "bgc", 0.3, 3, 0.05
  for k, v in train.items():
    c.train[k] = v
  return c


def test_training_replays_the_heuristic_and_resumes_exactly(tmp_path):
  full = train_and_evaluate(_ada_config(), str(tmp_path / "full"))
  logs = [json.loads(line) for line in open(tmp_path / "full" / "metrics.jsonl")]
  # Replay p from the logged signs: the step's p is the one before its update.
  settings = ada.AdaSettings(BGC, p_init=0.3, target=0.6, interval=3, kimg=0.05)
  state = ada.init_state(settings)
  for log in logs:
    assert log["ada_p"] == pytest.approx(float(state.p), abs=1e-6)
    state = ada.update(settings, state, jnp.float32(log["d_real_sign"]), images=16)
  assert float(full.state.ada.p) == pytest.approx(float(state.p), abs=1e-6)
  assert float(full.state.ada.p) != pytest.approx(0.3)  # it moved (16 images of 50 per update)
  # Killed after step 2 (mid-interval: two of three signs summed), resumed to 4.
  train_and_evaluate(_ada_config(steps=2), str(tmp_path / "resumed"))
  resumed = train_and_evaluate(_ada_config(), str(tmp_path / "resumed"))
  for a, b in zip(jax.tree.leaves(resumed.state), jax.tree.leaves(full.state)):
    np.testing.assert_array_equal(a, b)


def test_ada_step_is_independent_of_the_device_count():
  config = _ada_config()
  one, m1 = _run(config, 1)
  eight, m8 = _run(config, 8)
  _assert_trees_close(one.d_params, eight.d_params, rtol=2e-4, atol=2e-5)
  _assert_trees_close(one.g_params, eight.g_params, rtol=2e-4, atol=2e-5)
  assert float(one.ada.p) == pytest.approx(float(eight.ada.p), abs=1e-6)
  assert m1["ada_p"] == pytest.approx(m8["ada_p"])


def test_a_workdir_without_ada_is_not_resumed_with_it(tmp_path):
  from jaxgan.errors import WorkdirError
  train_and_evaluate(_ada_config(steps=2, ada_pipeline=""), str(tmp_path))
  with pytest.raises(WorkdirError, match="ADA off -> on"):
    train_and_evaluate(_ada_config(), str(tmp_path))


@pytest.mark.parametrize("changes,message", [
    ({"ada_pipeline": "xflip,rotat"}, "Did you mean 'rotate'"),
    ({"ada_pipeline": "rotate_after_aniso"}, "switched on by 'rotate'"),
    ({"ada_p": 1.5}, r"in \[0, 1\]"),
    ({"ada_target": 1.2}, "at most 1"),
    ({"ada_interval": 0}, "ada_interval=0 must be >= 1"),
])
def test_bad_ada_settings_are_refused_before_the_workdir(changes, message, tmp_path):
  config = _ada_config(**changes)
  with pytest.raises(ConfigError, match=message):
    train_and_evaluate(config, str(tmp_path / "run"))
  assert not (tmp_path / "run").exists()


def test_ada_on_points_is_refused(tmp_path):
  config = toy_config(ada_pipeline="bgc")
  with pytest.raises(ConfigError, match="ADA transforms images"):
    train_and_evaluate(config, str(tmp_path / "run"))
