"""Training: ``python -m jaxgan.train --config configs/NAME.py --workdir runs/NAME [--config.a.b=v]``.

Reads top to bottom: config -> workdir -> data -> state (fresh or resumed) -> the pmap'd
step in a loop -> logs, pictures and checkpoints. Rerunning the same command resumes from
the newest complete checkpoint; Ctrl-C or SIGTERM saves one and exits.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import threading
import time
from typing import Any

import jax
import ml_collections
import numpy as np

from jaxgan import config as config_lib
from jaxgan import distributed
from jaxgan import hostmem
from jaxgan import data as data_lib
from jaxgan import reporting
from jaxgan.checkpoint import Checkpointer
from jaxgan.data.feed import DeviceFeed
from jaxgan.periodic_eval import PeriodicEvaluator
from jaxgan.errors import CheckpointError, ConfigError, JaxganError, NonFiniteError, WorkdirError
from jaxgan.reporting import say
from jaxgan.state import GANState, build_gan, create_state, generate_samples
from jaxgan.run import CONFIG_FILE
from jaxgan.parallel import PARALLEL, multi_step, replicate, shard, unreplicate
from jaxgan.step import make_train_step


@dataclasses.dataclass
class TrainResult:
  """What a finished (or stopped) run leaves: the final host state and where things are."""
  state: GANState
  step: int
  workdir: str
  metrics: dict[str, float]
  stopped_by: str | None = None


def prepare_workdir(workdir: str, config: ml_collections.ConfigDict) -> None:
  """Creates ``workdir``, refuses one that holds an incompatible run, writes ``config.json``.

  In a multi-process run every process checks, then process 0 alone writes."""
  try:
    os.makedirs(workdir, exist_ok=True)
    probe = os.path.join(workdir, f".write_test_{jax.process_index()}")
    with open(probe, "w") as f:
      f.write("ok")
    os.remove(probe)
  except OSError as e:
    raise WorkdirError(f"Cannot write to workdir {workdir!r} ({e.strerror or e}). "
                       "Choose a writable --workdir.") from None
  path = os.path.join(workdir, CONFIG_FILE)
  if os.path.exists(path):
    try:
      with open(path) as f:
        old = config_lib.from_json(f.read())
    except (ValueError, ConfigError) as e:
      raise WorkdirError(f"{path} cannot be read ({e}); use a new --workdir.") from None
    diffs = config_lib.structural_differences(old, config)
    if diffs:
      raise WorkdirError(
          f"Workdir {workdir!r} holds a run of another configuration, whose checkpoints this "
          f"one cannot resume ({'; '.join(diffs)}). Use a new --workdir, or delete the old "
          "one to start over.")
  distributed.barrier("jaxgan-workdir-checked")
  if distributed.is_primary():
    with open(path, "w") as f:
      f.write(config_lib.to_json(config))
  distributed.barrier("jaxgan-workdir-written")


def select_devices(config: ml_collections.ConfigDict) -> list[jax.Device]:
  """The devices to train on (every process's in a multi-process run); checks that the
  global batch splits evenly over them."""
  processes = jax.process_count()
  if processes > 1:
    if config.train.num_devices:
      raise ConfigError(f"train.num_devices={config.train.num_devices} selects devices of a "
                        "single process; a multi-process run trains on every device of every "
                        "process. Leave it at 0.")
    devices = jax.devices()
  else:
    devices = jax.local_devices()
    wanted = config.train.num_devices or len(devices)
    if wanted > len(devices):
      raise ConfigError(f"train.num_devices={wanted} but only {len(devices)} devices are "
                        f"available ({devices[0].platform}).")
    devices = devices[:wanted]
  batch = config.train.batch_size
  if batch % len(devices):
    lower = (batch // len(devices)) * len(devices)
    upper = lower + len(devices)
    suggestion = f"{lower} or {upper}" if lower else f"{upper}"
    where = (f"{len(devices)} devices ({processes} processes x {len(devices) // processes} local "
             f"devices)" if processes > 1 else f"{len(devices)} devices")
    fix = ("" if processes > 1 else f", or set train.num_devices to a divisor of {batch}")
    raise ConfigError(
        f"train.batch_size={batch} (the global batch) does not divide evenly over {where}. "
        f"Use a multiple of {len(devices)} (e.g. {suggestion}){fix}.")
  return devices


class StopRequest:
  """Turns the first Ctrl-C / SIGTERM into a request to checkpoint and stop; a second Ctrl-C aborts."""

  def __init__(self):
    self.signal_name: str | None = None
    self._previous = {}
    if threading.current_thread() is threading.main_thread():
      for sig in (signal.SIGINT, signal.SIGTERM):
        self._previous[sig] = signal.signal(sig, self._handle)

  def _handle(self, signum, frame):
    if self.signal_name is not None and signum == signal.SIGINT:
      raise KeyboardInterrupt
    self.signal_name = signal.Signals(signum).name
    say(f"{self.signal_name} received: saving a checkpoint and stopping "
        "(press Ctrl-C again to abort without saving).")

  def restore(self):
    for sig, handler in self._previous.items():
      signal.signal(sig, handler)


def _non_finite(tree: Any) -> list[str]:
  bad = []
  for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
    arr = np.asarray(leaf)
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
      bad.append(jax.tree_util.keystr(path))
  return bad


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str) -> TrainResult:
  """Trains ``config`` in ``workdir`` (resuming if it holds checkpoints); returns the final state."""
  config_lib.check_keys(config)
  config_lib.validate(config)
  distributed.initialize(config)
  devices = select_devices(config)
  processes, process = jax.process_count(), jax.process_index()
  if processes > 1 and config.eval.every:
    raise ConfigError("eval.every > 0 evaluates during single-process training only; in a "
                      "multi-process run set eval.every=0 and evaluate its checkpoints with "
                      "python -m jaxgan.evaluate --workdir ...")
  local_devices = [d for d in devices if d.process_index == process]
  spec = data_lib.spec(config.data)
  gan = build_gan(config, spec)  # fails on bad model/loss names before touching the workdir
  t = config.train
  per_device = t.batch_size // len(devices)
  train_step = make_train_step(gan, per_device)  # ... and on batch splits it cannot take
  # Loads the metrics' feature extractors: missing weights fail here, not at the first eval.
  evaluator = PeriodicEvaluator(config, workdir, gan, say) if config.eval.every else None
  prepare_workdir(workdir, config)
  source = data_lib.build(config.data, t.batch_size, config.seed, shard=(process, processes))

  checkpointer = Checkpointer(os.path.join(workdir, "checkpoints"), config.checkpoint.keep, say)
  host_state = jax.device_get(create_state(gan, config.seed))
  restored = checkpointer.restore(host_state)
  start = 0
  if restored is not None:
    host_state, data_state, start = restored
    try:
      source.set_state(data_state)
    except ValueError as e:
      raise CheckpointError(f"Cannot resume {workdir!r}: {e}") from None
    say(f"Resuming {workdir} from step {start} (checkpoints: {checkpointer.directory}).")
  if start >= t.steps:
    say(f"{workdir} is already trained to step {start} >= train.steps={t.steps}; nothing to do.")
    checkpointer.close()
    return TrainResult(host_state, start, workdir, {})

  say(f"Training {config.model.generator}/{config.model.discriminator} GAN on {spec.name} "
      f"{spec.shape}, loss {config.loss.name}, {t.steps} steps of batch {t.batch_size} on "
      f"{len(devices)} {devices[0].platform} device(s) ({t.parallel}); workdir {workdir}"
      + ("" if hostmem.in_effect() == "system" else f"; host allocator {hostmem.in_effect()}"))
  k = t.steps_per_dispatch
  step_fn = PARALLEL.get(t.parallel)(multi_step(train_step, k), devices)
  # Single steps only to realign a run resumed off a multiple of k (k changed in between).
  single_step_fn = PARALLEL.get(t.parallel)(train_step, devices) if start % k else None
  # XLA:CPU runs each device's part of a step on a shared thread pool; with several steps
  # queued by asynchronous dispatch, parts of different steps can occupy every thread while
  # each waits in an all-reduce for a partner that never gets one (seen as an aborted
  # rendezvous with 2 devices on 2 cores). One step in flight at a time avoids it.
  one_step_in_flight = devices[0].platform == "cpu" and len(devices) > 1
  state = replicate(host_state, devices)
  feed = DeviceFeed(source, t.n_critic, len(local_devices), lambda batch: shard(batch, devices))
  samples_dir = os.path.join(workdir, "samples")
  primary = distributed.is_primary()  # logs, pictures and messages come from process 0
  reporter = reporting.Reporter(workdir, start, t.steps, config.log.progress, config.log.tensorboard,
                                write=primary)
  stop = StopRequest()
  metrics: dict[str, float] = {}
  began, step, stopping = time.perf_counter(), start, False
  last_picture = None

  def stop_requested(step: int) -> bool:
    """Ctrl-C / SIGTERM seen; in a multi-process run, by any process (agreed at log steps)."""
    if processes == 1:
      return stop.signal_name is not None
    return step % config.log.every == 0 and distributed.any_process(stop.signal_name is not None)

  def stop_if_non_finite(tree: Any, what: str) -> None:
    bad = _non_finite(tree)
    if bad:
      raise NonFiniteError(
          f"Non-finite {what} ({', '.join(bad[:3])}) at step {step}; training stopped. "
          f"The newest checkpoint (step {checkpointer.latest_step()}) is intact and was not "
          "overwritten. Lower train.g_lr / train.d_lr or change the loss, then rerun to "
          "resume from it.")

  try:
    while step < t.steps:
      chunk = k if step % k == 0 else 1
      state, step_metrics = (step_fn if chunk == k else single_step_fn)(state, feed.take(chunk))
      if step + chunk < t.steps:
        feed.prefetch(k if (step + chunk) % k == 0 else 1)  # while the step runs
      if one_step_in_flight:
        jax.block_until_ready(step_metrics)
      step += chunk
      reporter.advance(chunk)
      stopping = stop_requested(step)
      last = step == t.steps or stopping
      if step % config.log.every == 0 or last:
        metrics = {k: float(v) for k, v in unreplicate(step_metrics).items()}
        stop_if_non_finite(metrics, "losses or metrics")
        reporter.log(step, metrics)
      host = None  # device 0's state on the host, fetched at most once per step
      if step % config.checkpoint.every == 0 or last:
        host = unreplicate(state)
        stop_if_non_finite(host, "parameters or optimizer state (checked before saving)")
        checkpointer.save(step, host, feed.state())
      if evaluator is not None and evaluator.due(step, last):
        host = host if host is not None else unreplicate(state)
        evaluator.run(step, host, feed.state())
      if primary and config.log.sample_every and (step % config.log.sample_every == 0 or last):
        host = host if host is not None else unreplicate(state)
        samples = generate_samples(gan, host, _picture_count(spec, config), config.seed)
        last_picture = reporting.save_samples_picture(
            os.path.join(samples_dir, f"step_{step:07d}.png"), samples, spec, config.seed,
            f"{spec.name}, step {step}")
      if stopping:
        break
  finally:
    stop.restore()
    reporter.close()
    checkpointer.close()

  elapsed = time.perf_counter() - began
  done = step - start
  where = [f"checkpoints {checkpointer.directory} (newest: step {step})",
           f"metrics {reporter.metrics_path}"]
  if config.log.tensorboard:
    where.append(f"TensorBoard {os.path.join(workdir, 'tensorboard')}")
  if last_picture:
    where.append(f"samples {last_picture}")
  stopped_by = stop.signal_name or ("a signal to another process" if stopping else None)
  if stopped_by:
    say(f"Stopped by {stopped_by} at step {step}; rerun the same command to resume.")
  say(f"Done: {done} steps in {elapsed:.1f}s ({done / max(elapsed, 1e-9):.1f} steps/s, "
      f"compilation included). Wrote: " + "; ".join(where) + ".")
  return TrainResult(unreplicate(state), step, workdir, metrics, stopped_by)


def _picture_count(spec: data_lib.DataSpec, config: ml_collections.ConfigDict) -> int:
  return reporting.SCATTER_POINTS if spec.kind == "points" else config.log.num_samples


def main(argv: list[str] | None = None) -> int:
  argv = sys.argv[1:] if argv is None else argv
  parser = argparse.ArgumentParser(
      prog="python -m jaxgan.train",
      description="Train a GAN. Any config field can be overridden as --config.SECTION.KEY=VALUE.")
  parser.add_argument("--config", required=True, help="recipe file, e.g. configs/digits_dcgan.py")
  parser.add_argument("--workdir", default=None,
                      help="where checkpoints, logs and samples go (default: runs/<recipe name>)")
  try:
    rest, overrides = config_lib.parse_cli_overrides(argv)
    args = parser.parse_args(rest)
    config = config_lib.load(args.config, overrides)
    workdir = args.workdir or os.path.join("runs", os.path.splitext(os.path.basename(args.config))[0])
    hostmem.apply(config.train.host_allocator)  # before any JAX computation starts XLA's threads
    train_and_evaluate(config, workdir)
  except JaxganError as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  return 0


if __name__ == "__main__":
  sys.exit(main())
