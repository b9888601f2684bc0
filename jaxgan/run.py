"""Run assembly, written once: config -> data spec -> method and model -> state (fresh or
restored) -> parallel step -> device feed.

Training (:mod:`jaxgan.trainer`), the benchmark (:mod:`jaxgan.speed`), sampling and
evaluation (:func:`load_run`), the notebooks and the tests all assemble runs through
these functions, so a run is built the same way wherever it is used.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable, Iterator, NamedTuple

import jax
import ml_collections
import numpy as np

from jaxgan import config as config_lib
from jaxgan import data as data_lib
from jaxgan import distributed, members, models, parallel
from jaxgan.checkpoint import Checkpointer
from jaxgan.data.feed import DeviceFeed
from jaxgan.data.source import MemberSources
from jaxgan.errors import CheckpointError, ConfigError, WorkdirError
from jaxgan.method import Method
from jaxgan.methods import METHODS
from jaxgan.spec import DataSpec
from jaxgan.workdir import Workdir, WorkdirLock


class Model(NamedTuple):
  """A config's method, data spec and static model (for GANs a :class:`jaxgan.state.GAN`)."""
  config: ml_collections.ConfigDict
  method: Method
  spec: DataSpec
  model: Any


def build_model(config: ml_collections.ConfigDict) -> Model:
  """The method named ``config.method`` and its model for ``config.data`` (no data read);
  fails on bad model, loss or data choices before anything touches a workdir."""
  method = METHODS.get(config.method)
  spec = data_lib.spec(config.data)
  return Model(config, method, spec, method.build(config, spec))


def fresh_state(model: Model) -> Any:
  """The initial state from ``config.seed``, as host arrays; with ``train.num_seeds = K``
  the K members' states (seeds ``seed .. seed + K - 1``) stacked (:mod:`jaxgan.members`)."""
  config = model.config
  init = lambda seed: jax.device_get(model.method.init_state(model.model, seed))
  if config.train.num_seeds == 1:
    return init(config.seed)
  return members.stack([init(seed) for seed in members.seeds(config.seed, config.train.num_seeds)])


def build_source(config: ml_collections.ConfigDict, shard: tuple[int, int] = (0, 1)
                 ) -> data_lib.BatchSource | MemberSources:
  """The run's batch source over global batches of ``train.batch_size`` from ``config.seed``,
  or one per member (each with its own seed) for ``train.num_seeds > 1``."""
  t = config.train
  if t.num_seeds == 1:
    return data_lib.build(config.data, t.batch_size, config.seed, shard=shard)
  return MemberSources([data_lib.build(config.data, t.batch_size, seed, shard=shard)
                        for seed in members.seeds(config.seed, t.num_seeds)])


def check_members_fit(model: Model, devices: list[jax.Device]) -> None:
  """Refuses ``train.num_seeds`` members whose states cannot fit in memory (from the state's
  shapes, before anything is compiled or written)."""
  k = model.config.train.num_seeds
  if k > 1:
    shapes = jax.eval_shape(lambda: model.method.init_state(model.model, model.config.seed))
    members.check_fits(members.state_bytes(shapes), k, devices)


def select_devices(config: ml_collections.ConfigDict) -> list[jax.Device]:
  """The devices ``config.train`` asks for; the global batch must split over them."""
  return parallel.select_devices(config.train.num_devices, config.train.batch_size)


def load_config(workdir: str) -> ml_collections.ConfigDict:
  """The config a run in ``workdir`` was trained with (earlier versions' keys migrated)."""
  path = Workdir(workdir).config
  if not os.path.exists(path):
    raise WorkdirError(f"{workdir!r} holds no jaxgan run ({os.path.basename(path)} is missing). "
                       f"Train one first: python -m jaxgan.train --config configs/digits_dcgan.py "
                       f"--workdir {workdir}")
  with open(path) as f:
    return config_lib.from_json(f.read())


def prepare_workdir(workdir: str, config: ml_collections.ConfigDict) -> tuple[Workdir, WorkdirLock]:
  """Creates ``workdir``, locks it for this training, refuses one that holds an
  incompatible run, writes its config; returns the layout and the lock to release.

  In a multi-process run process 0 locks, every process checks, then process 0 alone writes."""
  layout = Workdir(workdir)
  if os.path.exists(workdir) and not os.path.isdir(workdir):
    raise WorkdirError(f"--workdir {workdir!r} is a file, not a directory. Choose a directory "
                       "(it is created if missing).")
  try:
    os.makedirs(workdir, exist_ok=True)
    probe = os.path.join(workdir, f".write_test_{jax.process_index()}")
    with open(probe, "w") as f:
      f.write("ok")
    os.remove(probe)
  except OSError as e:
    raise WorkdirError(f"Cannot write to workdir {workdir!r} ({e.strerror or e}). "
                       "Choose a writable --workdir.") from None
  lock, busy = WorkdirLock(workdir), None
  if distributed.is_primary():
    try:
      lock.acquire()
    except WorkdirError as e:
      busy = e
  if distributed.any_process(busy is not None):  # every process stops, not only process 0
    raise busy or WorkdirError(f"Workdir {workdir!r} is in use by another training (seen by process 0).")
  try:
    _check_and_write_config(layout, config)
  except BaseException:
    lock.release()
    raise
  return layout, lock


