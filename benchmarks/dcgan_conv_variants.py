"""The DCGAN-32 train step with other CPU formulations of its 4x4 stride-2 convolutions,
alternated in one process with the step as jaxgan builds it.

  python benchmarks/dcgan_conv_variants.py [--config configs/bench_dcgan32.py] [--rounds 6] [--steps 8]

Variants (each patches ``jaxgan.models.layers`` while its step is traced, then restores it):

* ``current``: jaxgan's layers (strided convs as im2col matmuls, the transposed convs'
  forward as per-phase matmuls from 256 output channels, their gradients as im2col).
* ``native_strided``: strided convs with >= 32 input channels as XLA's own convolution
  (Eigen, forward and both gradients), and the transposed convs' gradients from 32 output
  channels as XLA's strided convolution and its weight gradient
  (``layers.plain_conv_transpose_grads``).
* ``native_strided+phase_conv``: that, plus the transposed convs' forward as
  :func:`phase_dilated_conv` below -- each output phase one stride-1 XLA convolution with
  the phase's 2x2 sub-kernel, no inserted zeros.
* ``phase_conv``: only the transposed convs' forward as :func:`phase_dilated_conv` (from
  256 output channels, ``layers.PHASE_MIN_FEATURES``: G's first layer).
* ``phase_conv_128``, ``native_strided+phase_conv_128``: the same from 128 output channels
  (G's second layer too, whose forward is otherwise XLA's input-dilated convolution).

:func:`phase_dilated_conv` is checked against ``lax.conv_general_dilated`` before timing.
Timed alone, the per-phase XLA convolution ran the 4x4x512 -> 8x8x256 layer at batch 64
in 13.9 ms against 32.1 ms for the per-phase matmuls and 8x8x256 -> 16x16x128 in 17.3 ms
against 39.2 ms for XLA's input-dilated conv; in the step none of the variants measured
faster than ``current`` (see ``benchmarks/sngan_vs_torch.md``, DCGAN section): the
machine's matmul units are what the step is bound by.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import numpy as np

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")


def phase_dilated_conv(x, kernel, strides, pads):
  """``lax.conv_general_dilated(x, kernel, (1, 1), pads, lhs_dilation=strides)`` (NHWC/HWIO)
  computed per output phase: output row ``s * q + p`` only meets the taps ``t`` with
  ``(p + t - lo) % s == 0`` (every ``s``-th tap from the first such ``t0``), reading input
  rows ``q + (p + t0 - lo) // s`` onward, so each phase is a VALID stride-1 convolution of
  a window of the (zero-padded) input with ``kernel[t0::s]``; the phases are interleaved
  and the result cropped to the op's output size (negative pads included)."""
  import jax.numpy as jnp
  from jax import lax

  b, h, w, c_in = x.shape
  kh, kw, _, c_out = kernel.shape
  out = [(n - 1) * s + 1 + lo + hi - k + 1 for n, s, k, (lo, hi) in zip((h, w), strides, (kh, kw), pads)]
  q = [-(-o // s) for o, s in zip(out, strides)]

  def axis_phases(size, s, lo):  # per phase: (first tap, first input offset, taps) or None
    phases = []
    for p in range(s):
      t0 = next((t for t in range(size) if (p + t - lo) % s == 0), None)
      phases.append(None if t0 is None else (t0, (p + t0 - lo) // s, len(range(t0, size, s))))
    return phases

  ph, pw = axis_phases(kh, strides[0], pads[0][0]), axis_phases(kw, strides[1], pads[1][0])
  reach_h = [d for e in ph if e for d in (e[1], e[1] + q[0] + e[2] - 2)]
  reach_w = [d for e in pw if e for d in (e[1], e[1] + q[1] + e[2] - 2)]
  lo_h, lo_w = max(0, -min(reach_h)), max(0, -min(reach_w))
  xp = jnp.pad(x, ((0, 0), (lo_h, max(0, max(reach_h) - h + 1)), (lo_w, max(0, max(reach_w) - w + 1)), (0, 0)))
  rows = []
  for eh in ph:
    cols = []
    for ew in pw:
      if eh is None or ew is None:
        cols.append(jnp.zeros((b, q[0], q[1], c_out), x.dtype))
        continue
      (th, dh, nh), (tw, dw, nw) = eh, ew
      window = lax.slice(xp, (0, dh + lo_h, dw + lo_w, 0), (b, dh + lo_h + q[0] + nh - 1, dw + lo_w + q[1] + nw - 1, c_in))
      cols.append(lax.conv_general_dilated(window, kernel[th::strides[0], tw::strides[1]], (1, 1), "VALID",
                                           dimension_numbers=("NHWC", "HWIO", "NHWC")))
    rows.append(jnp.stack(cols, axis=3))  # [B, qh, qw, sw, C_out]
  y = jnp.stack(rows, axis=2).reshape(b, q[0] * strides[0], q[1] * strides[1], c_out)
  return y[:, :out[0], :out[1]]


def check_phase_dilated_conv(trials: int = 100) -> float:
  """Largest difference from ``lax.conv_general_dilated`` over random strides, kernels,
  sizes and pads (raises if any shape differs or a difference exceeds 1e-4)."""
  import jax.numpy as jnp
  from jax import lax

  rng = np.random.default_rng(0)
  worst = 0.0
  for _ in range(trials):
    strides = tuple(int(s) for s in rng.integers(1, 4, 2))
    kernel_size = tuple(int(k) for k in rng.integers(1, 6, 2))
    h, w = (int(n) for n in rng.integers(1, 8, 2))
    pads = tuple((int(rng.integers(-2, 5)), int(rng.integers(-2, 5))) for _ in range(2))
    if min((n - 1) * s + 1 + lo + hi - k + 1 for n, s, k, (lo, hi) in zip((h, w), strides, kernel_size, pads)) < 1:
      continue
    x = jnp.asarray(rng.normal(size=(2, h, w, 3)), jnp.float32)
    kernel = jnp.asarray(rng.normal(size=(*kernel_size, 3, 4)), jnp.float32)
    want = lax.conv_general_dilated(x, kernel, (1, 1), pads, lhs_dilation=strides,
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"))
    got = phase_dilated_conv(x, kernel, strides, pads)
    assert got.shape == want.shape, (strides, kernel_size, (h, w), pads, got.shape, want.shape)
    worst = max(worst, float(jnp.abs(got - want).max()))
  assert worst < 1e-4, worst
  return worst


def variants(layers) -> dict[str, dict]:
  """Variant name -> the ``layers`` attributes it replaces while its step is traced."""
  im2col_grads, chosen_conv = layers.im2col_conv_transpose_grads, layers.cpu_conv2d

  def native_strided(x, k, strides, padding):
    if tuple(strides) != (1, 1) and k.shape[2] >= 32:
      return layers.plain_conv2d(x, k, strides, layers.conv_padding(x.shape, k.shape, strides, padding))
    return chosen_conv(x, k, strides, padding)

  def native_transpose_grads(x, k, g, strides, padding):
    if k.shape[3] >= 32:
      return layers.plain_conv_transpose_grads(x, k, g, strides, padding)
    return im2col_grads(x, k, g, strides, padding)

  def phase_conv(x, k, strides, padding):
    return phase_dilated_conv(x, k, strides, layers.transpose_padding(x.shape, k.shape, strides, padding))

  native = {"cpu_conv2d": native_strided, "im2col_conv_transpose_grads": native_transpose_grads}
  wide = {"phase_conv_transpose": phase_conv, "PHASE_MIN_FEATURES": 128}
  return {"current": {}, "native_strided": native, "native_strided+phase_conv": {**native, "phase_conv_transpose": phase_conv},
          "phase_conv": {"phase_conv_transpose": phase_conv}, "phase_conv_128": wide,
          "native_strided+phase_conv_128": {**native, **wide}}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--config", default=os.path.join(CONFIGS, "bench_dcgan32.py"))
  parser.add_argument("--rounds", type=int, default=6)
  parser.add_argument("--steps", type=int, default=8)
  args = parser.parse_args()
  os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=1")
  from jaxgan import config as config_lib
  from jaxgan import hostmem

  config = config_lib.load(args.config, {"data.name": "synthetic_images", "train.num_devices": "1"})
  hostmem.apply(config.train.host_allocator)  # before XLA's threads start
  from step_timing import compiled_step, steps_per_second

  from jaxgan.models import layers
  from jaxgan.speed import matmul_gflops

  worst = check_phase_dilated_conv()
  steps = {name: compiled_step(config, layers, patch) for name, patch in variants(layers).items()}

  def rate(name):
    return steps_per_second(steps[name], args.steps)

  peak = matmul_gflops()
  rounds = [{name: round(rate(name), 4) for name in steps} for _ in range(args.rounds)]
  print(json.dumps({"config": os.path.basename(args.config), "steps_per_round": args.steps,
                    "matmul_gflops_before_rounds": round(peak, 1),
                    "phase_dilated_conv_max_abs_error": worst, "rounds": rounds,
                    "median_ratio_to_current": {name: round(statistics.median(r[name] / r["current"] for r in rounds), 3)
                                                for name in steps}}, indent=1))


if __name__ == "__main__":
  main()
