"""The training loop in-process: outputs, resume equivalence, and every bad-input case."""

import json
import os

import jax
import numpy as np
import pytest

from jaxgan.errors import ConfigError, NonFiniteError, WorkdirError
from jaxgan.checkpoint import Checkpointer
from jaxgan.trainer import train_and_evaluate

from conftest import tiny_dcgan_config, toy_config


def _leaves_equal(a, b):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_array_equal(x, y)


def test_run_writes_everything(tmp_path):
  workdir = str(tmp_path / "run")
  result = train_and_evaluate(toy_config(), workdir)
  assert result.step == 6 and int(result.state.step) == 6
  files = set(os.listdir(workdir))
  assert {"config.json", "metrics.jsonl", "checkpoints", "samples", "tensorboard"} <= files
  lines = [json.loads(l) for l in open(os.path.join(workdir, "metrics.jsonl"))]
  assert [l["step"] for l in lines] == [1, 2, 3, 4, 5, 6]
  assert {"d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm"} <= set(lines[-1])
  assert sorted(os.listdir(os.path.join(workdir, "samples"))) == ["step_0000003.png", "step_0000006.png"]
  assert os.listdir(os.path.join(workdir, "tensorboard"))
  assert Checkpointer(os.path.join(workdir, "checkpoints"), 3).steps() == [2, 4, 6]


@pytest.mark.parametrize("make_config", [toy_config, tiny_dcgan_config])
def test_resumed_run_equals_uninterrupted_run(tmp_path, make_config):
  full = train_and_evaluate(make_config(), str(tmp_path / "full"))
  part = make_config()
  part.train.steps = 2
  train_and_evaluate(part, str(tmp_path / "resumed"))
  resumed = train_and_evaluate(make_config(), str(tmp_path / "resumed"))
  assert resumed.step == full.step
  _leaves_equal(resumed.state, full.state)


def test_finished_run_is_not_retrained(tmp_path):
  train_and_evaluate(toy_config(), str(tmp_path / "r"))
  again = train_and_evaluate(toy_config(), str(tmp_path / "r"))
  assert again.step == 6 and again.metrics == {}


def test_incompatible_workdir_is_refused(tmp_path):
  train_and_evaluate(toy_config(), str(tmp_path / "r"))
  other = toy_config()
  other.model.latent_dim = 4
  with pytest.raises(WorkdirError, match=r"another configuration.*model.latent_dim: 8 -> 4"):
    train_and_evaluate(other, str(tmp_path / "r"))
  other = tiny_dcgan_config()
  with pytest.raises(WorkdirError, match="model.generator: 'mlp' -> 'dcgan'"):
    train_and_evaluate(other, str(tmp_path / "r"))


def test_unwritable_workdir_is_refused(tmp_path):
  blocker = tmp_path / "file"
  blocker.write_text("not a directory")
  with pytest.raises(WorkdirError, match="Cannot write to workdir"):
    train_and_evaluate(toy_config(), str(blocker / "run"))


def test_indivisible_batch_is_refused_before_anything_is_written(tmp_path):
  with pytest.raises(ConfigError, match="does not divide evenly over 8 devices"):
    train_and_evaluate(toy_config(batch_size=12), str(tmp_path / "r"))
  assert not os.path.exists(tmp_path / "r")


def test_unknown_key_in_config_object_is_refused(tmp_path):
  c = toy_config()
  with c.unlocked():
    c.train.stepz = 3
  with pytest.raises(ConfigError, match="Did you mean 'train.steps'"):
    train_and_evaluate(c, str(tmp_path / "r"))


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
  workdir = str(tmp_path / "r")
  before = train_and_evaluate(toy_config(steps=2), workdir).state
  ckpt_dir = os.path.join(workdir, "checkpoints")
  exploding = toy_config(steps=10, g_lr=1e30, d_lr=1e30)  # learning rates are not structural
  exploding.checkpoint.every = 1
  with pytest.raises(NonFiniteError, match=r"Non-finite .* at step \d+.*newest checkpoint \(step 2\)"):
    train_and_evaluate(exploding, workdir)
  assert Checkpointer(ckpt_dir, 3).steps()[-1] == 2
  after = Checkpointer(ckpt_dir, 3).restore(before)[0]
  _leaves_equal(after, before)