def _check_and_write_config(layout: Workdir, config: ml_collections.ConfigDict) -> None:
  workdir = layout.root
  if os.path.exists(layout.config):
    try:
      with open(layout.config) as f:
        old = config_lib.from_json(f.read())
    except (ValueError, ConfigError) as e:
      raise WorkdirError(f"{layout.config} cannot be read ({e}); use a new --workdir.") from None
    diffs = config_lib.structural_differences(old, config)
    if diffs:
      raise WorkdirError(
          f"Workdir {workdir!r} holds a run of another configuration, whose checkpoints this "
          f"one cannot resume ({'; '.join(diffs)}). Use a new --workdir, or delete the old "
          "one to start over.")
  distributed.barrier("jaxgan-workdir-checked")
  if distributed.is_primary():
    with open(layout.config, "w") as f:
      f.write(config_lib.to_json(config))
  distributed.barrier("jaxgan-workdir-written")


def restore(checkpointer: Checkpointer, model: Model, step: int | None = None, template: Any = None,
            move_aside: bool = False) -> tuple[Any, dict, int] | None:
  """``(host state, data position, step)`` of the newest readable checkpoint (or ``step``),
  restored into the structure of ``template`` (default: a fresh state); None when there is
  none. ``move_aside``: unreadable newer checkpoints are renamed ``<step>.corrupt``."""
  return checkpointer.restore(fresh_state(model) if template is None else template, step, move_aside)


class ParallelStep(NamedTuple):
  """A model's step over ``devices``: ``call(state, input)`` runs ``steps_per_call`` train
  steps (one dispatch); ``single`` runs one (None when ``steps_per_call`` is 1)."""
  per_device: Callable
  call: Callable
  single: Callable | None
  steps_per_call: int


