import numpy as np
import pytest

from jaxgan import config as config_lib
from jaxgan import data
from jaxgan.data import toy
from jaxgan.errors import ConfigError
from jaxgan.run import select_devices


def _cfg(name, **kw):
  c = config_lib.default_config()
  c.data.name = name
  for k, v in kw.items():
    c.data[k] = v
  return c.data


@pytest.mark.parametrize("name,num_modes,std", [("ring8", 8, 0.01), ("grid25", 25, 0.05)])
def test_toy_mixtures(name, num_modes, std):
  src = data.build(_cfg(name), 4000, seed=0)
  b = src.next()
  assert b["x"].shape == (4000, 2) and b["x"].dtype == np.float32
  centers = toy.TOY_SETS[name][0]()
  assert centers.shape == (num_modes, 2)
  resid = b["x"] - centers[b["label"]]
  assert abs(resid.std() - std) < 0.1 * std
  assert set(np.unique(b["label"])) == set(range(num_modes))
  if name == "ring8":
    np.testing.assert_allclose(np.linalg.norm(centers, axis=1), 1.0, rtol=1e-6)
  else:
    assert sorted(set(centers[:, 0])) == [-4, -2, 0, 2, 4]


def test_digits():
  src = data.build(_cfg("digits"), 64, seed=0)
  assert src.spec.shape == (16, 16, 1) and src.spec.num_classes == 10
  assert src.x.shape == (1797, 16, 16, 1)
  assert src.x.min() >= -1.0 and src.x.max() <= 1.0 and src.x.min() < -0.99 and src.x.max() > 0.9
  assert np.bincount(src.labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
  src8 = data.build(_cfg("digits", resolution=8), 64, seed=0)
  assert src8.x.shape == (1797, 8, 8, 1)
  with pytest.raises(ValueError, match="grayscale"):
    data.spec(_cfg("digits", channels=3))


def test_batches_are_deterministic_and_resumable():
  a = data.build(_cfg("digits"), 50, seed=3)
  b = data.build(_cfg("digits"), 50, seed=3)
  for _ in range(5):
    np.testing.assert_array_equal(a.next()["x"], b.next()["x"])
  other = data.build(_cfg("digits"), 50, seed=4)
  assert not np.array_equal(other.batch_at(0)["x"], a.batch_at(0)["x"])
  state = a.get_state()
  expected = [a.next()["label"] for _ in range(3)]
  fresh = data.build(_cfg("digits"), 50, seed=3)
  fresh.set_state(state)
  for e in expected:
    np.testing.assert_array_equal(fresh.next()["label"], e)
  with pytest.raises(ValueError, match="does not belong"):
    data.build(_cfg("digits"), 50, seed=9).set_state(state)


def test_each_epoch_is_a_permutation():
  src = data.build(_cfg("digits", resolution=8), 100, seed=0)
  rows = np.concatenate([src.batch_at(i)["x"].reshape(100, -1) for i in range(36)])  # 3600 > 2 epochs
  first_epoch = rows[:1797]
  assert len(np.unique(first_epoch, axis=0)) == len(np.unique(src.x.reshape(1797, -1), axis=0))


def test_split_for_devices_layout():
  batches = [{"x": np.arange(8 * 2).reshape(8, 2) + 100 * k, "label": np.arange(8)} for k in range(3)]
  out = data.split_for_devices(batches, 4)
  assert out["x"].shape == (4, 3, 2, 2) and out["label"].shape == (4, 3, 2)
  np.testing.assert_array_equal(out["x"][1, 2], batches[2]["x"][2:4])
  with pytest.raises(ValueError, match="does not split"):
    data.split_for_devices(batches, 3)


def test_batch_not_divisible_by_devices_is_refused():
  c = config_lib.default_config()
  c.train.batch_size = 30
  with pytest.raises(ConfigError, match=r"batch_size=30 \(the global batch\) does not divide evenly over 8 devices.*24 or 32"):
    select_devices(c)
  c.train.num_devices = 2
  assert len(select_devices(c)) == 2
  c.train.num_devices = 99
  with pytest.raises(ConfigError, match="only 8 devices"):
    select_devices(c)


def test_unknown_data_set():
  with pytest.raises(ValueError, match="Unknown data set 'digitz'.*Did you mean 'digits'"):
    data.spec(_cfg("digitz"))
