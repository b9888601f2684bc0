"""The one latent rule: latent ``i`` is drawn from ``fold_in(key, i)``.

Training (per global batch row) and sampling (per sample index) both use
:func:`latents`, so the same seed gives the same latents whatever the batch split, the
number of devices or the sample count: the first 64 samples of a seed are the same
whether 64 or 50,000 are drawn.
"""

from __future__ import annotations

import jax


def latents(key: jax.Array, latent_dim: int, rows: jax.Array) -> jax.Array:
  """``[len(rows), latent_dim]`` standard normal latents, row ``i`` from ``fold_in(key, i)``."""
  return jax.vmap(lambda i: jax.random.normal(jax.random.fold_in(key, i), (latent_dim,)))(rows)
