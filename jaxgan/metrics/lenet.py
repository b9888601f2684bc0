"""A LeNet-style classifier for MNIST-like data: offline features for FD-LeNet and mode counts.

Inception-v3 features (FID) need a weight file that cannot be downloaded here and were
made for 299x299 natural images. For MNIST-like data jaxgan trains its own small
classifier on the real training split (LeCun et al. 1998, "Gradient-based learning
applied to document recognition", with ReLU, max pooling and Adam):

  [R, R, C] -> conv 5x5 (w) -> ReLU -> maxpool 2 -> conv 5x5 (2w) -> ReLU -> maxpool 2
            -> dense (feature_dim) -> ReLU  = features  -> dense (classes) = logits

The penultimate activations are the features for the Fréchet distance ("FD-LeNet"), KID,
precision/recall; the argmax of the logits counts classes (modes).

The trained classifier is one ``.npz`` file: the parameters under ``params/...`` and a
JSON ``meta`` entry (data set, resolution, channels, widths, test accuracy and split,
training protocol). Its *weights hash* is the SHA-256 of the parameter arrays (names,
dtypes, shapes, bytes), so it names the weights, not the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import traverse_util

from jaxgan.errors import JaxganError
from jaxgan.models import layers


def max_pool_2x2(x: jax.Array) -> jax.Array:
  """2x2 stride-2 VALID max pool as a reshape + max: the same values as ``nn.max_pool``, and
  its gradient avoids XLA:CPU's slow ``select_and_scatter`` (4x faster here)."""
  b, h, w, c = x.shape
  x = x[:, :h - h % 2, :w - w % 2]
  return x.reshape(b, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


class LeNet(nn.Module):
  """``x [B, R, R, C]`` in [-1, 1] -> ``{'features': [B, feature_dim], 'logits': [B, classes]}``."""
  width: int = 32
  feature_dim: int = 128
  num_classes: int = 10

  @nn.compact
  def __call__(self, x: jax.Array) -> dict[str, jax.Array]:
    for mult in (1, 2):
      x = nn.relu(layers.Conv(self.width * mult, kernel_size=5, padding="SAME")(x))
      x = max_pool_2x2(x)
    features = nn.relu(nn.Dense(self.feature_dim)(x.reshape(x.shape[0], -1)))
    return {"features": features, "logits": nn.Dense(self.num_classes)(features)}


def weights_hash(params: Any) -> str:
  """SHA-256 (first 16 hex digits) over the sorted parameter names, dtypes, shapes and bytes."""
  h = hashlib.sha256()
  for name, value in sorted(traverse_util.flatten_dict(params, sep="/").items()):
    value = np.ascontiguousarray(np.asarray(value))
    h.update(f"{name}:{value.dtype}:{value.shape};".encode())
    h.update(value.tobytes())
  return h.hexdigest()[:16]


def save(path: str, params: Any, meta: dict) -> None:
  """Writes ``path`` atomically (temporary file, then rename)."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  flat = {f"params/{k}": np.asarray(v) for k, v in traverse_util.flatten_dict(params, sep="/").items()}
  tmp = path + ".tmp.npz"
  np.savez(tmp, meta=np.asarray(json.dumps(meta)), **flat)
  os.replace(tmp, path)


def load(path: str) -> tuple[Any, dict]:
  """``(params, meta)`` from a file written by :func:`save`; clear errors for anything else."""
  try:
    with np.load(path, allow_pickle=False) as f:
      meta = json.loads(str(f["meta"]))
      flat = {k[len("params/"):]: f[k] for k in f.files if k.startswith("params/")}
  except FileNotFoundError:
    raise JaxganError(f"No classifier at {path!r}.") from None
  except (OSError, ValueError, KeyError) as e:
    raise JaxganError(f"{path!r} is not a jaxgan classifier file ({e}). Retrain it with "
                      "python -m jaxgan.classifier --data NAME.") from None
  params = traverse_util.unflatten_dict(flat, sep="/")
  if meta.get("weights_hash") != weights_hash(params):
    raise JaxganError(f"{path!r} is corrupt: its parameters do not match the weights hash "
                      "recorded when it was trained. Retrain it.")
  return params, meta


def _batches(n: int, batch_size: int, rng: np.random.Generator):
  perm = rng.permutation(n)
  for start in range(0, n - batch_size + 1, batch_size):
    yield perm[start:start + batch_size]


def train(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, *,
          width: int = 32, feature_dim: int = 128, num_classes: int = 10, epochs: int = 4,
          batch_size: int = 128, learning_rate: float = 1e-3, seed: int = 0,
          progress=None) -> tuple[Any, dict]:
  """Trains :class:`LeNet` with Adam (cosine-decayed lr) and cross-entropy; returns ``(params, meta)``.

  Deterministic from ``seed`` (initialisation and the per-epoch shuffling).
  ``progress(epoch, test_accuracy)`` is called after each epoch when given.
  """
  model = LeNet(width, feature_dim, num_classes)
  batch_size = min(batch_size, len(x_train))
  params = model.init(jax.random.key(seed), jnp.asarray(x_train[:1]))["params"]
  steps = epochs * (len(x_train) // batch_size)
  if steps == 0:
    raise JaxganError(f"{len(x_train)} training images are fewer than one batch of {batch_size}.")
  tx = optax.adam(optax.cosine_decay_schedule(learning_rate, steps))
  opt_state = tx.init(params)

  @jax.jit
  def step(params, opt_state, x, y):
    def loss_fn(p):
      logits = model.apply({"params": p}, x)["logits"]
      return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  predict = jax.jit(lambda p, x: model.apply({"params": p}, x)["logits"].argmax(-1))

  def accuracy(params):
    preds = np.concatenate([np.asarray(predict(params, x_test[i:i + 1000]))
                            for i in range(0, len(x_test), 1000)])
    return float((preds == y_test).mean())

  rng = np.random.default_rng(seed)
  start = time.time()
  for epoch in range(epochs):
    for idx in _batches(len(x_train), batch_size, rng):
      params, opt_state, _ = step(params, opt_state, x_train[idx], y_train[idx])
    if progress is not None:
      progress(epoch + 1, accuracy(params))
  params = jax.device_get(params)
  meta = {"architecture": "lenet", "width": width, "feature_dim": feature_dim,
          "num_classes": num_classes, "resolution": int(x_train.shape[1]),
          "channels": int(x_train.shape[3]), "test_accuracy": accuracy(params),
          "train_examples": int(len(x_train)), "test_examples": int(len(x_test)),
          "training": f"Adam lr {learning_rate} cosine, batch {batch_size}, {epochs} epochs, seed {seed}",
          "train_seconds": round(time.time() - start, 1), "weights_hash": weights_hash(params)}
  return params, meta
