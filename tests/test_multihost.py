"""Multi-process training: two `python -m jaxgan.train` processes on localhost (2 CPU
devices each, collectives over gloo) against one process with 4 devices and the same
global batch."""

import json
import os
import socket
import subprocess
import sys

import jax
import numpy as np

from jaxgan.run import load_run

from conftest import REPO
from test_step import _assert_trees_close

TINY = ["--config", os.path.join(REPO, "configs", "ring8_gan.py"),
        "--config.model.latent_dim=8", "--config.model.g_width=16", "--config.model.d_width=16",
        "--config.model.mlp.depth=2", "--config.train.batch_size=16", "--config.train.n_critic=2",
        "--config.checkpoint.every=3", "--config.log.every=3", "--config.log.sample_every=3",
        "--config.log.progress=False", "--config.log.tensorboard=False"]


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


def _env(local_devices: int) -> dict:
  env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={local_devices}",
             JAX_PLATFORMS="cpu")
  env.pop("JAX_COMPILATION_CACHE_DIR", None)
  return env


def _train(workdir, *extra, processes=1, local_devices=4):
  """Runs the trainer as ``processes`` processes; returns their (exit codes, outputs)."""
  port = _free_port()
  joined = [] if processes == 1 else [f"--config.distributed.coordinator=localhost:{port}",
                                      f"--config.distributed.num_processes={processes}",
                                      "--config.distributed.timeout_s=120"]
  procs = [subprocess.Popen(
      [sys.executable, "-m", "jaxgan.train", *TINY, "--workdir", str(workdir), *joined,
       *([f"--config.distributed.process_id={i}"] if processes > 1 else []), *extra],
      cwd=REPO, env=_env(local_devices), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
      for i in range(processes)]
  try:
    outputs = [p.communicate(timeout=300)[0] for p in procs]
  finally:
    for p in procs:
      p.kill()
  return [p.returncode for p in procs], outputs


def test_two_processes_train_like_one(tmp_path):
  codes, outputs = _train(tmp_path / "two", "--config.train.steps=6", processes=2, local_devices=2)
  assert codes == [0, 0], outputs
  codes, single = _train(tmp_path / "one", "--config.train.steps=6", processes=1, local_devices=4)
  assert codes == [0], single

  two, one = load_run(str(tmp_path / "two")), load_run(str(tmp_path / "one"))
  assert two.step == one.step == 6
  _assert_trees_close(one.state, two.state, rtol=1e-5, atol=1e-6)
  # Process 0 alone reports: one metrics line per log step, its pictures, its messages.
  lines = (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()
  assert [json.loads(line)["step"] for line in lines] == [3, 6]
  assert sorted(p.name for p in (tmp_path / "two" / "samples").iterdir()) == [
      "step_0000003.png", "step_0000006.png"]
  assert "on 4 cpu device(s)" in outputs[0] and "Done: 6 steps" in outputs[0]
  assert "Done:" not in outputs[1]

  # Resuming on another number of processes is refused, and the checkpoints stay as they were.
  codes, out = _train(tmp_path / "two", "--config.train.steps=9", processes=1, local_devices=4)
  assert codes == [2] and "written by a run of 2 process(es) and this run has 1" in out[0], out
  assert load_run(str(tmp_path / "two")).step == 6
  # Resumed on 2 processes again, it goes on.
  codes, outputs = _train(tmp_path / "two", "--config.train.steps=9", processes=2, local_devices=2)
  assert codes == [0, 0], outputs
  assert "Resuming" in outputs[0] and load_run(str(tmp_path / "two")).step == 9
  assert np.isfinite(np.concatenate([np.ravel(x) for x in jax.tree.leaves(load_run(str(tmp_path / "two")).state.g_params)])).all()


def test_a_global_batch_that_does_not_split_over_all_processes_devices_is_refused(tmp_path):
  codes, outputs = _train(tmp_path / "run", "--config.train.batch_size=6", processes=2, local_devices=2)
  assert codes == [2, 2], outputs
  for out in outputs:
    assert "train.batch_size=6 (the global batch) does not divide evenly over 4 devices " \
           "(2 processes x 2 local devices)" in out
  assert not (tmp_path / "run").exists()
