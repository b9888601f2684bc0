"""Metrics during training (``config.eval``) and the best checkpoint kept apart.

Every ``eval.every`` steps (and at the last step) the trainer hands its host state to
:class:`PeriodicEvaluator`, which generates ``eval.num_samples`` samples (latent seed 1,
EMA generator when kept), computes ``eval.metrics`` exactly as ``python -m
jaxgan.evaluate`` does, and appends them to ``WORKDIR/metrics/<record name>.jsonl``. When
``eval.best_metric`` improves (``best_mode`` min or max), the state is saved to
``WORKDIR/best/`` -- one checkpoint, never rotated away by the rolling ones -- and
``WORKDIR/best/best.json`` records the metric, value and step, so a resumed run compares
with the best so far. ``python -m jaxgan.sample --workdir W --best`` samples from it.
"""

from __future__ import annotations

import json
import os

import ml_collections

from jaxgan import evaluate as evaluate_lib
from jaxgan.checkpoint import Checkpointer
from jaxgan.errors import ConfigError
from jaxgan.state import GAN, GANState, iter_samples, sample_labels

BEST_DIR = "best"
EVAL_SEED = 1


class PeriodicEvaluator:
  """Runs ``config.eval`` metrics on host states and keeps the best checkpoint."""

  def __init__(self, config: ml_collections.ConfigDict, workdir: str, gan: GAN, say):
    e = config.eval
    self.every, self.num_samples, self.mode = e.every, e.num_samples, e.best_mode
    self.gan, self.say, self.data_config = gan, say, config.data
    self.names = [evaluate_lib.resolve_name(n.strip(), gan.spec) for n in e.metrics.split(",") if n.strip()]
    for name in self.names:
      evaluator = evaluate_lib.EVALUATORS.get(name)
      if not evaluator.applies(gan.spec):
        raise ConfigError(f"eval.metrics: {name!r} does not apply to data set {gan.spec.name!r}.")
    self.best_metric = evaluate_lib.resolve_name(e.best_metric, gan.spec) if e.best_metric else self.names[0]
    if self.best_metric not in self.names:
      raise ConfigError(f"eval.best_metric={self.best_metric!r} is not one of eval.metrics {self.names}.")
    evaluator = evaluate_lib.EVALUATORS.get(self.best_metric)
    self.best_value = e.best_value or evaluator.headline[0]
    if self.best_value not in evaluator.headline:
      raise ConfigError(f"eval.best_value={self.best_value!r}: {self.best_metric} reports "
                        f"{list(evaluator.headline)}.")
    self.metrics_dir = os.path.join(workdir, "metrics")
    self.best_dir = os.path.join(workdir, BEST_DIR)
    self.shared: dict = {}  # extractors and reference features, loaded once per run
    self.context(None).check_extractors(self.names)  # fail before training, not at the first eval

  def context(self, state: GANState | None) -> evaluate_lib.EvalContext:
    generator = "ema" if state is not None and state.ema_params is not None else "live"
    return evaluate_lib.EvalContext(
        self.gan.spec, self.data_config, lambda num: iter_samples(self.gan, state, num, EVAL_SEED),
        {"latent_seed": EVAL_SEED, "generator": generator},
        evaluate_lib.default_reference_split(self.data_config), {}, self.say, shared=self.shared,
        labels=lambda num: sample_labels(self.gan, num))

  def due(self, step: int, last: bool) -> bool:
    return bool(self.every) and (step % self.every == 0 or last)

  def best_so_far(self) -> dict | None:
    path = os.path.join(self.best_dir, "best.json")
    if not os.path.exists(path):
      return None
    with open(path) as f:
      return json.load(f)

  def run(self, step: int, state: GANState, data_state: dict) -> dict[str, dict]:
    """Evaluates ``state`` (host arrays) at ``step``; saves it to ``best/`` if it is the best."""
    results = evaluate_lib.compute_metrics(self.context(state), self.names, self.num_samples,
                                           step, self.metrics_dir)
    record = next(r for r in results.values() if r["metric"].startswith(self.best_metric))
    value = float(record[self.best_value])
    shown = ", ".join(f"{name} {k}={r[k]:.4g}" for name, r in results.items()
                      for k in r["headline"] if isinstance(r[k], float))
    best = self.best_so_far()
    better = best is None or (value < best["value"] if self.mode == "min" else value > best["value"])
    if better:
      checkpointer = Checkpointer(self.best_dir, keep=1, say=self.say)
      try:
        checkpointer.save(step, state, data_state)
      finally:
        checkpointer.close()
      tmp = os.path.join(self.best_dir, "best.json.tmp")
      with open(tmp, "w") as f:
        json.dump({"metric": record["metric"], "value_key": self.best_value, "value": value,
                   "mode": self.mode, "step": step}, f)
      os.replace(tmp, os.path.join(self.best_dir, "best.json"))
    self.say(f"eval @ step {step}: {shown}" + (" (new best, saved to best/)" if better else ""))
    return results
