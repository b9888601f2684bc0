"""Shared by the step benchmarks (``conv_paths.py``, ``dcgan_conv_variants.py``,
``profile_step.py``): a recipe's
compiled train step, optionally traced with some ``jaxgan`` functions replaced, and its
steps/s over a few calls, so that variants can be timed in alternating rounds in one
process (the machine's speed drifts; only figures of one round compare)."""

from __future__ import annotations

import contextlib
import time


@contextlib.contextmanager
def patched(module, replacements: dict):
  """``module.<name> = fn`` for each entry while the block runs (while a step is traced),
  restored after."""
  saved = {name: getattr(module, name) for name in replacements}
  for name, fn in replacements.items():
    setattr(module, name, fn)
  try:
    yield
  finally:
    for name, fn in saved.items():
      setattr(module, name, fn)


def compiled_step(config, module=None, replacements: dict | None = None) -> list:
  """``[compiled step, state, batch]`` of ``config``'s run (``jaxgan.run.build_step``),
  traced with ``replacements`` applied to ``module``, after one warm-up call."""
  import jax

  from jaxgan.run import build_step

  with patched(module, replacements or {}) if module is not None else contextlib.nullcontext():
    *_, batch, state, _, step_fn = build_step(config)
    fn = step_fn.lower(state, batch).compile()
  state, _ = fn(state, batch)
  jax.block_until_ready(state)
  return [fn, state, batch]


def steps_per_second(entry: list, steps: int) -> float:
  """Times ``steps`` calls of a :func:`compiled_step` entry (ended by
  ``block_until_ready``) and keeps the new state in it for the next round."""
  import jax

  fn, state, batch = entry
  began = time.perf_counter()
  for _ in range(steps):
    state, metrics = fn(state, batch)
  jax.block_until_ready((state, metrics))
  entry[1] = state
  return steps / (time.perf_counter() - began)
