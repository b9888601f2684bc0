import os

import jax
import numpy as np
import pytest

from jaxgan import data
from jaxgan.checkpoint import Checkpointer
from jaxgan.errors import CheckpointError
from jaxgan.state import build_gan, create_state

from conftest import toy_config


def _state(seed=0):
  config = toy_config(ema_decay=0.5)
  gan = build_gan(config, data.spec(config.data))
  return jax.device_get(create_state(gan, seed))


def _corrupt(step_dir):
  """Overwrites every data file of a checkpoint step with garbage (a damaged disk)."""
  for root, _, files in os.walk(step_dir):
    for name in files:
      with open(os.path.join(root, name), "wb") as f:
        f.write(b"\x00garbage")


def test_round_trip_and_rolling(tmp_path):
  ckpt = Checkpointer(str(tmp_path / "c"), keep=2)
  a, b = _state(0), _state(1)
  ckpt.save(1, a, {"position": 1})
  ckpt.save(2, b, {"position": 2})
  ckpt.save(3, a, {"position": 3})
  assert ckpt.steps() == [2, 3]
  state, data_state, step = ckpt.restore(_state(5))
  assert step == 3 and data_state == {"position": 3}
  for x, y in zip(jax.tree.leaves(state), jax.tree.leaves(a)):
    np.testing.assert_array_equal(x, y)
  assert state.ema_params is not None
  state, _, step = ckpt.restore(_state(5), step=2)
  np.testing.assert_array_equal(jax.tree.leaves(state.g_params)[0], jax.tree.leaves(b.g_params)[0])
  with pytest.raises(CheckpointError, match="No checkpoint for step 7"):
    ckpt.restore(_state(5), step=7)


def test_empty_directory_restores_nothing(tmp_path):
  assert Checkpointer(str(tmp_path / "c"), keep=2).restore(_state()) is None


def test_corrupt_newest_falls_back_and_says_so(tmp_path):
  messages = []
  ckpt = Checkpointer(str(tmp_path / "c"), keep=3, say=messages.append)
  ckpt.save(1, _state(1), {"position": 1})
  ckpt.save(2, _state(2), {"position": 2})
  _corrupt(tmp_path / "c" / "2")
  state, data_state, step = ckpt.restore(_state(5))
  assert step == 1 and data_state == {"position": 1}
  assert any("step 2" in m and "unreadable" in m for m in messages)
  _corrupt(tmp_path / "c" / "1")
  with pytest.raises(CheckpointError, match="No readable checkpoint"):
    ckpt.restore(_state(5))


def test_partial_checkpoint_is_ignored(tmp_path):
  """A save killed midway leaves only orbax's temporary directory, which is never restored."""
  ckpt = Checkpointer(str(tmp_path / "c"), keep=3)
  ckpt.save(1, _state(1), {"position": 1})
  partial = tmp_path / "c" / "2.orbax-checkpoint-tmp-1234"
  partial.mkdir()
  (partial / "state").mkdir()
  fresh = Checkpointer(str(tmp_path / "c"), keep=3)
  assert fresh.steps() == [1]
  assert fresh.restore(_state(5))[2] == 1


def test_orphaned_orbax_task_reports_are_dropped_and_others_kept():
  """The asyncio filter drops "Task exception was never retrieved" only for exceptions raised
  inside orbax or by tensorstore; the same report from any other code, and every other
  record, passes."""
  import logging
  import sys
  from jaxgan.checkpoint import _drop_orphaned_orbax_task

  def exc_info_from(filename):
    namespace = {}
    exec(compile("def fail():\n  raise RuntimeError('damaged')\n", filename, "exec"), namespace)
    try:
      namespace["fail"]()
    except RuntimeError:
      return sys.exc_info()

  def record(msg, exc_info):
    return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, msg, None, exc_info)

  orbax_file = os.path.join(os.sep, "site-packages", "orbax", "checkpoint", "reader.py")
  other_file = os.path.join(os.sep, "site-packages", "mylib", "reader.py")
  never = "Task exception was never retrieved\nfuture: <Task finished>"
  assert not _drop_orphaned_orbax_task(record(never, exc_info_from(orbax_file)))
  assert _drop_orphaned_orbax_task(record(never, exc_info_from(other_file)))
  assert _drop_orphaned_orbax_task(record("Unclosed client session", exc_info_from(orbax_file)))
  assert _drop_orphaned_orbax_task(record(never, None))
  try:  # tensorstore's own errors carry a status code and no orbax frame
    raise ValueError('DATA_LOSS: Error opening "zarr" driver: Error reading "a/.zarray"')
  except ValueError:
    assert not _drop_orphaned_orbax_task(record(never, sys.exc_info()))
  try:
    raise ValueError("DATA_LOSS is not a status prefix here")
  except ValueError:
    assert _drop_orphaned_orbax_task(record(never, sys.exc_info()))

