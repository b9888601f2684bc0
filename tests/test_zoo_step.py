"""The zoo's options inside the one train step: unrolled GAN against an explicit
reference, class-conditional training (AC-GAN, projection), DiffAugment, lazy R1, and the
combinations that are refused."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgan import data
from jaxgan.errors import ConfigError
from jaxgan.state import build_gan
from jaxgan import sample
from jaxgan import run as run_lib
from jaxgan.parallel import replicate, shard, unreplicate
from jaxgan.trainer import train_and_evaluate

from conftest import tiny_dcgan_config, toy_config
from test_step import _assert_trees_close, _run


def test_unrolled_generator_gradient_equals_an_explicit_look_ahead():
  """G's update with k unrolled D steps equals Adam applied to the gradient of the G loss
  after k explicit Adam updates of D on (real, G(z)), written here as a Python loop."""
  config = toy_config(unrolled_steps=3, batch_size=8)
  model = run_lib.build_model(config)
  gan, host = model.model, run_lib.fresh_state(model)
  source = data.build(config.data, 8, config.seed)
  batch = data.split_for_devices([source.next()], 1)
  step_fn = run_lib.parallel_step(model, jax.devices()[:1]).call
  out = unreplicate(step_fn(replicate(host, jax.devices()[:1]), shard(batch, jax.devices()[:1]))[0])

  # The latents of the step's (only) D update, which the G update reuses.
  step_key = jax.random.fold_in(host.rng, host.step)
  d_key = jax.random.split(jax.random.fold_in(step_key, 1), 1)[0]
  z = jax.vmap(lambda i: jax.random.normal(jax.random.fold_in(d_key, i), (gan.latent_dim,)))(jnp.arange(8))
  real = batch["x"][0, 0]
  d_tx = optax.adam(config.train.d_lr, b1=0.5, b2=0.999, eps_root=1e-8)
  D = lambda p, x: gan.discriminator.apply({"params": p}, x, None, train=True)

  def g_loss(g_params):
    fake = gan.generator.apply({"params": g_params}, z, None, train=True)
    d_params, d_opt = out.d_params, out.d_opt_state  # D after the step's own update
    for _ in range(3):
      grads = jax.grad(lambda p: gan.loss.d_loss(D(p, real), D(p, fake)))(d_params)
      updates, d_opt = d_tx.update(grads, d_opt, d_params)
      d_params = optax.apply_updates(d_params, updates)
    return gan.loss.g_loss(D(d_params, fake), None)

  grads = jax.jit(jax.grad(g_loss))(host.g_params)  # compiled whole (op by op: ~40 s of per-op compiles)
  g_tx = optax.adam(config.train.g_lr, b1=0.5, b2=0.999)
  updates, _ = g_tx.update(grads, host.g_opt_state, host.g_params)
  _assert_trees_close(out.g_params, optax.apply_updates(host.g_params, updates), rtol=1e-4, atol=1e-6)
  # ... and differs from the plain GAN's update (the look-ahead matters).
  plain = run_lib.build_model(toy_config(batch_size=8))
  plain_out = unreplicate(run_lib.parallel_step(plain, jax.devices()[:1]).call(
      replicate(host, jax.devices()[:1]), shard(batch, jax.devices()[:1]))[0])
  assert not np.allclose(jax.tree.leaves(plain_out.g_params)[0], jax.tree.leaves(out.g_params)[0])


def _conditional_toy(d_conditioning, steps):
  config = toy_config(steps=steps, batch_size=64, g_lr=2e-3, d_lr=2e-3)
  config.model.g_width = config.model.d_width = 32
  config.model.g_conditioning, config.model.d_conditioning = "embed", d_conditioning
  config.log.every, config.checkpoint.every, config.log.sample_every = 50, steps, 0
  config.log.tensorboard = False
  return config


@pytest.mark.parametrize("d_conditioning", ["acgan", "projection"])
def test_conditional_gan_puts_each_label_on_its_own_mode(d_conditioning, tmp_path):
  """ring8's labels are mode indices: after a short run, samples asked for label k lie
  nearer centre k than any other centre (chance: 1/8)."""
  from jaxgan.data import toy
  from jaxgan.state import generate_samples
  config = _conditional_toy(d_conditioning, 600)
  result = train_and_evaluate(config, str(tmp_path))
  gan = build_gan(config, data.spec(config.data))
  centers = toy.TOY_SETS["ring8"][0]()
  hits = []
  for label in range(8):
    x = generate_samples(gan, result.state, 200, seed=1, label=label)
    nearest = np.argmin(((x[:, None] - centers[None]) ** 2).sum(-1), axis=1)
    hits.append(np.mean(nearest == label))
  assert np.mean(hits) > 0.6, hits
  if d_conditioning == "acgan":
    records = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
    assert records[-1]["d_class_loss"] < 0.5 * records[0]["d_class_loss"]
    # The command line samples one class and stores the labels with the samples.
    out = tmp_path / "three.npz"
    assert sample.main(["--workdir", str(tmp_path), "--num", "16", "--label", "3", "--npz", str(out),
                        "--out", str(tmp_path / "three.png")]) == 0
    with np.load(out) as f:
      assert f["label"].tolist() == [3] * 16 and f["x"].shape == (16, 2)
    assert sample.main(["--workdir", str(tmp_path), "--label", "8"]) == 2  # ring8 has labels 0..7


def test_conditional_augmented_step_is_independent_of_the_device_count():
  config = tiny_dcgan_config(augment="color,translation,cutout")
  config.model.g_conditioning, config.model.d_conditioning = "cbn", "projection"
  one, m1 = _run(config, 1)
  eight, m8 = _run(config, 8)
  _assert_trees_close(one.g_params, eight.g_params, rtol=2e-4, atol=2e-5)
  _assert_trees_close(one.d_params, eight.d_params, rtol=2e-4, atol=2e-5)


def test_lazy_r1_is_applied_every_k_updates_and_scaled_by_k(tmp_path):
  config = toy_config(steps=6)
  config.loss.regularizer, config.loss.reg_every = "r1", 3
  config.log.tensorboard = False
  train_and_evaluate(config, str(tmp_path))
  penalties = [json.loads(line)["d_penalty"] for line in open(tmp_path / "metrics.jsonl")]
  assert sample.main(["--workdir", str(tmp_path), "--label", "1"]) == 2  # not class-conditional
  assert [p > 0 for p in penalties] == [True, False, False, True, False, False]
  # Compare with the eager penalty of the same D: 3x R1 on step 0's update.
  eager = toy_config(steps=1)
  eager.loss.regularizer = "r1"
  eager.log.tensorboard = False
  train_and_evaluate(eager, str(tmp_path / "eager"))
  first = json.loads(open(tmp_path / "eager" / "metrics.jsonl").readline())["d_penalty"]
  assert np.isclose(penalties[0], 3 * first, rtol=1e-5)


@pytest.mark.parametrize("changes,message", [
    ({"model.g_conditioning": "embed"}, "needs both sides conditioned"),
    ({"model.g_conditioning": "embed", "model.d_conditioning": "projection", "model.pack": 2},
     "cannot be combined with class conditioning"),
    ({"model.g_conditioning": "cbn", "model.d_conditioning": "acgan"}, "has none; use g_conditioning='embed'"),
    ({"model.d_conditioning": "projektion"}, "Did you mean 'projection'"),
    ({"model.d_minibatch": "std"}, "Valid names: discrimination, none, stddev"),
    ({"model.attention_res": 8}, "self-attention needs an image model"),
    ({"train.augment": "color"}, "DiffAugment transforms images"),
    ({"loss.reg_every": 0}, "reg_every must be >= 1"),
    ({"train.unrolled_steps": -1}, "unrolled_steps must be >= 0"),
])
def test_bad_zoo_combinations_are_refused_before_the_workdir(changes, message, tmp_path):
  config = toy_config()
  for key, value in changes.items():
    section, name = key.split(".")
    config[section][name] = value
  with pytest.raises(ConfigError, match=message):
    train_and_evaluate(config, str(tmp_path / "run"))
  assert not (tmp_path / "run").exists()


def test_attention_resolution_must_be_a_feature_map_size():
  config = tiny_dcgan_config(resolution=16)
  config.model.attention_res = 5
  with pytest.raises(ConfigError, match="feature maps have sizes"):
    build_gan(config, data.spec(config.data))


def test_conditioning_needs_labelled_data():
  from jaxgan import models
  config = tiny_dcgan_config()
  config.model.g_conditioning, config.model.d_conditioning = "cbn", "projection"
  spec = data.spec(config.data)
  unlabelled = type(spec)(spec.name, spec.shape, 0, spec.kind)
  with pytest.raises(ConfigError, match="needs labelled data"):
    models.build_discriminator(config.model, unlabelled)
