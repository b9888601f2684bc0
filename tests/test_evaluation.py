"""Feature extractors, the LeNet classifier, reference caching and the evaluate CLI."""

import json
import os

import jax
import numpy as np
import pytest

from conftest import tiny_dcgan_config
from jaxgan import config as config_lib
from jaxgan import data as data_lib
from jaxgan.metrics import evaluators as evaluate_lib
from jaxgan.metrics.classifier import train_classifier
from jaxgan.errors import JaxganError
from jaxgan.metrics import extractors, lenet, reference, stats
from jaxgan.trainer import train_and_evaluate


@pytest.fixture(scope="module")
def digits_config(tmp_path_factory):
  config = config_lib.for_dataset("digits", data_dir=str(tmp_path_factory.mktemp("data")))
  return config


@pytest.fixture(scope="module")
def classifier(digits_config):
  return train_classifier(digits_config.data, epochs=3, progress=False)


@pytest.fixture(scope="module")
def digits_run(digits_config, tmp_path_factory):
  """A 4-step tiny DCGAN on digits: an untrained generator, enough to exercise evaluation."""
  config = tiny_dcgan_config(resolution=16)
  config.data = digits_config.data
  config.train.num_devices = 1  # training is not under test here; one device compiles fastest
  workdir = str(tmp_path_factory.mktemp("run"))
  train_and_evaluate(config, workdir)
  return workdir


def test_classifier_is_trained_saved_and_reloaded(classifier, digits_config):
  assert classifier["path"] == extractors.lenet_default_path(digits_config.data)
  assert classifier["test_accuracy"] > 0.85 and classifier["test_examples"] == 360
  extractor = extractors.load_extractor("lenet", digits_config.data)
  assert extractor.weights_hash == classifier["weights_hash"] == lenet.weights_hash(extractor.params)
  assert extractor.resolution == 16 and extractor.feature_dim == 64


def test_classifier_training_is_deterministic(classifier, digits_config, tmp_path):
  again = train_classifier(digits_config.data, epochs=3, out=str(tmp_path / "c.npz"), progress=False)
  assert again["weights_hash"] == classifier["weights_hash"]


def test_corrupt_or_tampered_classifier_files_are_refused(classifier, tmp_path):
  bad = tmp_path / "bad.npz"
  bad.write_bytes(b"not a zip file")
  with pytest.raises(JaxganError, match="not a jaxgan classifier"):
    lenet.load(str(bad))
  params, meta = lenet.load(classifier["path"])
  params = jax.tree.map(lambda a: a + 1.0, params)
  np.savez(tmp_path / "t.npz", meta=np.asarray(json.dumps(meta)),
           **{f"params/{k}": v for k, v in __import__("flax").traverse_util.flatten_dict(params, sep="/").items()})
  with pytest.raises(JaxganError, match="corrupt"):
    lenet.load(str(tmp_path / "t.npz"))


def test_missing_classifier_says_how_to_train_it(tmp_path):
  config = config_lib.for_dataset("mnist", data_dir=str(tmp_path))
  with pytest.raises(JaxganError, match="python -m jaxgan.classifier --data mnist"):
    extractors.load_extractor("lenet", config.data)


