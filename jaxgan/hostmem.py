"""Host memory allocator settings for XLA:CPU runs (``config.train.host_allocator``).

XLA:CPU allocates the temporary buffers of a compiled step with ``malloc`` on every
execution and frees them when it ends. Under glibc's defaults, XLA's worker threads get
their own malloc arenas whose 64 MB heaps are unmapped again as they empty, so a step
with large activations touches hundreds of megabytes of fresh pages each time. Measured
for the DCGAN-32 batch-64 benchmark step (2-core CPU, 44 steps per benchmark run):

=============  ============  =================  ==========  =========
setting        steps/s       minor page faults  kernel (s)  peak RSS
=============  ============  =================  ==========  =========
``system``     1.115, 1.142  3.3 million        8.6         1.6 GB
``reuse``      1.226, 1.230  0.48 million       3.0         2.0 GB
=============  ============  =================  ==========  =========

``reuse`` sets, through ``mallopt``: one arena (``M_ARENA_MAX=1``), no ``mmap`` for large
blocks (``M_MMAP_MAX=0``) and no trimming of the heap's free top (``M_TRIM_THRESHOLD`` at
its maximum), so freed step buffers are reused; the price is a higher peak resident size
(freed memory is kept, not returned). It does not pay for small steps: the 16x16 digits
job ran 3-7% slower with it (its steps take few page faults; one arena adds lock
traffic), so the default is ``system`` and the recipes with large activations choose
``reuse``. Preloading tcmalloc (``LD_PRELOAD=libtcmalloc_minimal.so.4``) measured
1.27 steps/s on DCGAN-32 and the same speed as ``system`` on digits; with an allocator
preloaded jaxgan leaves it alone.

The settings must be made before the first JAX computation starts XLA's threads
(measured: applied after backend initialisation they change nothing), so
``python -m jaxgan.train`` and ``python -m jaxgan.benchmark`` apply them right after
reading the config; a program using jaxgan as a library can call :func:`apply` first.
Allocator settings change no result: runs are identical under either.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
from typing import Callable

from jaxgan.registry import Registry

# glibc's mallopt parameter numbers (malloc.h).
M_TRIM_THRESHOLD, M_MMAP_MAX, M_ARENA_MAX = -1, -4, -8
REUSE_SETTINGS = ((M_ARENA_MAX, 1), (M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, 2 ** 31 - 1))
PRELOADED_ALLOCATORS = ("tcmalloc", "jemalloc", "mimalloc")

HOST_ALLOCATORS: Registry[Callable[[], str]] = Registry("train.host_allocator")


@HOST_ALLOCATORS.register("system")
def _system() -> str:
  return "system"


@HOST_ALLOCATORS.register("reuse")
def _reuse() -> str:
  if any(name in os.environ.get("LD_PRELOAD", "") for name in PRELOADED_ALLOCATORS):
    return "preloaded"
  if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
    return "unsupported"
  try:
    libc = ctypes.CDLL("libc.so.6")
  except OSError:
    return "unsupported"
  if not all(libc.mallopt(param, value) == 1 for param, value in REUSE_SETTINGS):
    return "unsupported"
  return "glibc-reuse"


_in_effect = "system"


def in_effect() -> str:
  """What the last :func:`apply` in this process reported (``'system'`` if none ran)."""
  return _in_effect


def apply(name: str) -> str:
  """Applies the allocator setting ``name`` (a :data:`HOST_ALLOCATORS` name) to this process.

  Returns:
    What is in effect, for logs and benchmark records: ``'system'``, ``'glibc-reuse'``,
    ``'preloaded'`` (another allocator is preloaded; left alone) or ``'unsupported'`` (not
    Linux with glibc; left alone).

  Raises:
    ConfigError: for an unknown name, listing the valid ones.
  """
  global _in_effect
  _in_effect = HOST_ALLOCATORS.get(name)()
  return _in_effect
