"""Reopening a trained run from its workdir (config + newest checkpoint), for sampling and evaluation."""

from __future__ import annotations

import dataclasses
import os

import jax
import ml_collections

from jaxgan import config as config_lib
from jaxgan import data as data_lib
from jaxgan.checkpoint import Checkpointer
from jaxgan.errors import CheckpointError, WorkdirError
from jaxgan.state import GAN, GANState, build_gan, create_state

CONFIG_FILE = "config.json"


@dataclasses.dataclass
class Run:
  config: ml_collections.ConfigDict
  gan: GAN
  state: GANState  # host arrays
  step: int


def load_config(workdir: str) -> ml_collections.ConfigDict:
  path = os.path.join(workdir, CONFIG_FILE)
  if not os.path.exists(path):
    raise WorkdirError(f"{workdir!r} holds no jaxgan run ({CONFIG_FILE} is missing). Train one "
                       f"first: python -m jaxgan.train --config configs/digits_dcgan.py "
                       f"--workdir {workdir}")
  with open(path) as f:
    return config_lib.from_json(f.read())


def load_run(workdir: str, step: int | None = None, say=print, best: bool = False) -> Run:
  """The run's config, static GAN and restored state (newest readable checkpoint, or ``step``).

  ``best=True`` restores the best checkpoint kept by ``config.eval`` (``WORKDIR/best``).
  """
  config = load_config(workdir)
  gan = build_gan(config, data_lib.spec(config.data))
  template = jax.device_get(create_state(gan, config.seed))
  directory = os.path.join(workdir, "best" if best else "checkpoints")
  if best and not os.path.isdir(directory):
    raise CheckpointError(f"{workdir!r} has no best checkpoint: it is kept only by runs trained "
                          "with config.eval.every > 0 and eval.metrics set.")
  checkpointer = Checkpointer(directory, config.checkpoint.keep, say)
  try:
    restored = checkpointer.restore(template, step)
  finally:
    checkpointer.close()
  if restored is None:
    raise CheckpointError(f"{workdir!r} has no checkpoint yet; train it first "
                          "(checkpoints are written every checkpoint.every steps and at the end).")
  state, _, restored_step = restored
  return Run(config, gan, state, restored_step)
