"""The training loop, for every method: ``train_and_evaluate(config, workdir)``.

Reads top to bottom: config -> workdir -> data -> state (fresh or resumed) -> the parallel
step in a loop -> logs, pictures and checkpoints (:mod:`jaxgan.run` assembles the pieces).
Rerunning with the same workdir resumes from the newest complete checkpoint; Ctrl-C or
SIGTERM saves one and exits.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import signal
import threading
import time
from typing import Any

import jax
import ml_collections
import numpy as np

from jaxgan import config as config_lib
from jaxgan import data as data_lib
from jaxgan import distributed, hostmem, members, parallel, reporting, reports
from jaxgan import run as run_lib
from jaxgan.checkpoint import Checkpointer
from jaxgan.errors import CheckpointError, ConfigError, NonFiniteError
from jaxgan.metrics.periodic import PeriodicEvaluator
from jaxgan.reporting import say
from jaxgan.workdir import Workdir


@dataclasses.dataclass
class TrainResult:
  """What a finished (or stopped) run leaves: the final host state and where things are."""
  state: Any
  step: int
  workdir: str
  metrics: dict[str, float]
  stopped_by: str | None = None
  stop_signal: int | None = None  # the signal that stopped the run (SIGTERM to another process included)

  @property
  def exit_code(self) -> int:
    """0 for a finished run; 128 + signal for one stopped by a signal (130 for Ctrl-C, 143
    for SIGTERM), as shells report it, so a script can tell a stopped run from a finished one."""
    return 0 if self.stop_signal is None else 128 + self.stop_signal


class StopRequest:
  """Turns the first Ctrl-C / SIGTERM into a request to checkpoint and stop; a second Ctrl-C aborts."""

  def __init__(self):
    self.signal_name: str | None = None
    self.signum: int | None = None
    self._previous = {}
    if threading.current_thread() is threading.main_thread():
      for sig in (signal.SIGINT, signal.SIGTERM):
        self._previous[sig] = signal.signal(sig, self._handle)

  def _handle(self, signum, frame):
    if self.signal_name is not None and signum == signal.SIGINT:
      raise KeyboardInterrupt
    self.signal_name = signal.Signals(signum).name
    self.signum = signum
    say(f"{self.signal_name} received: saving a checkpoint and stopping "
        "(press Ctrl-C again to abort without saving).")

  def restore(self):
    for sig, handler in self._previous.items():
      signal.signal(sig, handler)


def _non_finite(tree: Any, num_seeds: int = 1) -> list[str]:
  """Paths of the leaves holding NaN or infinity (with the members where, for a stacked tree)."""
  bad = []
  for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
    arr = np.asarray(leaf)
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
      where = ""
      if num_seeds > 1:
        hit = np.flatnonzero(~np.isfinite(arr.reshape(num_seeds, -1)).all(axis=1))
        where = f" (member{'s' if len(hit) > 1 else ''} {', '.join(map(str, hit))})"
      bad.append(jax.tree_util.keystr(path) + where)
  return bad


def record_invocation(layout, config: ml_collections.ConfigDict, devices: list, start: int, end: int,
                      began: float, elapsed: float, stopped_by: str | None) -> None:
  """Appends this training command to ``WORKDIR/runs.jsonl``: its steps, hardware and wall
  time (compilation included), for the run report."""
  device = devices[0]
  record = {"start_step": start, "end_step": end, "began": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(began)),
            "wall_s": round(elapsed, 2), "devices": len(devices), "platform": device.platform,
            "device_kind": device.device_kind, "processes": jax.process_count(), "host": platform.node(),
            "cpu": platform.processor() or platform.machine(), "jax": jax.__version__,
            "parallel": config.train.parallel, "stopped_by": stopped_by}
  with open(layout.train_runs, "a") as f:
    f.write(json.dumps(record) + "\n")


def picture_count(spec, config: ml_collections.ConfigDict) -> int:
  """Samples per progress picture: a scatter's worth of points, or ``log.num_samples`` images."""
  return reporting.SCATTER_POINTS if spec.kind == "points" else config.log.num_samples


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str) -> TrainResult:
  """Trains ``config`` in ``workdir`` (resuming if it holds checkpoints); returns the final state."""
  config_lib.check_keys(config)
  config_lib.validate(config)
  distributed.initialize(config)
  devices = run_lib.select_devices(config)
  if jax.process_count() > 1 and config.eval.every:
    raise ConfigError("eval.every > 0 evaluates during single-process training only; in a "
                      "multi-process run set eval.every=0 and evaluate its checkpoints with "
                      "python -m jaxgan.evaluate --workdir ...")
  model = run_lib.build_model(config)  # fails on bad model/loss names before touching the workdir
  t = config.train
  model.method.make_step(model.model, t.batch_size // len(devices))  # ... and on batch splits it cannot take
  if t.num_seeds > 1 and jax.process_count() > 1:
    raise ConfigError(f"train.num_seeds={t.num_seeds} trains its members in one process; a "
                      "multi-process run trains one seed. Train the seeds separately (config.seed).")
  run_lib.check_members_fit(model, devices)  # ... and on a member count that cannot fit in memory
  # Loads the metrics' feature extractors: missing weights fail here, not at the first eval.
  evaluator = PeriodicEvaluator(config, workdir, model, say) if config.eval.every else None
  layout, lock = run_lib.prepare_workdir(workdir, config)  # the workdir is this training's now
  try:
    return _train_in(layout, config, model, devices, evaluator)
  finally:
    lock.release()


def _train_in(layout: Workdir, config: ml_collections.ConfigDict, model: run_lib.Model, devices: list,
              evaluator: PeriodicEvaluator | None) -> TrainResult:
  """The part of :func:`train_and_evaluate` that runs while the workdir is locked."""
  workdir, spec, t = layout.root, model.spec, config.train
  processes, process = jax.process_count(), jax.process_index()
  source = run_lib.build_source(config, shard=(process, processes))

  checkpointer = Checkpointer(layout.checkpoints, config.checkpoint.keep, say)
  host_state, start = run_lib.fresh_state(model), 0
  restored = run_lib.restore(checkpointer, model, template=host_state, move_aside=True)
  if restored is not None:
    host_state, start = restored[0], restored[2]
    try:
      source.set_state(restored[1])
    except ValueError as e:
      raise CheckpointError(f"Cannot resume {workdir!r}: {e}") from None
    say(f"Resuming {workdir} from step {start} (checkpoints: {checkpointer.directory}).")
  if start >= t.steps:
    say(f"{workdir} is already trained to step {start} >= train.steps={t.steps}; nothing to do.")
    checkpointer.close()
    return TrainResult(host_state, start, workdir, {})

  seeds = (f"; {t.num_seeds} seeds ({config.seed}..{config.seed + t.num_seeds - 1}) in one vmapped step"
           if t.num_seeds > 1 else "")
  say(f"Training {model.method.describe(config, spec)}, {t.steps} steps of "
      f"batch {t.batch_size}{seeds} on {len(devices)} {devices[0].platform} device(s) ({t.parallel}); "
      f"workdir {workdir}" + ("" if hostmem.in_effect() == "system" else f"; host allocator {hostmem.in_effect()}"))
  # One compiled step per phase (one for most runs; progressive growing has one per
  # resolution and fade). Single steps realign a run resumed off a multiple of k (k changed
  # in between) and keep a k-step call from crossing into the next phase.
  k = t.steps_per_dispatch
  phase = model.method.phase(model.model, start)

  def phase_steps(phase) -> run_lib.ParallelStep:
    if phase.name:
      say(f"Step {step}: {phase.name}; compiling its train step.")
    return run_lib.parallel_step(model._replace(model=phase.model), devices,
                                 single=start % k != 0 or phase.end is not None)

  def chunk_at(s: int) -> int:
    """Steps in the call that starts at step ``s``: ``k`` when it is aligned and stays in its phase."""
    end = model.method.phase(model.model, s).end
    return k if s % k == 0 and (end is None or s + k <= end) else 1

  step = start
  step_fns = phase_steps(phase)
  # XLA:CPU runs each device's part of a step on a shared thread pool; with several steps
  # queued by asynchronous dispatch, parts of different steps can occupy every thread while
  # each waits in an all-reduce for a partner that never gets one (seen as an aborted
  # rendezvous with 2 devices on 2 cores). One step in flight at a time avoids it.
  one_step_in_flight = devices[0].platform == "cpu" and len(devices) > 1
  state = parallel.replicate(host_state, devices)
  feed = run_lib.device_feed(model, source, devices)
  primary = distributed.is_primary()  # logs, pictures and messages come from process 0
  reporter = reporting.Reporter(layout.train_metrics, layout.tensorboard, start, t.steps,
                                config.log.progress, config.log.tensorboard, write=primary)
  real_points = data_lib.reference_points(config.data, reporting.SCATTER_POINTS, config.seed)
  stop = StopRequest()
  metrics: dict[str, float] = {}
  began, stopping = time.perf_counter(), False
  wall_s = time.time()
  last_picture = None

  def stop_requested(step: int) -> bool:
    """Ctrl-C / SIGTERM seen; in a multi-process run, by any process (agreed at log steps)."""
    if processes == 1:
      return stop.signal_name is not None
    return step % config.log.every == 0 and distributed.any_process(stop.signal_name is not None)

  def stop_if_non_finite(tree: Any, what: str) -> None:
    bad = _non_finite(tree, t.num_seeds)
    if bad:
      newest = checkpointer.latest_step()
      kept = (f"The newest checkpoint (step {newest}) is intact and was not overwritten. Lower "
              "train.g_lr / train.d_lr or change the loss, then rerun to resume from it." if newest is not None
              else "No checkpoint was written before it. Lower train.g_lr / train.d_lr or change the "
              "loss, then rerun to start again.")
      raise NonFiniteError(f"Non-finite {what} ({', '.join(bad[:3])}) at step {step}; training stopped. " + kept)

  stalled_warned = False

  def warn_if_stalled(metrics: dict[str, float]) -> None:
    """A divergence that stays finite: a gradient norm that is exactly zero means that
    network gets no signal any more (e.g. a saturated D); say so once."""
    nonlocal stalled_warned
    zero = [k for k in sorted(metrics) if k.endswith("grad_norm") and metrics[k] == 0.0]
    if zero and not stalled_warned:
      stalled_warned = True
      say(f"warning: {', '.join(zero)} = 0 at step {step}: that network gets no gradient any more; "
          "the run has probably diverged (e.g. a saturated discriminator). Lower the learning "
          "rates or change the loss; training continues.")

  try:
    while step < t.steps:
      if phase.end is not None and step >= phase.end:
        phase = model.method.phase(model.model, step)
        step_fns = phase_steps(phase)
      chunk = chunk_at(step)
      state, step_metrics = (step_fns.call if chunk == k else step_fns.single)(state, feed.take(chunk))
      if step + chunk < t.steps:
        feed.prefetch(chunk_at(step + chunk))  # while the step runs
      if one_step_in_flight:
        jax.block_until_ready(step_metrics)
      step += chunk
      reporter.advance(chunk)
      stopping = stop_requested(step)
      last = step == t.steps or stopping
      if step % config.log.every == 0 or last:
        per_member = {k: np.asarray(v, np.float64) for k, v in parallel.unreplicate(step_metrics).items()}
        stop_if_non_finite(per_member, "losses or metrics")
        metrics = {k: float(np.mean(v)) for k, v in per_member.items()}  # the members' mean
        reporter.log(step, metrics)
        warn_if_stalled(metrics)
      host = None  # device 0's state on the host, fetched at most once per step
      if step % config.checkpoint.every == 0 or last:
        host = parallel.unreplicate(state)
        stop_if_non_finite(host, "parameters or optimizer state (checked before saving)")
        checkpointer.save(step, host, feed.state())
      if evaluator is not None and evaluator.due(step, last):
        host = host if host is not None else parallel.unreplicate(state)
        evaluator.run(step, host, feed.state())
      if primary and config.log.sample_every and (step % config.log.sample_every == 0 or last):
        host = host if host is not None else parallel.unreplicate(state)
        shown = host if t.num_seeds == 1 else members.member(host, 0)
        samples = np.concatenate(list(model.method.sample(model.model, shown, picture_count(spec, config),
                                                          config.seed, None)))
        of = "" if t.num_seeds == 1 else f" (member 0 of {t.num_seeds})"
        last_picture = reporting.save_samples_picture(layout.sample_picture(step), samples, real_points,
                                                      f"{spec.name}, step {step}{of}")
      if stopping:
        break
  finally:
    stop.restore()
    reporter.close()
    checkpointer.close()

  elapsed = time.perf_counter() - began
  done = step - start
  stopped_by = stop.signal_name or ("a signal to another process" if stopping else None)
  if primary:
    record_invocation(layout, config, devices, start, step, wall_s, elapsed, stopped_by)
    if config.log.report:
      try:
        reports.write_report(layout.root)
      except OSError as e:  # the run itself is saved; only its report could not be written
        say(f"warning: could not write {layout.report} ({e}); python -m jaxgan.report --workdir "
            f"{layout.root} writes it later.")
  where = [f"checkpoints {checkpointer.directory} (newest: step {step})",
           f"metrics {layout.train_metrics}"]
  if config.log.tensorboard:
    where.append(f"TensorBoard {layout.tensorboard}")
  if last_picture:
    where.append(f"samples {last_picture}")
  if config.log.report and primary:
    where.append(f"report {layout.report}")
  if stopped_by:
    say(f"Stopped by {stopped_by} at step {step}; rerun the same command to resume.")
  say(f"Done: {done} steps in {elapsed:.1f}s ({done / max(elapsed, 1e-9):.1f} steps/s, "
      f"compilation included). Wrote: " + "; ".join(where) + ".")
  stop_signal = stop.signum if stop.signum is not None else (int(signal.SIGTERM) if stopping else None)
  return TrainResult(parallel.unreplicate(state), step, workdir, metrics, stopped_by, stop_signal)
