"""jaxgan: a functional GAN library and trainer in JAX/Flax.

The public pieces are small and composable, in layers (each imports only those below):

* base -- :mod:`jaxgan.spec` (shared types), :mod:`jaxgan.parallel` (devices, pmap /
  shard_map), :mod:`jaxgan.workdir` (the workdir layout), :mod:`jaxgan.method` (the seam
  for model families), :mod:`jaxgan.registry`, :mod:`jaxgan.errors`.
* parts -- :mod:`jaxgan.losses`, :mod:`jaxgan.regularizers`, :mod:`jaxgan.augment`;
  :mod:`jaxgan.models` (generators and discriminators picked by name, each with its own
  options); :mod:`jaxgan.data` (deterministic, checkpointable batch sources, each data set
  with its facts); :mod:`jaxgan.metrics` (extractors, statistics); checkpoints, reporting.
* library -- :mod:`jaxgan.config` (the schema), the GAN family (:mod:`jaxgan.state`,
  :mod:`jaxgan.step`, :mod:`jaxgan.gan`, registered in :mod:`jaxgan.methods`), run
  assembly (:mod:`jaxgan.run`), the loop (:mod:`jaxgan.trainer`), metrics
  (:mod:`jaxgan.metrics.evaluators`), sampling (:mod:`jaxgan.sampling`) and speed
  (:mod:`jaxgan.speed`).
* the Python API -- ``jaxgan.train(config, workdir) -> Run``, ``jaxgan.load(workdir)``,
  ``jaxgan.load_recipe(name_or_path)``; ``Run.sample(num, seed)``, ``Run.evaluate(metrics)``
  (:mod:`jaxgan.api`).
* commands -- :mod:`jaxgan.train`, :mod:`jaxgan.sample`, :mod:`jaxgan.evaluate`,
  :mod:`jaxgan.benchmark`, :mod:`jaxgan.classifier`, ``jaxgan.data``, :mod:`jaxgan.weights`,
  :mod:`jaxgan.export` and :mod:`jaxgan.report`: flags plus one library call each (:mod:`jaxgan.cli`).
"""

import importlib

from jaxgan import xlaflags

__version__ = "0.1.0"

xlaflags.apply()  # XLA:CPU's Eigen convolutions, before JAX's backend starts (see jaxgan.xlaflags)

# The Python API (jaxgan.api), resolved on first use (PEP 562): `python -m jaxgan.<command>`
# then imports only what that command needs, and never the command module twice.
_API = {"load": "jaxgan.api", "load_recipe": "jaxgan.api", "Run": "jaxgan.api", "recipe_names": "jaxgan.api",
        "train": "jaxgan.train"}  # jaxgan.train: the command module, callable as api.train
__all__ = sorted(_API)


def __getattr__(name: str):
  if name not in _API:
    raise AttributeError(f"module 'jaxgan' has no attribute {name!r}")
  module = importlib.import_module(_API[name])
  return module if name == "train" else getattr(module, name)
