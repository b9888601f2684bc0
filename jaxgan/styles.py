"""Pictures of a generator with a mapping network (``stylegan2``): style-mixing grids
(Karras et al. 2019, StyleGAN, arXiv:1812.04948, Fig. 3; StyleGAN2 Sec. 2) and
truncation sweeps (StyleGAN Fig. 8).

A style-mixing grid has ``cols`` images of source A across its top row and ``rows`` images
of source B down its left column; cell ``(i, j)`` is synthesised with B_i's styles for the
layers below ``mix_at`` (the coarse ones: pose, shape) and A_j's for the rest (finer
features, colours), the noise inputs keyed by B_i. A truncation sweep draws the same
latents at every psi in turn (``w = w_avg + psi (w - w_avg)``), one column per psi.
Latents come from :func:`jaxgan.latents.latents` of ``seed``: A are samples ``0 ..
cols - 1``, B the next ``rows``, so they match ``python -m jaxgan.sample`` of that seed.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan import models
from jaxgan.errors import ConfigError
from jaxgan.latents import latents
from jaxgan.state import sampling_params

COARSE_LAYERS = 4  # styles of the 4x4 and 8x8 layers: StyleGAN's "coarse" styles (Fig. 3)


def check_styles(run) -> None:
  """Refuses runs whose generator has no mapping network."""
  if not models.GENERATORS.get(run.config.model.generator).styles:
    raise ConfigError(f"style mixing and truncation need a generator with a mapping network (model.generator="
                      f"'stylegan2'); this run's is {run.config.model.generator!r}.")


def num_style_layers(run) -> int:
  return run.gan.generator.num_layers()


def mixing_grid(run, rows: int, cols: int, mix_at: int = COARSE_LAYERS, seed: int = 0) -> np.ndarray:
  """``[(rows + 1) * (cols + 1), H, W, C]`` images in [-1, 1], row-major: a blank (white)
  corner, the A sources, then per row its B source and the ``cols`` mixes."""
  check_styles(run)
  layers = num_style_layers(run)
  if not 1 <= mix_at < layers:
    raise ConfigError(f"--mix_at {mix_at}: the generator has {layers} style layers; choose 1 .. {layers - 1} "
                      "(layers below it take source B's styles).")
  if rows < 1 or cols < 1:
    raise ConfigError(f"a style-mixing grid needs rows and columns >= 1, got {rows}x{cols}")
  gan, state = run.gan, run.sampling_state()
  variables = {"params": sampling_params(state), **state.g_vars}
  key = jax.random.PRNGKey(seed)
  z_a = latents(key, gan.latent_dim, jnp.arange(cols))
  z_b = latents(key, gan.latent_dim, jnp.arange(cols, cols + rows))
  plain = jax.jit(lambda z: gan.generator.apply(variables, z, None, train=False))
  mixed = jax.jit(lambda z, z2: gan.generator.apply(variables, z, None, train=False, mix_at=mix_at, z2=z2))
  a, b = np.asarray(plain(z_a)), np.asarray(plain(z_b))
  cells = np.asarray(mixed(jnp.repeat(z_b, cols, axis=0), jnp.tile(z_a, (rows, 1))))
  shape = a.shape[1:]
  grid = [np.ones((1,) + shape, a.dtype), a]
  for i in range(rows):
    grid += [b[i:i + 1], cells[i * cols:(i + 1) * cols]]
  return np.clip(np.concatenate(grid), -1.0, 1.0)


def truncation_sweep(run, num: int, psis: list[float], seed: int = 0) -> np.ndarray:
  """``[num * len(psis), H, W, C]`` images in [-1, 1], row-major: row ``i`` is latent ``i``
  of ``seed`` at every psi in order."""
  check_styles(run)
  if not psis:
    raise ConfigError("a truncation sweep needs at least one psi, e.g. 1,0.7,0.5,0")
  columns = [run.with_truncation(psi).samples(num, seed) for psi in psis]
  return np.stack(columns, axis=1).reshape((num * len(psis),) + columns[0].shape[1:])
