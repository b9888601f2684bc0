import os
import glob

import pytest

from jaxgan import config as config_lib
from jaxgan.errors import ConfigError
from jaxgan.registry import Registry

from conftest import REPO


def test_registry_unknown_name_lists_valid_and_closest():
  reg = Registry("loss")
  reg.register("non_saturating")(1)
  reg.register("minimax")(2)
  assert reg.get("minimax") == 2
  with pytest.raises(ValueError, match=r"Did you mean 'non_saturating'.*minimax, non_saturating"):
    reg.get("non_saturatin")
  with pytest.raises(ValueError, match="twice"):
    reg.register("minimax")(3)


def test_override_types_and_values():
  c = config_lib.default_config()
  config_lib.apply_overrides(c, {"train.steps": "200", "train.g_lr": "1e-3", "log.progress": "false",
                                 "model.generator": "mlp", "train.d_lr": "1"})
  assert c.train.steps == 200 and c.train.g_lr == 1e-3 and c.log.progress is False
  assert c.model.generator == "mlp" and c.train.d_lr == 1.0 and isinstance(c.train.d_lr, float)


@pytest.mark.parametrize("key,closest", [("train.stepz", "train.steps"), ("trian.steps", "train.steps"),
                                         ("model.latent_dims", "model.latent_dim")])
def test_unknown_override_names_closest_key(key, closest):
  with pytest.raises(ConfigError, match=f"Unknown config key '{key}'.*Did you mean '{closest}'"):
    config_lib.apply_overrides(config_lib.default_config(), {key: "1"})


def test_override_wrong_type_is_refused():
  with pytest.raises(ConfigError, match="expects a value of type int, got 'abc'"):
    config_lib.apply_overrides(config_lib.default_config(), {"train.steps": "abc"})
  with pytest.raises(ConfigError, match="true/false"):
    config_lib.apply_overrides(config_lib.default_config(), {"log.progress": "maybe"})


def test_cli_override_parsing():
  rest, over = config_lib.parse_cli_overrides(
      ["--config", "x.py", "--config.train.steps=5", "--config.seed", "3", "--workdir", "w"])
  assert rest == ["--config", "x.py", "--workdir", "w"]
  assert over == {"train.steps": "5", "seed": "3"}


def test_recipe_with_unknown_key_fails(tmp_path):
  recipe = tmp_path / "bad.py"
  recipe.write_text("from jaxgan.config import default_config\n"
                    "def get_config():\n  c = default_config()\n  c.train.stepss = 3\n  return c\n")
  with pytest.raises(ConfigError, match="stepss"):
    config_lib.load(str(recipe))
  with pytest.raises(ConfigError, match="does not exist"):
    config_lib.load(str(tmp_path / "missing.py"))


@pytest.mark.parametrize("key,value", [("train.steps", "0"), ("train.batch_size", "-1"),
                                       ("train.g_lr", "0.0"), ("train.ema_decay", "1.0"),
                                       ("model.mlp.maxout", "1"), ("model.mlp.maxout", "-2"),
                                       ("model.mlp.init_std", "-0.1")])
def test_invalid_values_are_refused(key, value):
  c = config_lib.default_config()
  config_lib.apply_overrides(c, {key: value})
  with pytest.raises(ConfigError, match=key.split(".")[-1]):
    config_lib.validate(c)


@pytest.mark.parametrize("key,value", [("model.mlp.maxout", "5"), ("model.mlp.batchnorm", "true"),
                                       ("model.mlp.init_std", "0.02")])
def test_mlp_only_options_are_refused_for_other_networks(key, value):
  c = config_lib.default_config()  # DCGAN G and D
  config_lib.apply_overrides(c, {key: value})
  with pytest.raises(ConfigError, match=f"{key.split('.')[-1]}.*'mlp' networks only"):
    config_lib.validate(c)


def test_every_recipe_loads_and_round_trips_through_json():
  recipes = sorted(p for p in glob.glob(os.path.join(REPO, "configs", "*.py")) if not os.path.basename(p).startswith("_"))
  assert len(recipes) >= 4
  for path in recipes:
    c = config_lib.load(path)
    again = config_lib.from_json(config_lib.to_json(c))
    assert config_lib.flatten(again) == config_lib.flatten(c), path


def test_structural_differences():
  a = config_lib.default_config()
  b = config_lib.default_config()
  config_lib.apply_overrides(b, {"train.steps": "99", "train.g_lr": "0.1"})
  assert config_lib.structural_differences(a, b) == []
  config_lib.apply_overrides(b, {"train.ema_decay": "0.5", "train.lr_schedule": "linear_decay"})
  assert config_lib.structural_differences(a, b) == ["train.ema_decay: 0.0 -> 0.5 (EMA off -> on)"]
  # A half-life in images keeps the EMA on: decay 0.5 -> half-life 10k images changes no structure.
  c = config_lib.default_config()
  config_lib.apply_overrides(c, {"train.ema_kimg": "10"})
  assert config_lib.structural_differences(b, c) == []
  assert config_lib.structural_differences(a, c) == ["train.ema_kimg: 0.0 -> 10.0 (EMA off -> on)"]
  b.train.ema_decay = 0.0
  config_lib.apply_overrides(b, {"model.latent_dim": "10", "model.generator": "mlp"})
  diffs = config_lib.structural_differences(a, b)
  assert any("latent_dim" in d for d in diffs) and any("generator" in d for d in diffs)
