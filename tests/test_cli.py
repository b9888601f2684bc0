"""The command-line tools end to end, as subprocesses, including SIGKILL-and-resume."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
from PIL import Image

from conftest import REPO

TOY = [f"--config={os.path.join(REPO, 'configs', 'ring8_gan.py')}",
       "--config.model.latent_dim=8", "--config.model.g_width=16", "--config.model.d_width=16",
       "--config.model.mlp.depth=2", "--config.train.batch_size=32", "--config.log.progress=false",
       "--config.log.tensorboard=false"]


def _env():
  env = dict(os.environ)
  env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
  env["JAX_PLATFORMS"] = "cpu"
  return env


def _cli(module, *args, check=True):
  proc = subprocess.run([sys.executable, "-m", f"jaxgan.{module}", *args], capture_output=True,
                        text=True, env=_env(), cwd=REPO, timeout=300)
  if check and proc.returncode != 0:
    raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
  return proc


def test_train_sample_evaluate(tmp_path):
  workdir = str(tmp_path / "run")
  out = _cli("train", *TOY, "--config.train.steps=40", "--config.log.sample_every=20",
             "--config.checkpoint.every=20", f"--workdir={workdir}")
  assert "Done: 40 steps" in out.stderr + out.stdout
  assert os.path.exists(os.path.join(workdir, "samples", "step_0000040.png"))
  grid, npz = str(tmp_path / "grid.png"), str(tmp_path / "x.npz")
  out = _cli("sample", "--workdir", workdir, "--num", "100", "--out", grid, "--npz", npz)
  assert "from step 40" in out.stdout
  assert Image.open(grid).size[0] > 100
  arrays = np.load(npz)
  assert arrays["x"].shape == (100, 2) and int(arrays["step"]) == 40
  out = _cli("evaluate", "--workdir", workdir)
  assert "modes @ step 40" in out.stdout and "protocol: samples=2500" in out.stdout
  record = json.loads(open(os.path.join(workdir, "metrics", "modes.jsonl")).readline())
  assert record["step"] == 40 and record["protocol"]["threshold_std"] == 3.0


def test_bad_input_exits_with_a_message(tmp_path):
  out = _cli("train", *TOY, "--config.train.stepz=3", f"--workdir={tmp_path / 'r'}", check=False)
  assert out.returncode == 2 and "Did you mean 'train.steps'" in out.stderr
  assert "Traceback" not in out.stderr
  out = _cli("train", *TOY, "--config.train.batch_size=33", f"--workdir={tmp_path / 'r'}", check=False)
  assert out.returncode == 2 and "does not divide evenly over 2 devices" in out.stderr
  out = _cli("sample", "--workdir", str(tmp_path / "nothing"), check=False)
  assert out.returncode == 2 and "holds no jaxgan run" in out.stderr
  out = _cli("evaluate", "--workdir", str(tmp_path / "nothing"), check=False)
  assert out.returncode == 2 and "holds no jaxgan run" in out.stderr


def _final_params(workdir):
  from jaxgan.run import load_run
  return load_run(workdir).state


def test_sigkill_then_resume_equals_uninterrupted(tmp_path):
  steps = ["--config.train.steps=3000", "--config.checkpoint.every=250", "--config.log.every=250",
           "--config.log.sample_every=0"]
  _cli("train", *TOY, *steps, f"--workdir={tmp_path / 'full'}")

  killed = str(tmp_path / "killed")
  proc = subprocess.Popen([sys.executable, "-m", "jaxgan.train", *TOY, *steps, f"--workdir={killed}"],
                          env=_env(), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  ckpts = os.path.join(killed, "checkpoints")
  deadline = time.time() + 240
  while time.time() < deadline and proc.poll() is None:
    if os.path.isdir(ckpts) and any(d.isdigit() for d in os.listdir(ckpts)):
      break
    time.sleep(0.02)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  done = sorted(int(d) for d in os.listdir(ckpts) if d.isdigit())
  assert done and done[-1] < 3000, f"the run was not killed mid-way: {done}"

  _cli("train", *TOY, *steps, f"--workdir={killed}")
  a, b = _final_params(str(tmp_path / "full")), _final_params(killed)
  import jax
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_array_equal(x, y)


def test_sigterm_saves_and_stops(tmp_path):
  workdir = str(tmp_path / "r")
  proc = subprocess.Popen([sys.executable, "-m", "jaxgan.train", *TOY, "--config.train.steps=200000",
                           "--config.checkpoint.every=100000", "--config.log.every=100000",
                           "--config.log.sample_every=0", f"--workdir={workdir}"],
                          env=_env(), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
  deadline = time.time() + 120
  while time.time() < deadline and not os.path.exists(os.path.join(workdir, "metrics.jsonl")):
    time.sleep(0.05)
  time.sleep(3)  # let it train a while
  proc.send_signal(signal.SIGTERM)
  out, _ = proc.communicate(timeout=120)
  assert proc.returncode == 128 + signal.SIGTERM, out  # 143: stopped, not finished
  assert "SIGTERM received" in out and "rerun the same command to resume" in out
  steps = [int(d) for d in os.listdir(os.path.join(workdir, "checkpoints")) if d.isdigit()]
  assert len(steps) == 1 and 0 < steps[0] < 200000