def parallel_step(model: Model, devices: list[jax.Device], single: bool = False) -> ParallelStep:
  """The per-device step of ``model`` for the global batch split over ``devices`` (vmapped
  over the members of a many-seed run), wrapped by ``config.train.parallel`` with ``train.steps_per_dispatch`` steps per call (and, with
  ``single``, a one-step version to realign a run resumed off a multiple of that)."""
  t = model.config.train
  per_device = model.method.make_step(model.model, t.batch_size // len(devices))
  if t.num_seeds > 1:
    per_device = members.vmap_step(per_device)
  wrap = parallel.PARALLEL.get(t.parallel)
  k = t.steps_per_dispatch
  return ParallelStep(per_device, wrap(parallel.multi_step(per_device, k), devices),
                      wrap(per_device, devices) if single and k > 1 else None, k)


def device_feed(model: Model, source: data_lib.BatchSource | MemberSources, devices: list[jax.Device]) -> DeviceFeed:
  """Step inputs from ``source`` for this process's share of ``devices``, one step ahead."""
  local = [d for d in devices if d.process_index == jax.process_index()]
  return DeviceFeed(source, model.method.batches_per_step(model.model), len(local),
                    lambda batch: parallel.shard(batch, devices))


class StepSetup(NamedTuple):
  """``config``'s train step as the trainer builds it, with a constant input, ready to time."""
  devices: list
  spec: DataSpec
  source: data_lib.BatchSource | MemberSources
  batch: dict               # one constant input on the devices, ``steps_per_dispatch`` steps' worth
  state: Any                # the initial state, replicated over ``devices``
  per_device_step: Callable  # one train step on one device's shard
  step_fn: Callable          # ``(state, batch) -> (state, metrics)`` over ``devices``


def build_step(config: ml_collections.ConfigDict) -> StepSetup:
  """Builds ``config``'s step, initial state and a constant input, as the trainer would."""
  devices = select_devices(config)
  model = build_model(config)
  source = build_source(config)
  step = parallel_step(model, devices)
  batch = parallel.shard(source.step_input(model.method.batches_per_step(model.model), len(devices),
                                           step.steps_per_call), devices)
  state = parallel.replicate(fresh_state(model), devices)
  return StepSetup(devices, model.spec, source, batch, state, step.per_device, step.call)


@dataclasses.dataclass
class Run:
  """A trained run reopened from its workdir: config, method, model and a restored state.

  A many-seed run (``train.num_seeds = K > 1``) loads with every member's state stacked
  (``member`` None): :meth:`members` gives one :class:`Run` per member, and sampling
  needs one member. ``member = i`` is the run of seed ``config.seed + i`` alone.
  """
  config: ml_collections.ConfigDict
  method: Method
  model: Any
  state: Any  # host arrays
  step: int
  member: int | None = None

  @property
  def num_members(self) -> int:
    """How many members ``state`` holds (1 for a one-seed run or one member)."""
    return self.config.train.num_seeds if self.member is None else 1

  def of_member(self, index: int) -> "Run":
    """Member ``index`` (the run of seed ``config.seed + index``) alone."""
    k = self.config.train.num_seeds
    check_member(index, k)
    if self.member is not None:
      if index != self.member:
        raise ConfigError(f"this Run holds member {self.member} only; load member {index} from its workdir.")
      return self
    return dataclasses.replace(self, state=members.member(self.state, index) if k > 1 else self.state,
                               member=index)

  def with_truncation(self, psi: float) -> "Run":
    """This run sampling with the truncation trick (``w = w_avg + psi (w - w_avg)``; Karras
    et al. 2019, StyleGAN, Sec. 3.3): for generators with a ``truncation`` field (``stylegan2``).
    ``psi = 1`` is the untruncated generator."""
    generator = getattr(self.model, "generator", None)
    if generator is None or not models.networks(self.config.model)[0].styles:
      raise ConfigError(f"--truncation needs a generator with a mapping network (model.generator="
                      f"'stylegan2'); this run's is {self.config.model.generator!r}.")
    if not 0.0 <= psi <= 1.0:
      raise ConfigError(f"truncation psi must be in [0, 1] (1: none), got {psi}")
    return dataclasses.replace(self, model=dataclasses.replace(self.model, generator=generator.clone(truncation=psi)))

  def members(self) -> list["Run"]:
    """Every member as its own :class:`Run` (one for a one-seed run)."""
    if self.member is not None:
      return [self]
    return [self.of_member(i) for i in range(self.config.train.num_seeds)]

  def sampling_state(self) -> Any:
    """The state to sample from: :attr:`state`, refused while it holds several members."""
    if self.num_members > 1:
      raise ConfigError(f"this run trained {self.num_members} seeds together (train.num_seeds); "
                        "choose the member to sample: --member i (0 .. "
                        f"{self.num_members - 1}), or Run.of_member(i) in Python.")
    return self.state

  @property
  def gan(self):
    """The static model under its GAN name (``run.gan.spec``, ...)."""
    return self.model

  @property
  def spec(self) -> DataSpec:
    return self.model.spec

  def iter_samples(self, num: int, seed: int, label: int | None = None) -> Iterator[np.ndarray]:
    """``num`` samples from fixed latents of ``seed``, in chunks (:attr:`Method.sample`)."""
    return self.method.sample(self.model, self.sampling_state(), num, seed, label)

  def samples(self, num: int, seed: int, label: int | None = None) -> np.ndarray:
    """All of :meth:`iter_samples` as one array ``[num, *shape]``."""
    return np.concatenate(list(self.iter_samples(num, seed, label)))

  def sample_labels(self, num: int, label: int | None = None) -> np.ndarray | None:
    return self.method.sample_labels(self.model, num, label)

  def log_likelihood(self, estimator: str, x: np.ndarray, seed: int = 0, say=print) -> tuple[np.ndarray, dict]:
    """``(log p(x) [N] in nats, protocol facts)`` of held-out images ``x [N, *shape]`` in
    [-1, 1] by the method's ``estimator`` (:attr:`Method.estimators`, e.g. a VAE's ``iwae``)."""
    if estimator not in self.method.estimators:
      offered = ", ".join(sorted(self.method.estimators)) or "none"
      raise ConfigError(f"method {self.config.method!r} has no {estimator!r} likelihood estimate "
                        f"(it offers: {offered}).")
    return self.method.estimators[estimator](self.model, self.sampling_state(), x, seed, say)

  def sampler_source(self) -> dict:
    facts = self.method.sampler_source(self.sampling_state())
    if self.member is not None and self.config.train.num_seeds > 1:
      facts = {**facts, "member": self.member, "member_seed": self.config.seed + self.member}
    return facts


def check_member(index: int | None, num_seeds: int) -> None:
  """Refuses a member index outside ``0 .. num_seeds - 1``."""
  if index is not None and not 0 <= index < num_seeds:
    raise ConfigError(f"member {index} is out of range: this run has train.num_seeds={num_seeds}, "
                      f"members 0 .. {num_seeds - 1}.")


def load_run(workdir: str, step: int | None = None, say=print, best: bool = False,
             member: int | None = None) -> Run:
  """The run's config, model and restored state (newest readable checkpoint, or ``step``).

  ``best=True`` restores the best checkpoint kept by ``config.eval`` (``WORKDIR/best``).
  ``member``: one member of a many-seed run (every member stacked when None).
  """
  config = load_config(workdir)
  check_member(member, config.train.num_seeds)
  model = build_model(config)
  layout = Workdir(workdir)
  directory = layout.best if best else layout.checkpoints
  if best and not os.path.isdir(directory):
    raise CheckpointError(f"{workdir!r} has no best checkpoint: it is kept only by runs trained "
                          "with config.eval.every > 0 and eval.metrics set.")
  checkpointer = Checkpointer(directory, config.checkpoint.keep, say)
  try:
    restored = restore(checkpointer, model, step)
  finally:
    checkpointer.close()
  if restored is None:
    raise CheckpointError(f"{workdir!r} has no checkpoint yet; train it first "
                          "(checkpoints are written every checkpoint.every steps and at the end).")
  state, _, restored_step = restored
  run = Run(config, model.method, model.model, state, restored_step)
  return run if member is None else run.of_member(member)