def test_extract_is_batched_over_devices_and_equals_direct_apply(classifier, digits_config):
  extractor = extractors.load_extractor("lenet", digits_config.data)
  x, _ = data_lib.load_arrays(digits_config.data, "train")
  x = x[:37]
  direct = extractor.apply(extractor.params, x)
  out = extractors.extract(extractor, x, per_device=2, progress=False)  # 8 devices x 2, padded
  np.testing.assert_allclose(out["features"], direct["features"], rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(out["logits"], direct["logits"], rtol=1e-5, atol=1e-5)
  chunks = extractors.extract(extractor, iter([x[:5], x[5:30], x[30:]]), per_device=2, progress=False)
  np.testing.assert_array_equal(chunks["features"], out["features"])


def test_extract_resizes_to_the_network_input(classifier, digits_config):
  extractor = extractors.load_extractor("lenet", digits_config.data)
  x, _ = data_lib.load_arrays(digits_config.data, "train")
  big = np.repeat(np.repeat(x[:8], 2, axis=1), 2, axis=2)  # 32x32
  out = extractors.extract(extractor, big, progress=False)
  resized = jax.image.resize(big, (8, 16, 16, 1), "bilinear", antialias=False)
  np.testing.assert_allclose(out["features"], extractor.apply(extractor.params, resized)["features"],
                             rtol=1e-5, atol=1e-5)


def test_extract_refuses_bad_images(classifier, digits_config):
  extractor = extractors.load_extractor("lenet", digits_config.data)
  with pytest.raises(ValueError, match=r"lie in \[-1, 1\]"):
    extractors.extract(extractor, np.full((4, 16, 16, 1), 2.0, np.float32), progress=False)
  with pytest.raises(ValueError, match="channels"):
    extractors.extract(extractor, np.zeros((4, 16, 16, 3), np.float32), progress=False)
  with pytest.raises(ValueError, match=r"\[N, H, W, C\]"):
    extractors.extract(extractor, np.zeros((4, 16, 16), np.float32), progress=False)
  assert extractors.check_images(np.zeros((2, 4, 4, 1)), 3).shape == (2, 4, 4, 3)


def test_reference_features_are_cached_by_key(classifier, digits_config, monkeypatch):
  extractor = extractors.load_extractor("lenet", digits_config.data)
  first = reference.reference_features(extractor, digits_config.data, "train", say=lambda m: None)
  assert first["features"].shape == (1797, 64)
  path = reference.cache_path(extractor, digits_config.data, "train")
  assert os.path.exists(path) and extractor.weights_hash in path and "_16_" in path
  monkeypatch.setattr(reference, "extract", lambda *a, **k: pytest.fail("recomputed"))
  again = reference.reference_features(extractor, digits_config.data, "train", say=lambda m: None)
  np.testing.assert_array_equal(again["mu"], first["mu"])
  # Real digits against themselves: Fréchet distance 0.
  assert abs(stats.frechet_distance(first["mu"], first["sigma"], first["mu"], first["sigma"])) < 1e-6


def test_evaluate_run_and_images(classifier, digits_config, digits_run, tmp_path):
  workdir = digits_run
  results = evaluate_lib.evaluate(workdir, ["fd_lenet", "kid", "prd", "dc", "classes"], num_samples=300,
                                  say=lambda m: None)
  assert sorted(results) == ["classes_lenet300", "dc_lenet300_train", "fd_lenet300_train",
                             "kid_lenet300_train", "prd_lenet300_train"]
  fd = results["fd_lenet300_train"]
  assert fd["fd"] > 0 and fd["protocol"]["extractor_weights"] == classifier["weights_hash"]
  assert fd["protocol"]["reference"] == "digits train" and fd["protocol"]["samples"] == 300
  line = json.loads(open(os.path.join(workdir, "metrics", "fd_lenet300_train.jsonl")).readline())
  assert line["fd"] == fd["fd"] and line["step"] == 4
  # The same metric on stored images: real digits score far better than the untrained G.
  x, _ = data_lib.load_arrays(digits_config.data, "train")
  np.savez(tmp_path / "real.npz", x=x[:300])
  real = evaluate_lib.evaluate_images(str(tmp_path / "real.npz"), digits_config.data, ["fd_lenet"],
                                      say=lambda m: None)["fd_lenet300_train"]
  assert real["fd"] < fd["fd"] / 5 and real["protocol"]["images"].endswith("real.npz")


def test_auto_skips_feature_metrics_without_weights(digits_run, tmp_path):
  said = []
  results = evaluate_lib.evaluate(digits_run, num_samples=50, say=said.append,
                                  extractor_paths={"lenet": str(tmp_path / "missing.npz")})
  assert list(results) == ["digits_classes"]
  assert any("skipping" in m and "fd_lenet" in m and "python -m jaxgan.classifier" in m for m in said)
  assert sum("skipping" in m for m in said) == len({m.split(": ", 2)[-1] for m in said if "skipping" in m})


def test_metrics_during_training_keep_the_best_checkpoint(classifier, digits_config, tmp_path):
  config = tiny_dcgan_config(resolution=16, steps=6)
  config.data = digits_config.data
  config.train.num_devices = 1
  config.checkpoint.keep = 1
  config.eval.every = 2
  config.eval.metrics = "fd_lenet,classes"
  config.eval.num_samples = 200
  workdir = str(tmp_path / "run")
  train_and_evaluate(config, workdir)
  lines = [json.loads(l) for l in open(os.path.join(workdir, "metrics", "fd_lenet200_train.jsonl"))]
  assert [l["step"] for l in lines] == [2, 4, 6]
  assert os.path.exists(os.path.join(workdir, "metrics", "classes_lenet200.jsonl"))
  best = json.load(open(os.path.join(workdir, "best", "best.json")))
  assert best["value"] == min(l["fd"] for l in lines) and best["metric"] == "fd_lenet200_train"
  assert best["step"] == min(lines, key=lambda l: l["fd"])["step"]
  from jaxgan.run import load_run
  assert load_run(workdir, best=True).step == best["step"]
  # Resuming keeps comparing with the stored best.
  config.train.steps = 8
  train_and_evaluate(config, workdir)
  lines = [json.loads(l) for l in open(os.path.join(workdir, "metrics", "fd_lenet200_train.jsonl"))]
  again = json.load(open(os.path.join(workdir, "best", "best.json")))
  assert [l["step"] for l in lines] == [2, 4, 6, 8] and again["value"] == min(l["fd"] for l in lines)


def test_metrics_during_training_fail_early_without_weights(tmp_path):
  config = tiny_dcgan_config(resolution=16)
  config.data = config_lib.for_dataset("digits", data_dir=str(tmp_path / "empty")).data
  config.eval.every = 2
  config.eval.metrics = "fd_lenet"
  with pytest.raises(JaxganError, match="python -m jaxgan.classifier"):
    train_and_evaluate(config, str(tmp_path / "run"))
  assert not os.path.exists(tmp_path / "run")
  config.eval.best_value = "nope"
  with pytest.raises(JaxganError, match="reports"):
    train_and_evaluate(config, str(tmp_path / "run"))


def test_missing_reference_data_names_the_files(classifier, digits_config, tmp_path):
  extractor = extractors.load_extractor("lenet", digits_config.data)
  config = config_lib.for_dataset("mnist", manual_dir=str(tmp_path / "nowhere"), data_dir=str(tmp_path))
  with pytest.raises(JaxganError, match="t10k-images-idx3-ubyte.gz"):
    reference.reference_features(extractor, config.data, "test", say=lambda m: None)


def test_lenet_pool_equals_flax_max_pool():
  import flax.linen as nn
  x = np.random.default_rng(0).normal(size=(2, 7, 6, 3)).astype(np.float32)
  np.testing.assert_array_equal(lenet.max_pool_2x2(x), nn.max_pool(x, (2, 2), strides=(2, 2)))


def test_stacked_mnist_modes_classify_each_channel(tmp_path):
  from test_real_data import _write_mnist_like
  manual = _write_mnist_like(tmp_path / "mnist", n_train=100, n_test=30)
  mnist = config_lib.for_dataset("mnist", manual_dir=str(manual), data_dir=str(tmp_path / "prep"))
  train_classifier(mnist.data, epochs=1, progress=False)
  stacked = config_lib.for_dataset("stacked_mnist", manual_dir=str(manual), data_dir=str(tmp_path / "prep"))
  x, _ = data_lib.load_arrays(stacked.data, "test")
  np.savez(tmp_path / "x.npz", x=x)
  record = evaluate_lib.evaluate_images(str(tmp_path / "x.npz"), stacked.data, ["stacked_modes"],
                                        say=lambda m: None)["stacked_modes30"]
  extractor = extractors.load_extractor("lenet", mnist.data)
  per_channel = [np.asarray(extractor.apply(extractor.params, x[..., c:c + 1])["logits"]).argmax(1)
                 for c in range(3)]
  want = np.bincount(100 * per_channel[0] + 10 * per_channel[1] + per_channel[2], minlength=1000)
  assert record["counts"] == want.tolist() and record["num_modes"] == 1000
  assert record["modes_captured"] == int((want > 0).sum())
