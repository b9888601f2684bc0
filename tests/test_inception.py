"""The FID Inception-v3: architecture, pooling details, weight conversion, refusal without weights."""

import importlib.util
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

from jaxgan import config as config_lib
from jaxgan.errors import JaxganError
from jaxgan.metrics import extractors, fid_weights, inception


def test_avg_pool_excludes_padding_from_the_mean():
  x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
  got = np.asarray(inception.avg_pool_exclude_pad(jnp.asarray(x)))[0, :, :, 0]
  img = x[0, :, :, 0]
  want = np.array([[img[max(i - 1, 0):i + 2, max(j - 1, 0):j + 2].mean() for j in range(4)]
                   for i in range(4)])
  np.testing.assert_allclose(got, want, rtol=1e-6)


def test_architecture_shapes_and_variable_count():
  shapes = inception.variable_shapes()
  params = sum(int(np.prod(s)) for k, s in shapes.items() if k[0] == "params")
  # torchvision Inception-v3 without the aux head: 23,834,568; 8 more fc classes add 8 x 2049.
  assert params == 23_834_568 + 8 * 2049
  assert shapes[("params", "fc", "kernel")] == (2048, 1008)
  assert shapes[("params", "Mixed_7c", "branch_pool", "conv", "kernel")] == (1, 1, 2048, 192)
  out = jax.eval_shape(lambda x: inception.FIDInceptionV3().init_with_output(jax.random.key(0), x)[0],
                       jnp.zeros((2, 299, 299, 3)))
  assert out["features"].shape == (2, 2048) and out["logits"].shape == (2, 1008)


def _random_torch_state():
  rng = np.random.default_rng(0)
  variables = traverse_util.unflatten_dict(
      {k: rng.normal(size=s).astype(np.float32) for k, s in inception.variable_shapes().items()})
  return variables, inception.to_torch_state(variables)


def test_torch_names_and_layouts_round_trip(tmp_path):
  variables, state = _random_torch_state()
  assert state["Conv2d_1a_3x3.conv.weight"].shape == (32, 3, 3, 3)  # OIHW
  assert state["Mixed_6b.branch7x7_2.conv.weight"].shape == (128, 128, 1, 7)
  assert "Mixed_5b.branch_pool.bn.running_var" in state and state["fc.weight"].shape == (1008, 2048)
  np.savez(tmp_path / "w.npz", **state, **{"Conv2d_1a_3x3.bn.num_batches_tracked": np.int64(0)})
  loaded, source = fid_weights.load_weights(str(tmp_path / "w.npz"))
  assert source == "pytorch_fid"  # a .npz without __source__: pytorch-fid's, as written before
  jax.tree.map(np.testing.assert_array_equal, loaded, variables)
  del state["fc.bias"]
  with pytest.raises(JaxganError, match="lack 1 tensors"):
    inception.from_torch_state(state)


def test_missing_weights_are_refused_with_instructions(tmp_path, monkeypatch):
  config = config_lib.for_dataset("digits")
  with pytest.raises(JaxganError) as e:
    extractors.load_extractor("inception", config.data, str(tmp_path / "nope.npz"))
  assert inception.WEIGHTS_FILE in str(e.value) and "never computes" in str(e.value)
  assert "python -m jaxgan.weights convert" in str(e.value)
  (tmp_path / "w.pth").write_bytes(b"x")
  with monkeypatch.context() as m:
    m.setitem(sys.modules, "torch", None)  # as on a machine without torch
    with pytest.raises(JaxganError, match="torch is not installed"):
      fid_weights.load_weights(str(tmp_path / "w.pth"))
  if importlib.util.find_spec("torch") is not None:
    with pytest.raises(JaxganError, match="Cannot read"):
      fid_weights.load_weights(str(tmp_path / "w.pth"))


@pytest.mark.slow
def test_forward_at_299_through_the_extractor(tmp_path):
  variables = inception.FIDInceptionV3().init(jax.random.key(0), jnp.zeros((1, 75, 75, 3)))
  state = inception.to_torch_state(jax.device_get(variables))
  np.savez(tmp_path / "w.npz", **state)
  extractor = extractors.load_extractor("inception", config_lib.for_dataset("digits").data,
                                        str(tmp_path / "w.npz"))
  x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 1)).astype(np.float32)
  out = extractors.extract(extractor, x, per_device=1, progress=False)
  assert out["features"].shape == (2, 2048) and np.isfinite(out["features"]).all()


@pytest.mark.slow
def test_equals_pytorch_fid_network_on_the_same_weights(monkeypatch):
  """Flax network == pytorch-fid's FID Inception (both given the same random weights).

  Needs ``torch`` and ``pytorch-fid`` (not dependencies of jaxgan; skipped without them).
  pytorch-fid's loader is handed jaxgan's converted weights instead of downloading, and its
  strict ``load_state_dict`` checks every name and shape.
  """
  torch = pytest.importorskip("torch")
  pfi = pytest.importorskip("pytorch_fid.inception")
  rng = np.random.default_rng(0)
  variables = jax.device_get(inception.FIDInceptionV3().init(jax.random.key(1), jnp.zeros((1, 75, 75, 3))))
  flat = traverse_util.flatten_dict(variables)
  for path in flat:  # non-trivial BatchNorm statistics and affine parameters
    if path[-1] in ("mean", "bias"):
      flat[path] = rng.normal(0, 0.1, flat[path].shape).astype(np.float32)
    elif path[-1] in ("var", "scale"):
      flat[path] = rng.uniform(0.5, 1.5, flat[path].shape).astype(np.float32)
  variables = traverse_util.unflatten_dict(flat)
  state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in inception.to_torch_state(variables).items()}
  monkeypatch.setattr(pfi, "load_state_dict_from_url", lambda *a, **k: state)
  net = pfi.fid_inception_v3().eval()
  x = rng.uniform(-1, 1, (2, 299, 299, 3)).astype(np.float32)
  with torch.no_grad():
    want_logits = net(torch.from_numpy(x.transpose(0, 3, 1, 2))).numpy()
  got = inception.FIDInceptionV3().apply(variables, x)
  np.testing.assert_allclose(np.asarray(got["logits"]), want_logits, rtol=1e-3, atol=1e-3 * np.abs(want_logits).max())
  # Through the extractor (bilinear resize of a 32x32 input) vs pytorch-fid's InceptionV3 block.
  small = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
  wrapper = pfi.InceptionV3([3], resize_input=True, normalize_input=False, use_fid_inception=True).eval()
  with torch.no_grad():
    want = wrapper(torch.from_numpy(small.transpose(0, 3, 1, 2)))[0][:, :, 0, 0].numpy()
  extractor = extractors.FeatureExtractor(
      name="inception", description="test", weights_hash="test", resolution=299, channels=3,
      feature_dim=2048, apply=lambda v, x: inception.FIDInceptionV3().apply(v, x), params=variables)
  got = extractors.extract(extractor, small, per_device=1, progress=False)["features"]
  np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3 * np.abs(want).max())
