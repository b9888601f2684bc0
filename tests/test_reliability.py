"""Runs that cannot get stuck, mixed or silently wrong: a damaged newest checkpoint, two
trainings on one workdir, a full disk, stopped runs, resumed logs, bad recipes, bad images."""

import errno
import glob
import json
import os
import subprocess
import sys

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

from jaxgan import config as config_lib
from jaxgan import train as train_cli
from jaxgan import evaluate as evaluate_cli
from jaxgan.errors import CheckpointError, ConfigError, JaxganError, NonFiniteError, WorkdirError
from jaxgan.metrics import evaluators
from jaxgan.run import load_run
from jaxgan.trainer import train_and_evaluate
from jaxgan.workdir import Workdir, WorkdirLock

from conftest import REPO, toy_config


def _same_state(a, b) -> bool:
  return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_a_damaged_newest_checkpoint_is_moved_aside_and_the_run_resumes(tmp_path):
  workdir = str(tmp_path / "w")
  train_and_evaluate(toy_config(steps=6), workdir)  # checkpoints 2, 4, 6
  for f in glob.glob(os.path.join(workdir, "checkpoints", "6", "state", "**", "*"), recursive=True):
    if os.path.isfile(f) and "ocdbt" in f:
      with open(f, "r+b") as fh:
        fh.truncate(10)
  result = train_and_evaluate(toy_config(steps=8), workdir)  # resumes from 4, saves 6 and 8 again
  assert result.step == 8
  assert os.path.isdir(os.path.join(workdir, "checkpoints", "6.corrupt"))  # kept, not deleted
  again = train_and_evaluate(toy_config(steps=10), workdir)  # not stuck on the damaged step
  assert again.step == 10
  reference = train_and_evaluate(toy_config(steps=10), str(tmp_path / "uninterrupted"))
  assert _same_state(again.state, reference.state)


def test_a_second_training_on_a_busy_workdir_is_refused_and_loses_nothing(tmp_path):
  workdir = str(tmp_path / "w")
  train_and_evaluate(toy_config(steps=2), workdir)
  saved = open(Workdir(workdir).config).read()
  holder = WorkdirLock(workdir).acquire()
  try:
    other = toy_config(steps=4, g_lr=1e-3)
    with pytest.raises(WorkdirError, match=f"in use by another training \\(pid {os.getpid()} on "):
      train_and_evaluate(other, workdir)
  finally:
    holder.release()
  assert open(Workdir(workdir).config).read() == saved  # the refused run wrote nothing


def test_the_stale_lock_of_a_killed_training_is_taken_over(tmp_path):
  workdir = str(tmp_path / "w")
  os.makedirs(workdir)
  code = (f"import os; from jaxgan.workdir import WorkdirLock; WorkdirLock({workdir!r}).acquire(); "
          "os.kill(os.getpid(), 9)")
  subprocess.run([sys.executable, "-c", code], cwd=REPO, check=False)
  assert "pid" in open(Workdir(workdir).lock).read()
  assert train_and_evaluate(toy_config(steps=2), workdir).step == 2


def test_disk_full_stops_with_one_error_line_and_keeps_the_newest_checkpoint(tmp_path, monkeypatch, capsys):
  workdir = str(tmp_path / "w")
  save = ocp.CheckpointManager.save

  def full_at_step_4(self, step, *args, **kwargs):
    if step == 4:
      os.makedirs(os.path.join(str(self.directory), "4.orbax-checkpoint-tmp-123"))
      raise OSError(errno.ENOSPC, "No space left on device")
    return save(self, step, *args, **kwargs)

  monkeypatch.setattr(ocp.CheckpointManager, "save", full_at_step_4)
  recipe = tmp_path / "toy.py"
  recipe.write_text("import sys\nsys.path.insert(0, %r)\nfrom conftest import toy_config\n"
                    "def get_config():\n  return toy_config(steps=6)\n" % os.path.join(REPO, "tests"))
  assert train_cli.main(["--config", str(recipe), "--workdir", workdir]) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and err[0].startswith("error: ") and "disk is full" in err[0] and "step 2" in err[0]
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["2"]  # no temporary folder left
  assert load_run(workdir).step == 2


