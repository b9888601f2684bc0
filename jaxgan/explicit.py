"""What the explicit density models (:mod:`jaxgan.vae`, :mod:`jaxgan.pixelcnn`) share: their
state (one set of parameters, one Adam), the per-model cache of compiled functions, and
batch-by-batch likelihood estimation of held-out images.

Unlike a GAN, these families define ``log p(x)`` (or a bound on it), so each offers
likelihood estimators to the metrics (:attr:`jaxgan.method.Method.estimators`).
"""

from __future__ import annotations

from typing import Any, Callable

import flax
import jax
import jax.numpy as jnp
import numpy as np

from jaxgan import likelihoods

PyTree = Any


@flax.struct.dataclass
class ExplicitState:
  """Attributes: ``step`` (int32, updates done), ``rng`` (the run's root key), ``params``
  (the model's parameters) and ``opt_state`` (its optimizer's)."""
  step: jax.Array
  rng: jax.Array
  params: PyTree
  opt_state: PyTree


_CACHE: dict[tuple[str, int], tuple[Any, Any]] = {}


def cached(name: str, model: Any, make: Callable[[], Any]) -> Any:
  """``make()`` once per static ``model`` (e.g. a jitted function bound to it); holding the
  model keeps its id from being reused while the entry exists."""
  entry = _CACHE.get((name, id(model)))
  if entry is None or entry[0] is not model:
    entry = (model, make())
    _CACHE[(name, id(model))] = entry
  return entry[1]


def eval_targets(binarization: likelihoods.Binarization, x: np.ndarray, seed: int = 0) -> jax.Array:
  """Held-out images ``[N, ...]`` in [-1, 1] as a model's targets: binarized once, image
  ``i`` with key ``fold_in(PRNGKey(seed), i)`` (a fixed binarization of the split)."""
  return likelihoods.binarize_rows(binarization, jax.random.PRNGKey(seed), jnp.asarray(x), jnp.arange(len(x)))


def estimator(name: str, fn: Callable, batch: Callable[[Any], int], facts: Callable[[Any], dict]) -> Callable:
  """A likelihood estimator over held-out images: ``(model, state, x [N, ...] in [-1, 1],
  seed, say) -> (log-likelihoods [N] in nats, protocol facts)``, computed ``batch(model)``
  images at a time by ``fn(model, params, targets, rows)``. The model carries
  ``binarization``, ``likelihood_name`` and ``binarize_name``."""
  def estimate(model, state, x: np.ndarray, seed: int, say=print):
    target = eval_targets(model.binarization, x, seed)
    size, out = batch(model), []
    for start in range(0, len(x), size):
      stop = min(start + size, len(x))
      out.append(np.asarray(fn(model, state.params, target[start:stop], jnp.arange(start, stop))))
      if (start // size) % 20 == 0:
        say(f"  {name}: {stop}/{len(x)} images")
    protocol = {"estimator": name, **facts(model), "likelihood": model.likelihood_name,
                "binarize": model.binarize_name,
                "binarization_seed": seed if model.binarize_name == "dynamic" else None}
    return np.concatenate(out).astype(np.float64), protocol
  return estimate
