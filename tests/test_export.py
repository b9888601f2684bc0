"""An exported generator runs with only jax (jaxgan blocked from import) and gives
Run.sample's samples bit for bit, at any batch size."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import jaxgan
from jaxgan import export as export_cli

from conftest import tiny_dcgan_config, toy_config

WITHOUT_JAXGAN = r'''
import sys
class Block:  # the exported file must not need jaxgan (nor Flax)
  def find_spec(self, name, path=None, target=None):
    if name.split(".")[0] in ("jaxgan", "flax"):
      raise ImportError(name + " is blocked")
sys.meta_path.insert(0, Block())
import jax, jax.numpy as jnp, numpy as np
path, out, seed, num, latent_dim, label = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
f = jax.export.deserialize(bytearray(open(path, "rb").read()))
key = jax.random.PRNGKey(seed)
z = jax.vmap(lambda i: jax.random.normal(jax.random.fold_in(key, i), (latent_dim,)))(jnp.arange(num))
args = (z,) if label < 0 else (z, jnp.full((num,), label, jnp.int32))
np.save(out, np.asarray(f.call(*args)))
'''


def _call_exported(path, tmp_path, seed, num, latent_dim, label=-1):
  out = str(tmp_path / f"x_{seed}_{num}_{label}.npy")
  env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
  subprocess.run([sys.executable, "-c", WITHOUT_JAXGAN, path, out, str(seed), str(num), str(latent_dim),
                  str(label)], check=True, cwd=str(tmp_path), env=env)
  return np.load(out)


@pytest.mark.parametrize("make", ["dcgan_ema", "conditional_mlp"])
def test_exported_generator_reproduces_run_sample_without_jaxgan(make, tmp_path, capsys):
  if make == "dcgan_ema":
    config, label = tiny_dcgan_config(steps=2, ema_decay=0.9), -1
  else:
    config, label = toy_config(steps=2), 3
    config.model.g_conditioning, config.model.d_conditioning = "embed", "projection"
  workdir, path = str(tmp_path / "w"), str(tmp_path / "G.jaxexport")
  run = jaxgan.train(config, workdir)
  capsys.readouterr()  # the training's own output
  assert export_cli.main(["--workdir", workdir, "--out", path, "--platforms", "cpu"]) == 0
  info = json.loads(open(path + ".json").read())
  assert info["step"] == 2 and info["latent_dim"] == config.model.latent_dim and info["platforms"] == ["cpu"]
  assert json.loads(capsys.readouterr().out)["wrote"] == [path, path + ".json"]
  for seed, num in ((0, 5), (1, 12)):  # the batch size is symbolic
    exported = _call_exported(path, tmp_path, seed, num, config.model.latent_dim, label)
    expected = run.sample(num, seed=seed, label=None if label < 0 else label)
    np.testing.assert_array_equal(exported, expected)


def test_export_refuses_unknown_platforms(tmp_path, capsys):
  workdir = str(tmp_path / "w")
  jaxgan.train(toy_config(steps=2), workdir)
  assert export_cli.main(["--workdir", workdir, "--out", str(tmp_path / "G"), "--platforms", "cpu,gpu"]) == 2
  assert "choose among ['cpu', 'cuda', 'tpu']" in capsys.readouterr().err
  assert not os.path.exists(tmp_path / "G")
