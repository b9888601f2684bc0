"""Many seeds in one run (``train.num_seeds``, :mod:`jaxgan.members`): every member is the
run of its own seed, resumes bit for bit, and is sampled and evaluated on its own and
across members; bad member counts and indices are refused before anything is written.

Member ``i`` of a vmapped run equals the one-seed run of seed ``seed + i`` to float
rounding, not bit for bit: XLA compiles the batched step's per-member reductions (e.g. a
bias gradient, a sum over the batch axis of ``[K, B, F]`` instead of ``[B, F]``) with
another summation order, so the two differ in the last bits (about 1e-11 after one step
of the toy GAN) and those differences grow slowly over steps; 1e-5 over a few steps.
"""

import json
import os

import jax
import numpy as np
import pytest

from conftest import tiny_dcgan_config, toy_config
from jaxgan import exporting, members
from jaxgan import run as run_lib
from jaxgan.errors import ConfigError, NonFiniteError, WorkdirError
from jaxgan.metrics.evaluators import evaluate
from jaxgan.sampling import write_samples
from jaxgan.trainer import train_and_evaluate

K = 3


def _close(a, b, tol=1e-5):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
    np.testing.assert_allclose(np.asarray(x, np.float64), np.asarray(y, np.float64), rtol=tol, atol=tol)


def _equal(a, b):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def _mlp_with_interacting_examples(**train):
  """The toy GAN with BatchNorm in G and a minibatch-stddev layer in D: statistics that
  couple a batch's examples, which every member must compute over its own batch alone."""
  c = toy_config(**train)
  c.model.mlp.batchnorm = True
  c.model.d_minibatch = "stddev"
  return c


@pytest.mark.parametrize("make_config,devices", [(_mlp_with_interacting_examples, 1),
                                                 (_mlp_with_interacting_examples, 8),
                                                 (tiny_dcgan_config, 1),
                                                 pytest.param(tiny_dcgan_config, 8, marks=pytest.mark.slow)])
def test_member_equals_the_run_of_its_seed(tmp_path, make_config, devices):
  config = make_config(num_seeds=K, num_devices=devices)
  config.seed = 4
  stacked = train_and_evaluate(config, str(tmp_path / "members")).state
  assert members.count(stacked) == K
  for i in (0, K - 1):
    single = make_config(num_devices=devices)
    single.seed = 4 + i
    alone = train_and_evaluate(single, str(tmp_path / f"seed{i}")).state
    _close(members.member(stacked, i), alone)
  # Members differ from each other (own init, data and latents), so nothing is shared.
  a, b = members.member(stacked, 0), members.member(stacked, 1)
  assert not np.allclose(jax.tree.leaves(a.g_params)[0], jax.tree.leaves(b.g_params)[0])


def test_members_start_from_their_seeds_exactly():
  config = toy_config(num_seeds=K)
  config.seed = 7
  stacked = run_lib.fresh_state(run_lib.build_model(config))
  for i in range(K):
    single = toy_config()
    single.seed = 7 + i
    _equal(members.member(stacked, i), run_lib.fresh_state(run_lib.build_model(single)))


def _dispatching(steps_per_dispatch, **train):
  c = toy_config(num_seeds=K, steps_per_dispatch=steps_per_dispatch, **train)
  c.log.every = c.log.sample_every = steps_per_dispatch
  return c


@pytest.mark.parametrize("dispatch", [1, 2])
def test_resumed_many_seed_run_equals_uninterrupted(tmp_path, dispatch):
  full = train_and_evaluate(_dispatching(dispatch), str(tmp_path / "full"))
  train_and_evaluate(_dispatching(dispatch, steps=2), str(tmp_path / "resumed"))
  resumed = train_and_evaluate(_dispatching(dispatch), str(tmp_path / "resumed"))
  assert resumed.step == full.step == 6
  _equal(resumed.state, full.state)


