"""Progressive growing (Karras et al. 2018, "Progressive Growing of GANs", arXiv:1710.10196,
Sec. 3 and App. A.1): the resolution schedule, its phases and the fade-in weight alpha.

Training starts at ``train.grow_from`` (e.g. 4x4) and alternates two kinds of phase, each
``train.stable_kimg`` / ``train.fade_kimg`` thousand real images long: a stable phase at one
resolution, then a fade in of the next resolution's layers while alpha rises linearly from
0 to 1; the last resolution stays stable to the end of training (the reference
implementation's ``lod`` schedule: ``lod_training_kimg``, ``lod_transition_kimg``).
Images are counted as D sees them, ``batch_size x n_critic`` per step, and the phases are
cut at whole steps. A phase is static (the networks' ``level`` and ``fading`` fields), so
the trainer compiles one step per phase (:attr:`jaxgan.method.Method.phase`); alpha is an
array computed in the step from ``state.step`` and stored in the networks' ``'growth'``
collection, so a run resumed mid-fade continues with the same alpha.

The real images follow the networks (the reference's ``process_reals``): average-pooled to
the phase's resolution, during a fade blended with their 2x-pooled version
(``lerp(upsample(pool(x)), x, alpha)``), and upsampled (nearest) back to the data's size,
which D pools down again. Generated images are upsampled by G the same way, so everything
outside the networks (data, metrics, sampling) keeps the data's resolution.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.models.progan import downsample, lerp, upsample


@dataclasses.dataclass(frozen=True)
class Phase:
  """One phase: the networks' ``level`` (0: 4x4), whether it fades that level in, and its
  steps ``[start, end)`` (``end`` None: to the end of training)."""
  level: int
  fading: bool
  start: int
  end: int | None

  @property
  def resolution(self) -> int:
    return 4 << self.level

  def describe(self) -> str:
    return (f"fade in {self.resolution}x{self.resolution}" if self.fading
            else f"{self.resolution}x{self.resolution}") + \
        f" (steps {self.start}..{'end' if self.end is None else self.end - 1})"


@dataclasses.dataclass(frozen=True)
class Growth:
  """The schedule in steps: levels ``first .. last`` (resolution ``4 * 2^level``), each
  stable for ``stable_steps`` and faded in over ``fade_steps`` (the first has no fade)."""
  first: int
  last: int
  stable_steps: int
  fade_steps: int

  def phases(self) -> list[Phase]:
    out, step = [], 0
    for level in range(self.first, self.last + 1):
      if level > self.first and self.fade_steps:
        out.append(Phase(level, True, step, step + self.fade_steps))
        step += self.fade_steps
      end = None if level == self.last else step + self.stable_steps
      out.append(Phase(level, False, step, end))
      step = end if end is not None else step
    return [p for p in out if p.end is None or p.end > p.start]

  def phase_at(self, step: int) -> Phase:
    """The phase that train step ``step`` (0-based) runs in."""
    for phase in self.phases():
      if phase.end is None or step < phase.end:
        return phase
    raise AssertionError("the last phase has no end")


def from_config(train, resolution: int) -> Growth | None:
  """The schedule of ``config.train`` for images of ``resolution`` (None: no growing)."""
  if not train.grow_from:
    return None
  start = int(train.grow_from)
  if start < 4 or start & (start - 1) or start >= resolution:
    raise ConfigError(f"train.grow_from={start}: progressive growing starts at a power of 2 >= 4 below "
                      f"the data's resolution {resolution} (e.g. 4); 0 trains at full resolution.")
  if train.stable_kimg <= 0 or train.fade_kimg < 0:
    raise ConfigError(f"train.stable_kimg must be > 0 and train.fade_kimg >= 0, got "
                      f"{train.stable_kimg} and {train.fade_kimg}.")
  images_per_step = train.batch_size * train.n_critic
  steps = lambda kimg: max(1, round(kimg * 1000 / images_per_step)) if kimg else 0
  return Growth(int(math.log2(start)) - 2, int(math.log2(resolution)) - 2,
                steps(train.stable_kimg), steps(train.fade_kimg))


def alpha(phase: Phase, step: jax.Array) -> jax.Array:
  """The fade-in weight at train step ``step``: ``(step - start) / length`` in a fade
  (0 at its first step), 1 in a stable phase. float32 scalar."""
  if not phase.fading:
    return jnp.ones((), jnp.float32)
  frac = (jnp.asarray(step, jnp.float32) - phase.start) / (phase.end - phase.start)
  return jnp.clip(frac, 0.0, 1.0)


def with_alpha(g_vars: Any, d_vars: Any, value: jax.Array) -> tuple[Any, Any]:
  """G's and D's variables with ``'growth': {'alpha': value}``."""
  put = lambda v: {**v, "growth": {"alpha": jnp.asarray(value, jnp.float32)}}
  return put(g_vars), put(d_vars)


def process_reals(x: jax.Array, phase: Phase, alpha_value: jax.Array) -> jax.Array:
  """Real images ``[..., R, R, C]`` as D sees them in ``phase``: pooled to its resolution,
  faded with their 2x-pooled version while fading, upsampled back to ``R``."""
  shape = x.shape
  x = x.reshape((-1,) + shape[-3:])
  factor = shape[-3] // phase.resolution
  low = downsample(x, factor)
  if phase.fading:
    low = lerp(upsample(downsample(low, 2), 2), low, alpha_value)
  return upsample(low, factor).reshape(shape)
