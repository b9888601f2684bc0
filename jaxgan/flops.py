"""Analytic ("useful") FLOP count of a traced function, from its jaxpr.

XLA's ``cost_analysis()`` counts the multiply-by-zero work of input-dilated
convolutions (what transposed convolutions lower to), which overstates the useful work
of a generator step several-fold for those layers. This counter walks the jaxpr instead
and counts 2 FLOPs per multiply-add of every ``dot_general`` and ``conv_general_dilated``,
excluding products with the zeros that input (lhs) dilation inserts. Elementwise work is
not counted: it is small next to the convolutions and matmuls of the models here.
Equations whose results nothing uses are not counted either (XLA removes them): e.g. the
weight gradient a ``custom_vjp`` backward rule computes for a kernel that is not being
differentiated.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import jax
from jax.extend import core as jcore


def _dot_flops(eqn) -> float:
  lhs, rhs = (v.aval.shape for v in eqn.invars[:2])
  (lhs_contract, rhs_contract), (lhs_batch, rhs_batch) = eqn.params["dimension_numbers"]
  contract = math.prod(lhs[d] for d in lhs_contract)
  batch = math.prod(lhs[d] for d in lhs_batch)
  lhs_free = math.prod(s for d, s in enumerate(lhs) if d not in lhs_contract and d not in lhs_batch)
  rhs_free = math.prod(s for d, s in enumerate(rhs) if d not in rhs_contract and d not in rhs_batch)
  return 2.0 * batch * lhs_free * rhs_free * contract


def _conv_flops(eqn) -> float:
  rhs = eqn.invars[1].aval.shape
  out = eqn.outvars[0].aval.shape
  dn = eqn.params["dimension_numbers"]
  taps = math.prod(rhs[d] for d in dn.rhs_spec[2:])
  in_per_group = rhs[dn.rhs_spec[1]]
  batch_groups = eqn.params.get("batch_group_count", 1)
  dilation = math.prod(eqn.params.get("lhs_dilation") or (1,))
  return 2.0 * math.prod(out) * taps * in_per_group * batch_groups / dilation


_COUNTERS: dict[str, Callable[[Any], float]] = {
    "dot_general": _dot_flops,
    "conv_general_dilated": _conv_flops,
}


def _sub_jaxprs(value):
  if isinstance(value, jcore.ClosedJaxpr):
    yield value.jaxpr
  elif isinstance(value, jcore.Jaxpr):
    yield value


def _live(jaxpr, used_outputs: list[bool]) -> list[list[bool]]:
  """Per equation of ``jaxpr``, which of its results are used (backward liveness)."""
  used = {v for v, u in zip(jaxpr.outvars, used_outputs) if u and isinstance(v, jcore.Var)}
  per_eqn = []
  for eqn in reversed(jaxpr.eqns):
    outs = [isinstance(v, jcore.Var) and v in used for v in eqn.outvars]
    if eqn.effects:
      outs = [True] * len(outs)
    if any(outs):
      used.update(v for v in eqn.invars if isinstance(v, jcore.Var))
    per_eqn.append(outs)
  return per_eqn[::-1]


def _sub_used(eqn, sub, outs: list[bool]) -> list[bool]:
  """Used outputs of a sub-jaxpr of ``eqn`` given the used results of ``eqn``: the same
  when they correspond one to one (calls, custom rules, cond branches, scan's ys), all
  otherwise (and always a scan's carries, which feed the next iteration)."""
  if eqn.primitive.name == "scan":
    carries = eqn.params["num_carry"]
    return [True] * carries + outs[carries:]
  if len(sub.outvars) == len(outs) and eqn.primitive.name != "while":
    return outs
  return [True] * len(sub.outvars)


def jaxpr_flops(jaxpr, used_outputs: list[bool] | None = None) -> float:
  """Useful FLOPs of one evaluation of ``jaxpr`` (a ``Jaxpr`` or ``ClosedJaxpr``).

  Sub-jaxprs (jit, custom_vjp/jvp, shard_map, remat) are counted once; ``scan`` bodies
  ``length`` times; of a ``cond``'s branches (e.g. :func:`jax.lax.platform_dependent`)
  the most expensive one, since exactly one runs. Only equations some used output
  depends on count (``used_outputs``: which outputs of ``jaxpr`` are used; default all).
  """
  jaxpr = getattr(jaxpr, "jaxpr", jaxpr)
  used_outputs = [True] * len(jaxpr.outvars) if used_outputs is None else list(used_outputs)
  total = 0.0
  for eqn, outs in zip(jaxpr.eqns, _live(jaxpr, used_outputs)):
    if not any(outs):
      continue
    name = eqn.primitive.name
    if name in _COUNTERS:
      total += _COUNTERS[name](eqn)
      continue
    if name == "cond":
      total += max(jaxpr_flops(b, _sub_used(eqn, b.jaxpr, outs)) for b in eqn.params["branches"])
      continue
    repeat = eqn.params.get("length", 1) if name == "scan" else 1
    for value in eqn.params.values():
      for sub in _sub_jaxprs(value):
        total += repeat * jaxpr_flops(sub, _sub_used(eqn, sub, outs))
  return total


def count_flops(fn: Callable, *args, axis_env: list[tuple[str, int]] | None = None) -> float:
  """Useful FLOPs of ``fn(*args)`` (per call; per device for a per-device step under ``axis_env``)."""
  return jaxpr_flops(jax.make_jaxpr(fn, axis_env=axis_env)(*args))
