"""jaxgan from Python: the same library the commands call.

    import jaxgan

    config = jaxgan.load_recipe("digits_dcgan")      # or a path: "configs/digits_dcgan.py"
    config.train.steps = 200
    run = jaxgan.train(config, "runs/digits")         # resumes if the workdir holds a run
    images = run.sample(16, seed=0)                   # [16, 16, 16, 1] in [-1, 1]
    records = run.evaluate(["digits_classes"], num_samples=500)
    again = jaxgan.load("runs/digits")                # newest checkpoint (or step=, best=True)

Training is :func:`jaxgan.trainer.train_and_evaluate`, loading :func:`jaxgan.run.load_run`,
evaluation :func:`jaxgan.metrics.evaluators.evaluate_loaded`: the calls behind
``python -m jaxgan.train``, ``sample`` and ``evaluate``.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import ml_collections
import numpy as np

from jaxgan import config as config_lib
from jaxgan import reporting
from jaxgan import run as run_lib
from jaxgan.errors import ConfigError
from jaxgan.metrics.evaluators import evaluate_loaded, records_dir
from jaxgan.trainer import train_and_evaluate
from jaxgan.workdir import Workdir

RECIPES_PACKAGE = "jaxgan.recipes"  # configs/, installed with the package


def recipe_names() -> list[str]:
  """The recipes installed with jaxgan (``configs/*.py``), by name."""
  spec = importlib.util.find_spec(RECIPES_PACKAGE)
  directory = list(spec.submodule_search_locations)[0]
  return sorted(f[:-3] for f in os.listdir(directory) if f.endswith(".py") and not f.startswith("_"))


def recipe_path(name_or_path: str) -> str:
  """``name_or_path`` if it is a file, else the installed recipe of that name."""
  if os.path.isfile(name_or_path):
    return name_or_path
  if os.sep in name_or_path or name_or_path.endswith(".py"):  # meant as a file
    raise ConfigError(f"Config file {name_or_path!r} does not exist. Recipes live in configs/, "
                      f"e.g. --config configs/digits_dcgan.py, or give a recipe's name: "
                      f"{', '.join(recipe_names())}.")
  name = name_or_path
  spec = importlib.util.find_spec(f"{RECIPES_PACKAGE}.{name}") if name.isidentifier() else None
  if spec is None or spec.origin is None:
    raise ConfigError(f"No recipe {name_or_path!r}: not a file, and not one of jaxgan's recipes "
                      f"({', '.join(recipe_names())}).")
  return spec.origin


def load_recipe(name_or_path: str, overrides: dict[str, str] | None = None) -> ml_collections.ConfigDict:
  """A recipe's config, by file path or by the name of one of jaxgan's recipes (e.g.
  ``'digits_dcgan'``, found in the installed package, not only in a source checkout), with
  ``overrides`` such as ``{'train.steps': '200'}`` applied and checked."""
  return config_lib.load(recipe_path(name_or_path), overrides)


class Run:
  """A trained run: its config, the step of the checkpoint loaded, and its state.

  Attributes:
    config: the run's full config (``ml_collections.ConfigDict``).
    step: the step of the loaded checkpoint.
    workdir: where the run lives.
    state: the restored state (host arrays; for GANs a :class:`jaxgan.state.GANState`).
  """

  def __init__(self, workdir: str, loaded: run_lib.Run):
    self.workdir, self._loaded = workdir, loaded
    self.config, self.step, self.state = loaded.config, loaded.step, loaded.state

  def __repr__(self) -> str:
    return f"jaxgan.Run({self.workdir!r}, step={self.step}, data={self._loaded.spec.name!r})"

  @property
  def spec(self):
    """The data spec (``shape``, ``num_classes``, ``kind``) of what the run generates."""
    return self._loaded.spec

  @property
  def metrics(self) -> dict[str, float]:
    """The last training metrics logged at or before :attr:`step` (``metrics.jsonl``)."""
    rows = [r for r in reporting.read_jsonl(Workdir(self.workdir).train_metrics) if r.get("step", 0) <= self.step]
    return rows[-1] if rows else {}

  @property
  def num_members(self) -> int:
    """Seeds trained together in this run (``train.num_seeds``), 1 once a member is chosen."""
    return self._loaded.num_members

  def member(self, index: int) -> "Run":
    """Member ``index`` of a many-seed run: the run of seed ``config.seed + index``, to sample."""
    return Run(self.workdir, self._loaded.of_member(index))

  def generate(self, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """Samples of given latents ``z [N, latent_dim]`` (and ``labels [N]`` for a
    class-conditional run), e.g. to interpolate between two latents: ``[N, *shape]``."""
    loaded = self._loaded
    return np.asarray(loaded.method.generate(loaded.model, loaded.sampling_state(), z, labels))

  def sample(self, num: int, seed: int = 0, label: int | None = None) -> np.ndarray:
    """``[num, *shape]`` float32 samples from fixed latents of ``seed`` (latent ``i`` from
    ``fold_in(PRNGKey(seed), i)``), with the EMA generator when the run keeps one: images in
    [-1, 1] or 2D points. ``label``: one class of a class-conditional run (else every
    class in turn). The same samples as ``python -m jaxgan.sample --seed``."""
    if num < 1:
      raise ConfigError(f"num must be >= 1, got {num}")
    return self._loaded.samples(num, seed, label)

  def evaluate(self, metrics: list[str] | None = None, num_samples: int | None = None, seed: int = 1,
               reference_split: str = "", extractor_paths: dict[str, str] | None = None,
               say=reporting.say) -> dict[str, dict[str, Any]]:
    """Computes ``metrics`` (default: every one that applies and whose weights are present)
    on this checkpoint's samples, appends each record to ``WORKDIR/metrics/<record>.jsonl``
    and returns ``{record name: record}`` (values, step and protocol), exactly as
    ``python -m jaxgan.evaluate`` does: for a many-seed run every member and their mean
    (``--member i`` there is ``run.member(i).evaluate(...)`` here)."""
    return evaluate_loaded(self._loaded, records_dir(self.workdir, self._loaded), metrics, num_samples, seed,
                           reference_split, extractor_paths, say)


def load(workdir: str, step: int | None = None, best: bool = False, member: int | None = None) -> Run:
  """The run in ``workdir`` at its newest readable checkpoint (or ``step``, or the best one
  kept by ``config.eval`` with ``best=True``); ``member``: one member of a many-seed run."""
  return Run(workdir, run_lib.load_run(workdir, step, say=reporting.say, best=best, member=member))


def train(config: ml_collections.ConfigDict, workdir: str) -> Run:
  """Trains ``config`` in ``workdir`` (resuming from its newest checkpoint if it holds one)
  and returns the run at the step training reached."""
  result = train_and_evaluate(config, workdir)
  model = run_lib.build_model(config)
  return Run(workdir, run_lib.Run(config, model.method, model.model, result.state, result.step))