def test_resumed_runs_log_each_step_once(tmp_path):
  workdir = str(tmp_path / "w")
  train_and_evaluate(toy_config(steps=4), workdir)  # checkpoints 2, 4; rows 1..4
  with open(Workdir(workdir).train_metrics, "a") as f:  # as a run killed after logging 5 and 6
    f.write(json.dumps({"step": 5, "d_loss": 1.0}) + "\n" + json.dumps({"step": 6, "d_loss": 1.0}) + "\n")
    f.write('{"step": 7, "d_lo')  # ... and in the middle of writing 7
  train_and_evaluate(toy_config(steps=8), workdir)
  train_and_evaluate(toy_config(steps=8), workdir)  # nothing to do: no rows added
  steps = [json.loads(line)["step"] for line in open(Workdir(workdir).train_metrics)]
  assert steps == list(range(1, 9))


def test_non_finite_values_in_recipes_and_overrides_are_refused(tmp_path):
  c = toy_config()
  c.train.g_lr = float("inf")
  with pytest.raises(ConfigError, match="train.g_lr must be a finite number > 0, got inf"):
    config_lib.validate(c)
  c = toy_config()
  config_lib.apply_overrides(c, {"train.d_lr": "nan"})
  with pytest.raises(ConfigError, match="train.d_lr must be a finite number > 0, got nan"):
    config_lib.validate(c)
  c = toy_config()
  config_lib.apply_overrides(c, {"train.ema_decay": "inf"})
  with pytest.raises(ConfigError, match="ema_decay"):
    config_lib.validate(c)
  with pytest.raises(ConfigError, match="expects a number, got 'fast'"):
    config_lib.apply_overrides(toy_config(), {"train.g_lr": "fast"})


def test_non_finite_loss_before_any_checkpoint_says_so(tmp_path):
  c = toy_config(steps=4, g_lr=1e30, d_lr=1e30)
  c.checkpoint.every = 100
  with pytest.raises(NonFiniteError, match="No checkpoint was written before it"):
    train_and_evaluate(c, str(tmp_path / "w"))


def test_a_run_whose_gradients_vanish_is_warned_about(tmp_path, monkeypatch, capsys):
  import dataclasses
  from jaxgan.methods import METHODS
  gan = METHODS.get("gan")

  def make_step(model, per_device):
    step = gan.make_step(model, per_device)

    def stalled(state, batch):
      state, metrics = step(state, batch)
      return state, metrics | {"g_grad_norm": 0.0 * metrics["g_grad_norm"]}
    return stalled

  monkeypatch.setitem(METHODS._items, "gan", dataclasses.replace(gan, make_step=make_step))
  c = toy_config(steps=4)
  c.log.every = 2
  train_and_evaluate(c, str(tmp_path / "w"))
  out = capsys.readouterr().out
  assert out.count("warning: g_grad_norm = 0 at step 2") == 1 and "probably diverged" in out


@pytest.mark.parametrize("text, message", [
    ("def get_config(:\n", "is not valid Python.*line 1"),
    ("def get_config():\n  raise RuntimeError('no such recipe option')\n", "get_config\\(\\) raised RuntimeError: no such"),
    ("import nonexistent_module_xyz\n", "failed while loading: ModuleNotFoundError"),
    ("x = 1\n", "defines no get_config"),
])
def test_broken_recipe_files_give_one_clear_error(tmp_path, text, message):
  recipe = tmp_path / "bad.py"
  recipe.write_text(text)
  with pytest.raises(ConfigError, match=message):
    config_lib.load(str(recipe))


def test_a_workdir_that_is_a_file_is_refused(tmp_path):
  path = tmp_path / "file"
  path.write_text("x")
  with pytest.raises(WorkdirError, match="is a file, not a directory"):
    train_and_evaluate(toy_config(steps=2), str(path))


