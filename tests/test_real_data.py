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
  config.data.prefetch, config.data.workers = 4, 3
  threaded = data_lib.build(config.data, 8, seed=3)
  for b in batches:
    np.testing.assert_array_equal(plain.next()["label"], b["label"])
    np.testing.assert_array_equal(threaded.next()["x"], b["x"])

  # Served at another resolution (bilinear) for architectures that need it.
  config.data.resolution = 32
  assert data_lib.build(config.data, 8, seed=3).next()["x"].shape == (8, 32, 32, 1)


def test_a_limited_subset_is_fixed_nested_and_checked(tmp_path):
  """data.limit: the same examples whatever the run's seed, a smaller subset inside a larger
  one; more than the split holds, or a data set that is not stored, is refused."""
  manual = _write_mnist_like(str(tmp_path / "manual"))
  ids = {}
  for limit, seed in ((10, 0), (10, 5), (16, 0)):
    config = _config("mnist", manual, tmp_path / "prepared", limit=limit)
    source = data_lib.build(config.data, 2, seed=seed)
    assert source.num_examples == limit
    seen = np.concatenate([source.next()["x"][:, 0, 0, 0] for _ in range(limit // 2)])
    ids[limit, seed] = set(np.round((seen + 1.0) * 255.0 / 2.0).astype(int).tolist())
    assert len(ids[limit, seed]) == limit  # an epoch sees each chosen example once
  assert ids[10, 0] == ids[10, 5] and ids[10, 0] < ids[16, 0]
  with pytest.raises(DataError, match="data.limit=30 exceeds the 24 examples"):
    data_lib.build(_config("mnist", manual, tmp_path / "prepared", limit=30).data, 2, seed=0)
  digits = config_lib.default_config()
  digits.data.limit = 10
  with pytest.raises(config_lib.ConfigError, match="'digits' is not one"):
    data_lib.spec(digits.data)


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


def test_stacked_mnist_stacks_three_digits_deterministically(tmp_path):
  manual = _write_mnist_like(tmp_path / "mnist", n_train=40)
  config = _config("stacked_mnist", manual, tmp_path / "prepared", channels=3)
  x, labels = data_lib.load_arrays(config.data, "train")
  assert x.shape == (40, 28, 28, 3) and labels.shape == (40,) and labels.max() < 1000
  mnist_x, mnist_labels = data_lib.load_arrays(_config("mnist", manual, tmp_path / "prepared").data, "train")
  pixel_id = lambda img: ((img[0, 0] + 1) * 127.5).round().astype(int)  # example id in pixel (0, 0)
  position = {int(pixel_id(img[..., 0])): p for p, img in enumerate(mnist_x)}  # tfds reorders
  for i in range(40):  # each channel is one MNIST image, label = the triple of their labels
    ids = [position[int(v)] for v in pixel_id(x[i])]
    for c in range(3):
      np.testing.assert_array_equal(x[i, :, :, c], mnist_x[ids[c], :, :, 0])
    assert labels[i] == mnist_labels[ids] @ np.array([100, 10, 1])
  again, _ = data_lib.load_arrays(config.data, "train")
  np.testing.assert_array_equal(again, x)
  test_x, _ = data_lib.load_arrays(config.data, "test")
  assert test_x.shape == (8, 28, 28, 3)
  batch = data_lib.build(config.data, 8, seed=0).next()
  assert batch["x"].shape == (8, 28, 28, 3) and data_lib.spec(config.data).num_classes == 1000
  with pytest.raises(DataError, match="3 channel"):
    data_lib.spec(_config("stacked_mnist", manual, tmp_path / "prepared").data)


def _write_cifar10(directory, per_batch=4):
  import pickle
  os.makedirs(directory, exist_ok=True)
  rng = np.random.default_rng(0)
  for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
    data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
    with open(os.path.join(directory, name), "wb") as f:
      pickle.dump({b"data": data, b"labels": list(range(per_batch))}, f)
  return directory


def test_cifar10_builder_reads_python_batches(tmp_path):
  import pickle
  manual = _write_cifar10(tmp_path / "cifar10")
  config = _config("cifar10", manual, tmp_path / "prepared", channels=3)
  config.data.resolution = 32
  x, labels = data_lib.load_arrays(config.data, "train")
  assert x.shape == (20, 32, 32, 3) and sorted(np.bincount(labels)) == [5, 5, 5, 5]
  with open(os.path.join(manual, "data_batch_1"), "rb") as f:
    raw = pickle.load(f, encoding="bytes")[b"data"][0]
  # The batch stores planes R, G, B of 1024 values each; HWC pixel (0, 0) is (raw[0], raw[1024], raw[2048]).
  pixels = {tuple(np.round((img[0, 0] + 1) * 127.5).astype(int)) for img in x}
  assert (raw[0], raw[1024], raw[2048]) in pixels
  assert data_lib.load_arrays(config.data, "test")[0].shape == (4, 32, 32, 3)
  bad = _write_cifar10(tmp_path / "bad")
  open(os.path.join(bad, "test_batch"), "wb").write(b"garbage")
  with pytest.raises(DataError, match="not a CIFAR-10 python batch"):
    data_lib.load_arrays(_config("cifar10", bad, tmp_path / "prepared2", channels=3).data, "train")
  os.remove(os.path.join(manual, "data_batch_3"))
  with pytest.raises(DataError, match="data_batch_3"):
    data_lib.load_arrays(_config("cifar10", manual, tmp_path / "prepared3", channels=3).data, "train")


def _png(path, color, size=(20, 30), mode="RGB"):
  from PIL import Image
  os.makedirs(os.path.dirname(path), exist_ok=True)
  Image.new(mode, size, color).save(path)


def test_celeb_a_builder_crops_the_centre_and_splits(tmp_path):
  from PIL import Image
  manual = tmp_path / "celeb_a"
  names = [f"{i:06d}.jpg" for i in range(1, 6)]
  for name in names:
    img = np.zeros((218, 178, 3), np.uint8)
    img[39:179, 19:159] = 255  # exactly the central 140x140: white, the rest black
    os.makedirs(manual / "img_align_celeba", exist_ok=True)
    Image.fromarray(img).save(manual / "img_align_celeba" / name, quality=100)
  (manual / "img_align_celeba" / names[4]).write_bytes(b"not a jpeg")
  (manual / "list_eval_partition.txt").write_text(
      "".join(f"{n} {s}\n" for n, s in zip(names, [0, 0, 1, 2, 0])))
  config = _config("celeb_a", manual, tmp_path / "prepared", channels=3)
  config.data.resolution = 64
  with pytest.warns(UserWarning, match="skipped 1 of 3"):
    x, _ = data_lib.load_arrays(config.data, "train")
  assert x.shape == (2, 64, 64, 3) and x.min() > 0.9  # the black border was cropped away
  assert len(data_lib.load_arrays(config.data, "validation")[0]) == 1


def test_image_folder_with_classes_corrupt_files_and_changes(tmp_path):
  root = tmp_path / "pics"
  _png(str(root / "cats" / "a.png"), (255, 0, 0))
  _png(str(root / "cats" / "b.jpg"), (250, 0, 0))
  _png(str(root / "dogs" / "c.png"), 128, mode="L")  # grayscale file in an RGB set
  (root / "dogs" / "broken.png").write_bytes(b"\x89PNG not really")
  (root / "dogs" / "notes.txt").write_text("ignored")
  config = config_lib.default_config()
  config.data.name, config.data.path, config.data.channels = "image_folder", str(root), 3
  config.data.resolution, config.data.data_dir = 8, str(tmp_path / "prepared")
  assert data_lib.spec(config.data).num_classes == 2
  with pytest.warns(UserWarning, match="skipped 1 of 4 image files"):
    x, labels = data_lib.load_arrays(config.data, "train")
  order = np.argsort(labels, kind="stable")
  x, labels = x[order], labels[order]
  assert x.shape == (3, 8, 8, 3) and labels.tolist() == [0, 0, 1]
  np.testing.assert_allclose(x[2], 128 / 127.5 - 1, atol=1e-6)  # gray -> RGB, all channels equal
  assert x[0, 0, 0, 0] > 0.9 and x[0, 0, 0, 1] < -0.9
  batch = data_lib.build(config.data, 2, seed=0).next()
  assert batch["x"].shape == (2, 8, 8, 3)
  _png(str(root / "dogs" / "d.png"), (0, 0, 255))  # a changed folder is prepared anew
  with pytest.warns(UserWarning):
    assert len(data_lib.load_arrays(config.data, "train")[0]) == 4
  config.data.channels = 1
  with pytest.warns(UserWarning):
    assert data_lib.load_arrays(config.data, "train")[0].shape == (4, 8, 8, 1)


def test_image_folder_bad_input(tmp_path):
  config = config_lib.default_config()
  config.data.name, config.data.data_dir = "image_folder", str(tmp_path / "prepared")
  with pytest.raises(DataError, match="needs data.path"):
    data_lib.spec(config.data)
  config.data.path = str(tmp_path / "missing")
  with pytest.raises(DataError, match="is not a directory"):
    data_lib.spec(config.data)
  (tmp_path / "empty").mkdir()
  (tmp_path / "empty" / "readme.txt").write_text("no images")
  config.data.path = str(tmp_path / "empty")
  with pytest.raises(DataError, match="No images in"):
    data_lib.spec(config.data)
  (tmp_path / "empty" / "x.png").write_bytes(b"corrupt")
  with pytest.raises(DataError, match="none of the 1 image files"):
    data_lib.load_arrays(config.data, "train")
  from jaxgan.data import folder
  with pytest.raises(DataError):  # the failed preparation left nothing a later run would trust
    folder.prepare(config.data)


@pytest.mark.parametrize("name", ["mnist", "digits", "ring8"])
def test_process_shards_concatenate_to_the_global_batch(tmp_path, name):
  config = _config(name, _write_mnist_like(tmp_path / "mnist"), tmp_path / "prepared")
  if name == "digits":
    config.data.resolution = 16
  whole = data_lib.build(config.data, 12, seed=5)
  shards = [data_lib.build(config.data, 12, seed=5, shard=(p, 3)) for p in range(3)]
  for _ in range(4):  # crosses an epoch boundary of the 24-example set
    want = whole.next()
    parts = [s.next() for s in shards]
    assert all(len(p["x"]) == 4 for p in parts)
    for key in want:
      np.testing.assert_array_equal(np.concatenate([p[key] for p in parts]), want[key])
  with pytest.raises(ValueError, match="divide by the process count"):
    data_lib.build(config.data, 10, seed=5, shard=(0, 3))
