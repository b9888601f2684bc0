"""Multi-process (multi-host) training: joining the job, and who does what.

One ``python -m jaxgan.train`` process runs per host, all with the same config and
workdir (on a shared file system). They join one JAX job through
:func:`jax.distributed.initialize`, configured by

* ``distributed.coordinator = "HOST:PORT"`` with ``distributed.num_processes`` and
  ``distributed.process_id`` (or the environment variables ``JAXGAN_COORDINATOR``,
  ``JAXGAN_NUM_PROCESSES`` and ``JAXGAN_PROCESS_ID``, read when the config leaves them
  unset), or
* ``distributed.coordinator = "auto"``: JAX's own cluster detection (Cloud TPU pods,
  SLURM, Open MPI, ...).

Then the step runs over every device of every process; each process reads only its rows
of each global batch (``jaxgan.data.build(shard=...)``) and feeds them to its own devices.
Checkpoints are written by orbax with every process taking part; the progress bar,
``metrics.jsonl``, TensorBoard, pictures and messages come from process 0 only. On CPU the
collectives run over gloo (``localhost`` processes are how the tests exercise all this).
"""

from __future__ import annotations

import os

import jax
import ml_collections
import numpy as np
from jax.experimental import multihost_utils

from jaxgan.errors import ConfigError, JaxganError


def initialize(config: ml_collections.ConfigDict) -> None:
  """Joins the multi-process job described by ``config.distributed`` (or the environment);
  does nothing for a single-process run or when already joined."""
  d = config.distributed
  coordinator = d.coordinator or os.environ.get("JAXGAN_COORDINATOR", "")
  if not coordinator or jax.distributed.is_initialized():
    return
  try:
    if coordinator == "auto":
      jax.distributed.initialize()
      return
    num = d.num_processes or int(os.environ.get("JAXGAN_NUM_PROCESSES", "0"))
    index = d.process_id if d.process_id >= 0 else int(os.environ.get("JAXGAN_PROCESS_ID", "-1"))
    if num < 1 or not 0 <= index < num:
      raise ConfigError(
          f"distributed.coordinator={coordinator!r} needs distributed.num_processes >= 1 and "
          f"0 <= distributed.process_id < num_processes (got {num} and {index}); set them, or "
          "JAXGAN_NUM_PROCESSES and JAXGAN_PROCESS_ID, for each process.")
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num, process_id=index,
                               initialization_timeout=int(d.timeout_s))
  except ValueError as e:
    raise ConfigError(f"cannot join the multi-process job at {coordinator!r}: {e}") from None
  except RuntimeError as e:
    raise JaxganError(f"cannot join the multi-process job at {coordinator!r}: {str(e).splitlines()[0]} "
                      "(jax.distributed must be initialised before anything else uses JAX, and "
                      "every process must reach the coordinator).") from None


def is_primary() -> bool:
  """Whether this process writes logs, pictures and messages (process 0)."""
  return jax.process_index() == 0


def barrier(name: str) -> None:
  """Waits until every process reaches the same named point (no-op with one process)."""
  if jax.process_count() > 1:
    multihost_utils.sync_global_devices(name)


def any_process(flag: bool) -> bool:
  """``flag`` OR-ed over all processes (so all of them take the same branch)."""
  if jax.process_count() == 1:
    return flag
  return bool(np.any(multihost_utils.process_allgather(np.asarray(flag))))