@pytest.mark.parametrize("values, message", [
    (5.0, "values in \\[5, 5\\]; images must lie in \\[-1, 1\\]"),
    (float("nan"), "NaN or infinite values"),
])
def test_evaluate_images_refuses_values_no_image_has(tmp_path, values, message):
  path = tmp_path / "x.npz"
  np.savez(path, x=np.full((8, 16, 16, 1), values, np.float32))
  data = config_lib.for_dataset("digits").data
  with pytest.raises(JaxganError, match=message):
    evaluators.evaluate_images(str(path), data, ["digits_classes"])


def test_evaluate_images_refuses_a_file_that_is_not_npz(tmp_path, capsys):
  path = tmp_path / "notes.txt"
  path.write_text("not images")
  assert evaluate_cli.main(["--images", str(path), "--data", "digits"]) == 2
  err = capsys.readouterr().err
  assert "is not an .npz file" in err and "allow_pickle" not in err


def test_a_prepared_copy_from_other_files_is_not_used_silently(tmp_path, capsys):
  from test_real_data import _write_mnist_like
  from jaxgan.data import tfds_builders
  first = _write_mnist_like(str(tmp_path / "first"))
  tfds_builders.prepare("mnist", first, str(tmp_path / "prepared"))
  out = capsys.readouterr().out
  assert "nothing is downloaded" in out and "Downloading" not in out
  with pytest.warns(UserWarning, match=r"using the copy prepared earlier from .*first.*files in .*second are not read"):
    tfds_builders.prepare("mnist", _write_mnist_like(str(tmp_path / "second")), str(tmp_path / "prepared"))
  import warnings
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    tfds_builders.prepare("mnist", first, str(tmp_path / "prepared"))  # the same files: no warning


def test_a_full_disk_reported_by_tensorstore_is_one_error_line(tmp_path, monkeypatch, capsys):
  """orbax raises tensorstore's RESOURCE_EXHAUSTED as a ValueError (seen on a full tmpfs)."""
  workdir = str(tmp_path / "w")

  def full(self, step, *args, **kwargs):
    os.makedirs(os.path.join(str(self.directory), f"{step}.orbax-checkpoint-tmp"))
    raise ValueError('RESOURCE_EXHAUSTED: Error writing "d_params.Dense_0.kernel/0.0" in OCDBT '
                     'database: Failed writing: ... [OS error: No space left on device]')

  monkeypatch.setattr(ocp.CheckpointManager, "save", full)
  with pytest.raises(CheckpointError, match="the disk is full.*no complete checkpoint was written before"):
    train_and_evaluate(toy_config(steps=4), workdir)
  assert os.listdir(os.path.join(workdir, "checkpoints")) == []


def test_no_readable_checkpoint_is_one_error_line(tmp_path):
  """Every checkpoint damaged: the command's stderr is jaxgan's one message (orbax's threads'
  'Event loop is closed' reports are dropped), and nothing is moved."""
  workdir = str(tmp_path / "w")
  train_and_evaluate(toy_config(steps=4), workdir)
  for f in glob.glob(os.path.join(workdir, "checkpoints", "*", "state", "**", "*"), recursive=True):
    if os.path.isfile(f) and "ocdbt" in f:
      with open(f, "r+b") as fh:
        fh.truncate(10)
  recipe = tmp_path / "toy.py"
  recipe.write_text("import sys\nsys.path.insert(0, %r)\nfrom conftest import toy_config\n"
                    "def get_config():\n  return toy_config(steps=8)\n" % os.path.join(REPO, "tests"))
  env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS="--xla_force_host_platform_device_count=8")
  proc = subprocess.run([sys.executable, "-m", "jaxgan.train", "--config", str(recipe), "--workdir", workdir],
                        capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
  assert proc.returncode == 2
  lines = proc.stderr.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith("error: No readable checkpoint"), proc.stderr[-3000:]
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["2", "4"]
