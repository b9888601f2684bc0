"""XLA:CPU settings jaxgan makes when it is imported, before JAX starts its CPU backend.

jaxlib 0.10.2's XLA:CPU runs convolutions through YNNPACK by default. On the 2-core CPU
its kernels were slower than XLA's older Eigen convolutions for every layer shape of the
ResNet recipes (SNGAN ResNet-32, batch 64), most of all in the weight gradient:

=================================  ===================  =====================  ===================
64x32x32x256, 3x3 -> 256 channels  forward              input gradient         weight gradient
=================================  ===================  =====================  ===================
YNNPACK (jaxlib's default)         305 ms (253 GFLOP/s) 300 ms (257)           1,100-1,300 ms (60-70)
Eigen (this setting)               214-239 ms (361)     222-242 ms (348)       240-262 ms (322)
PyTorch 2.13 eager (oneDNN)        233-243 ms (332)     269-275 ms (282)       234-269 ms (330)
=================================  ===================  =====================  ===================

(``benchmarks/sngan_ops.py``; the 8x8 and 16x16 layers and the 128-channel D layers
likewise.) So jaxgan removes convolutions from the YNNPACK fusion types
(``--xla_cpu_experimental_ynn_fusion_type=-individual_convolution``; matmuls keep
YNNPACK). Only programs that contain XLA convolutions change, by float rounding: the
DCGAN and MLP recipes' steps, whose CPU convolutions are matmuls (:mod:`jaxgan.models.layers`),
take the same steps bit for bit (their first ten steps compared on the 2-core CPU).

The flag is added to ``XLA_FLAGS`` only if all hold: ``JAXGAN_XLA_FLAGS`` is not ``none``
(the opt-out), ``XLA_FLAGS`` does not already set that option (the user's choice wins),
and the installed jaxlib is one whose XLA was verified to know the flag
(:data:`VERIFIED_JAXLIB`): XLA aborts the process on a flag it does not know; and, unless
``JAX_PLATFORMS=cpu``, no TPU or GPU plugin is installed (:data:`ACCELERATOR_PACKAGES`:
nothing to gain there, and their XLA builds were not checked). It takes
effect only if JAX's backend has not started yet, so import jaxgan before running any JAX
computation (``python -m jaxgan.*`` commands and the tests do); :func:`in_effect` tells.
It is a CPU setting: the GPU and TPU backends do not use it.
"""

from __future__ import annotations

import importlib.metadata
import os

CPU_FLAGS = ("--xla_cpu_experimental_ynn_fusion_type=-individual_convolution",)
VERIFIED_JAXLIB = ("0.10.2",)  # jaxlib versions whose XLA parses CPU_FLAGS (checked by hand)
ACCELERATOR_PACKAGES = ("libtpu", "libtpu-nightly", "jax-cuda12-plugin", "jax-cuda13-plugin", "jax-rocm7-plugin")


def _version(package: str) -> str:
  """The installed version of ``package``, or ``''`` when it is not installed."""
  try:
    return importlib.metadata.version(package)
  except importlib.metadata.PackageNotFoundError:
    return ""


def _jaxlib_version() -> str:
  return _version("jaxlib")


def _accelerator_installed() -> bool:
  """Whether a TPU or GPU plugin is installed (their XLA builds are not the checked one)."""
  return any(_version(name) for name in ACCELERATOR_PACKAGES)


def apply(environ=os.environ) -> tuple[str, ...]:
  """Adds :data:`CPU_FLAGS` to ``environ['XLA_FLAGS']`` where the module docstring's
  conditions hold; returns the flags it added (none when it added nothing)."""
  if environ.get("JAXGAN_XLA_FLAGS", "").lower() == "none" or _jaxlib_version() not in VERIFIED_JAXLIB:
    return ()
  if environ.get("JAX_PLATFORMS", "").lower() != "cpu" and _accelerator_installed():
    return ()  # a TPU/GPU machine: nothing to gain, and its plugin's XLA was not checked
  current = environ.get("XLA_FLAGS", "")
  new = tuple(f for f in CPU_FLAGS if f.split("=")[0] not in current)
  if new:
    environ["XLA_FLAGS"] = " ".join([current, *new]).strip()
  return new


def in_effect() -> str:
  """The XLA_FLAGS this process runs with, for benchmark and evaluation records."""
  return os.environ.get("XLA_FLAGS", "")
