"""Real data sets: IDX reader, jaxgan's tfds builders, the grain pipeline, bad input."""

import gzip
import os

import numpy as np
import pytest

from jaxgan import config as config_lib
from jaxgan import data as data_lib
from jaxgan.data import idx, tfds_builders
from jaxgan.errors import DataError

FILES = tfds_builders.IDX_FILE_NAMES


def _write_mnist_like(directory, n_train=24, n_test=8):
  os.makedirs(directory, exist_ok=True)
  rng = np.random.default_rng(0)
  for split, n in (("train", n_train), ("test", n_test)):
    images_file, labels_file = tfds_builders.IDX_FILES[split]
    labels = np.arange(n) % 10
    images = np.zeros((n, 28, 28), np.uint8)
    images[:, 0, 0] = np.arange(n)  # example id in a pixel, to check order and content
    images[:, 1:, :] = rng.integers(0, 256, (n, 27, 28))
    idx.write_idx(os.path.join(directory, images_file), images)
    idx.write_idx(os.path.join(directory, labels_file), labels)
  return directory


def _config(name, manual, data_dir, **data):
  config = config_lib.default_config()
  config.data.name = name
  config.data.resolution = 28
  config.data.manual_dir = str(manual)
  config.data.data_dir = str(data_dir)
  for k, v in data.items():
    config.data[k] = v
  return config


def test_idx_round_trip_and_errors(tmp_path):
  images = np.random.default_rng(1).integers(0, 256, (3, 5, 4)).astype(np.uint8)
  path = str(tmp_path / "x-idx3-ubyte.gz")
  idx.write_idx(path, images)
  np.testing.assert_array_equal(idx.read_idx(path, idx.IMAGES_MAGIC), images)
  with pytest.raises(idx.IdxError, match="magic number 2051, expected 2049"):
    idx.read_idx(path, idx.LABELS_MAGIC)
  raw = gzip.open(path).read()
  with gzip.open(str(tmp_path / "short.gz"), "wb") as f:
    f.write(raw[:-7])
  with pytest.raises(idx.IdxError, match="truncated or corrupt"):
    idx.read_idx(str(tmp_path / "short.gz"), idx.IMAGES_MAGIC)
  with open(str(tmp_path / "cut.gz"), "wb") as f:
    f.write(open(path, "rb").read()[:20])
  with pytest.raises(idx.IdxError, match="corrupt or truncated"):
    idx.read_idx(str(tmp_path / "cut.gz"), idx.IMAGES_MAGIC)


def test_builder_prepares_and_pipeline_serves(tmp_path):
  manual = _write_mnist_like(str(tmp_path / "manual"))
  b = tfds_builders.prepare("mnist", manual, str(tmp_path / "prepared"))
  assert {k: v.num_examples for k, v in b.info.splits.items()} == {"train": 24, "test": 8}
  train = b.as_data_source(split="train")
  ids = sorted(int(train[i]["image"][0, 0, 0]) for i in range(len(train)))
  assert ids == list(range(24))
  assert all(int(train[i]["label"]) == int(train[i]["image"][0, 0, 0]) % 10 for i in range(24))

  config = _config("mnist", manual, tmp_path / "prepared")
  source = data_lib.build(config.data, 8, seed=3)
  batches = [source.next() for _ in range(6)]  # 2 epochs of 24
  assert batches[0]["x"].shape == (8, 28, 28, 1) and batches[0]["x"].dtype == np.float32
  assert batches[0]["x"].min() >= -1.0 and batches[0]["x"].max() <= 1.0
  epoch0 = np.concatenate([b["x"][:, 0, 0, 0] for b in batches[:3]])
  epoch1 = np.concatenate([b["x"][:, 0, 0, 0] for b in batches[3:]])
  expected = np.sort((np.arange(24) * 2.0 / 255.0 - 1.0).astype(np.float32))
  np.testing.assert_allclose(np.sort(epoch0), expected, atol=1e-6)  # each example once per epoch
  np.testing.assert_allclose(np.sort(epoch1), expected, atol=1e-6)
  assert not np.array_equal(epoch0, epoch1)  # reshuffled

  # Resume: a fresh source set to the saved position continues with the next batch;
  # read-ahead on a thread changes nothing.
  resumed = data_lib.build(config.data, 8, seed=3)
  probe = data_lib.build(config.data, 8, seed=3)
  for _ in range(4):
    probe.next()
  resumed.set_state(probe.get_state())
  np.testing.assert_array_equal(resumed.next()["x"], batches[4]["x"])
  config.data.prefetch = 0
  plain = data_lib.build(config.data, 8, seed=3)
  for b in batches:
    np.testing.assert_array_equal(plain.next()["label"], b["label"])

  # Served at another resolution (bilinear) for architectures that need it.
  config.data.resolution = 32
  assert data_lib.build(config.data, 8, seed=3).next()["x"].shape == (8, 32, 32, 1)