def test_sample_and_evaluate_per_member_and_across(tmp_path):
  workdir = str(tmp_path / "r")
  train_and_evaluate(toy_config(num_seeds=K), workdir)
  run = run_lib.load_run(workdir, say=lambda m: None)
  assert run.num_members == K
  with pytest.raises(ConfigError, match=r"trained 3 seeds together.*--member i \(0 .. 2\)"):
    run.samples(4, 0)
  x1 = write_samples(workdir, 16, str(tmp_path / "m1.png"), str(tmp_path / "m1.npz"), member=1, say=lambda m: None)
  assert x1.of_member == ", member 1 of 3"
  with np.load(tmp_path / "m1.npz") as f:
    np.testing.assert_array_equal(f["x"], run.of_member(1).samples(16, 0))
    assert int(f["member"]) == 1
  assert not np.allclose(run.of_member(0).samples(16, 0), run.of_member(1).samples(16, 0))

  across = evaluate(workdir, ["modes"], 500, say=lambda m: None)["modes"]
  one = evaluate(workdir, ["modes"], 500, member=2, say=lambda m: None)["modes"]
  assert one["protocol"]["member"] == 2 and one["protocol"]["member_seed"] == 2
  assert across["high_quality_share_members"][2] == one["high_quality_share"]
  shares = across["high_quality_share_members"]
  assert across["high_quality_share"] == pytest.approx(np.mean(shares))
  assert across["high_quality_share_std"] == pytest.approx(np.std(shares))
  assert across["protocol"]["members"] == K and across["protocol"]["seeds"] == [0, 1, 2]
  metrics = os.path.join(workdir, "metrics")
  assert sorted(os.listdir(metrics)) == ["member_0", "member_1", "member_2", "modes.jsonl"]
  with open(os.path.join(metrics, "member_2", "modes.jsonl")) as f:
    rows = [json.loads(line) for line in f]
  assert len(rows) == 2  # the across-members evaluation's and the --member 2 one's


def test_non_finite_member_stops_the_run_naming_it(tmp_path):
  exploding = toy_config(num_seeds=2, steps=10, g_lr=1e30, d_lr=1e30)
  with pytest.raises(NonFiniteError, match=r"Non-finite .*\(members? [01](, 1)?\)"):
    train_and_evaluate(exploding, str(tmp_path / "r"))


def test_bad_member_counts_and_indices_are_refused(tmp_path, monkeypatch):
  with pytest.raises(ConfigError, match="train.num_seeds must be >= 1"):
    train_and_evaluate(toy_config(num_seeds=0), str(tmp_path / "zero"))
  config = toy_config(num_seeds=2)
  config.eval.every = 2
  config.eval.metrics = "modes"
  with pytest.raises(ConfigError, match="evaluate every member after training"):
    train_and_evaluate(config, str(tmp_path / "eval"))
  # Too many members for memory: refused from the state's size, before the workdir exists.
  monkeypatch.setattr(members, "available_memory", lambda device: (10_000, "available host memory"))
  with pytest.raises(ConfigError, match=r"train.num_seeds=4 needs about .* Use train.num_seeds <= "):
    train_and_evaluate(toy_config(num_seeds=4), str(tmp_path / "big"))
  assert not (tmp_path / "big").exists() and not (tmp_path / "zero").exists()
  monkeypatch.undo()

  workdir = str(tmp_path / "r")
  train_and_evaluate(toy_config(num_seeds=2, steps=2), workdir)
  with pytest.raises(WorkdirError, match=r"train.num_seeds: 2 -> 3.*new --workdir"):
    train_and_evaluate(toy_config(num_seeds=3), workdir)
  with pytest.raises(ConfigError, match=r"member 2 is out of range: .*members 0 .. 1"):
    run_lib.load_run(workdir, member=2, say=lambda m: None)
  with pytest.raises(ConfigError, match="member -1 is out of range"):
    write_samples(workdir, 4, member=-1, say=lambda m: None)
  with pytest.raises(ConfigError, match=r"choose the member to sample: --member i"):
    exporting.export_generator(run_lib.load_run(workdir, say=lambda m: None))
