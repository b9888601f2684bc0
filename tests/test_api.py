"""The Python API: the README's example runs as written; recipes load by name from the
installed package; Run.sample and Run.evaluate match the commands."""

import os
import re

import numpy as np
import pytest

import jaxgan
from jaxgan.errors import ConfigError

from conftest import REPO, toy_config


def _readme_example() -> str:
  text = open(os.path.join(REPO, "README.md")).read()
  match = re.search(r"<!-- python-example -->\n```python\n(.*?)```", text, re.S)
  assert match, "README has no marked Python example"
  return match.group(1)


def test_the_readme_python_example_runs_as_written(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  exec(compile(_readme_example(), "README.md", "exec"), {})
  assert os.path.isdir(tmp_path / "runs" / "digits_py" / "checkpoints")


def test_recipes_load_by_name_from_the_package_and_by_path(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)  # away from the checkout: the name resolves through jaxgan.recipes
  by_name = jaxgan.load_recipe("ring8_gan", {"train.steps": "7"})
  by_path = jaxgan.load_recipe(os.path.join(REPO, "configs", "ring8_gan.py"), {"train.steps": "7"})
  assert by_name.to_dict() == by_path.to_dict() and by_name.train.steps == 7
  assert "digits_dcgan" in jaxgan.recipe_names() and "__init__" not in jaxgan.recipe_names()
  with pytest.raises(ConfigError, match="No recipe 'ring9_gan'.*ring8_gan"):
    jaxgan.load_recipe("ring9_gan")


def test_train_load_sample_evaluate(tmp_path):
  workdir = str(tmp_path / "w")
  run = jaxgan.train(toy_config(steps=4), workdir)
  assert isinstance(run, jaxgan.Run) and run.step == 4 and run.config.train.steps == 4
  x = run.sample(10, seed=2)
  assert x.shape == (10, 2) and x.dtype == np.float32
  loaded = jaxgan.load(workdir)
  np.testing.assert_array_equal(loaded.sample(10, seed=2), x)
  assert jaxgan.load(workdir, step=2).step == 2
  records = loaded.evaluate(["modes"], num_samples=200, say=lambda m: None)
  assert set(records) == {"modes"} and records["modes"]["step"] == 4
  assert os.path.exists(os.path.join(workdir, "metrics", "modes.jsonl"))
  with pytest.raises(ConfigError, match="num must be >= 1"):
    loaded.sample(0)
  assert callable(jaxgan.train) and hasattr(jaxgan.train, "main")  # also the command module
  assert run.metrics["step"] == 4 and "d_loss" in run.metrics
  # Given latents: the latent rule of jaxgan.latents reproduces Run.sample.
  import jax
  from jaxgan.latents import latents
  z = latents(jax.random.PRNGKey(2), run.config.model.latent_dim, jax.numpy.arange(3))
  np.testing.assert_allclose(loaded.generate(z), x[:3], rtol=1e-5, atol=1e-6)


def test_the_train_command_takes_a_recipe_name(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  args = ["--config", "ring8_gan", "--workdir", str(tmp_path / "w"), "--config.train.steps=3",
          "--config.train.num_devices=1", "--config.log.progress=false", "--config.log.sample_every=0",
          "--config.log.report=false"]
  assert jaxgan.train.main(args) == 0
  assert jaxgan.load(str(tmp_path / "w")).step == 3
  assert jaxgan.train.main(["--config", "configs/missing.py", "--workdir", str(tmp_path / "x")]) == 2