def test_missing_files_are_listed(tmp_path):
  manual = _write_mnist_like(str(tmp_path / "manual"))
  os.remove(os.path.join(manual, "t10k-labels-idx1-ubyte.gz"))
  with pytest.raises(DataError) as e:
    tfds_builders.prepare("fashion_mnist", manual, str(tmp_path / "prepared"))
  message = str(e.value)
  assert "missing 1 of 4 files" in message
  assert all(f in message for f in FILES)
  assert os.path.join(manual, "t10k-labels-idx1-ubyte.gz") in message


def test_no_data_dir_configured_says_how(monkeypatch):
  monkeypatch.delenv(tfds_builders.DATA_DIR_ENV, raising=False)
  with pytest.raises(DataError, match="JAXGAN_DATA_DIR"):
    tfds_builders.manual_dir("mnist")


@pytest.mark.parametrize("damage", ["magic", "truncate"])
def test_corrupt_file_fails_and_leaves_nothing_prepared(tmp_path, damage):
  manual = _write_mnist_like(str(tmp_path / "manual"))
  path = os.path.join(manual, "t10k-images-idx3-ubyte.gz")
  if damage == "magic":  # a labels file where the images file should be
    idx.write_idx(path, np.zeros(8, np.uint8))
  else:
    raw = gzip.open(path).read()
    with gzip.open(path, "wb") as f:
      f.write(raw[: len(raw) // 2])
  prepared = str(tmp_path / "prepared")
  with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz"):
    tfds_builders.prepare("mnist", manual, prepared)
  b, _ = tfds_builders.builder("mnist", manual, prepared)
  assert not b.is_prepared()
  version_dirs = [d for d in os.listdir(os.path.join(prepared, "mnist")) if not d.startswith("incomplete")] \
      if os.path.isdir(os.path.join(prepared, "mnist")) else []
  assert version_dirs == []
  # Fixing the file makes the next preparation succeed.
  _write_mnist_like(manual)
  assert tfds_builders.prepare("mnist", manual, prepared).info.splits["train"].num_examples == 24


def test_wrong_channels_is_a_clear_error(tmp_path):
  config = _config("mnist", tmp_path, tmp_path)
  config.data.channels = 3
  with pytest.raises(DataError, match="data.channels=1"):
    data_lib.spec(config.data)


SHARED = os.environ.get(tfds_builders.DATA_DIR_ENV, "")


@pytest.mark.skipif(not os.path.isfile(os.path.join(SHARED, "mnist", FILES[0])),
                    reason="MNIST IDX files not under $JAXGAN_DATA_DIR/mnist")
def test_real_mnist_counts(tmp_path):
  b = tfds_builders.prepare("mnist", "", str(tmp_path))
  assert {k: v.num_examples for k, v in b.info.splits.items()} == {"train": 60000, "test": 10000}
  train = b.as_data_source(split="train")
  labels = np.asarray([r["label"] for r in train.__getitems__(list(range(len(train))))])
  assert np.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
