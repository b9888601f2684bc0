"""Reference features of a real split, computed once and cached in the data directory.

The cache file is ``<data_dir>/jaxgan_reference/<data>_<split>_<R>_<extractor>_<weights
hash>.npz`` (``data_dir`` = ``config.data.data_dir``, default
``~/.cache/jaxgan/tensorflow_datasets``): the key holds everything the features depend
on, so a new classifier or another resolution never reuses stale statistics. It stores
the features ``[N, D]``, the logits, and their float64 mean and covariance (FID's
reference statistics). Files are written atomically (temporary name, then rename).
"""

from __future__ import annotations

import json
import os

import numpy as np

from jaxgan import data as data_lib
from jaxgan.data import tfds_builders
from jaxgan.metrics import stats
from jaxgan.metrics.extractors import FeatureExtractor, extract


def cache_path(extractor: FeatureExtractor, data_config, split: str) -> str:
  key = (f"{data_config.name}_{split}_{data_config.resolution}_{extractor.name}_"
         f"{extractor.weights_hash}")
  return os.path.join(tfds_builders.prepared_dir(data_config.data_dir), "jaxgan_reference", key + ".npz")


def reference_features(extractor: FeatureExtractor, data_config, split: str,
                       say=print) -> dict[str, np.ndarray]:
  """``{'features', 'logits', 'mu', 'sigma'}`` of the real ``split``, from the cache when present."""
  path = cache_path(extractor, data_config, split)
  if os.path.exists(path):
    try:
      with np.load(path, allow_pickle=False) as f:
        cached = {k: f[k] for k in ("features", "logits", "mu", "sigma") if k in f.files}
      if (cached["features"].shape[1] == extractor.feature_dim
          and ("logits" in cached) == extractor.has_logits and "mu" in cached and "sigma" in cached):
        return cached
    except (OSError, ValueError, KeyError):
      pass
    say(f"Reference cache {path} is unreadable or stale; recomputing it.")
  x, _ = data_lib.load_arrays(data_config, split)
  say(f"Computing reference features of {data_config.name} {split} ({len(x)} images) with "
      f"{extractor.name} [{extractor.weights_hash}] -> {path}")
  out = extract(extractor, x, desc=f"reference {split}")
  out["mu"], out["sigma"] = stats.feature_stats(out["features"])
  os.makedirs(os.path.dirname(path), exist_ok=True)
  tmp = path + ".tmp.npz"
  np.savez(tmp, meta=np.asarray(json.dumps({"data": data_config.name, "split": split,
                                            "resolution": data_config.resolution,
                                            **extractor.protocol()})), **out)
  os.replace(tmp, path)
  return out
