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

from jaxgan import data as data_lib

from jaxgan.checkpoint import Checkpointer
from jaxgan.errors import ConfigError
from jaxgan.metrics import evaluators as evaluate_lib
from jaxgan.run import Model
from jaxgan.workdir import Workdir

EVAL_SEED = 1


class PeriodicEvaluator:
  """Runs ``config.eval`` metrics on host states and keeps the best checkpoint."""

  def __init__(self, config: ml_collections.ConfigDict, workdir: str, model: Model, say):
    e = config.eval
    self.every, self.num_samples, self.mode = e.every, e.num_samples, e.best_mode
    self.model, self.say, self.data_config = model, say, config.data
    spec, dataset = model.spec, data_lib.dataset(config.data)
    self.names = [evaluate_lib.resolve_name(n.strip(), spec, dataset) for n in e.metrics.split(",") if n.strip()]
    for name in self.names:
      evaluator = evaluate_lib.EVALUATORS.get(name)
      if not evaluator.applies(spec, dataset):
        raise ConfigError(f"eval.metrics: {name!r} does not apply to data set {spec.name!r}.")
    self.best_metric = evaluate_lib.resolve_name(e.best_metric, spec, dataset) if e.best_metric else self.names[0]
    if self.best_metric not in self.names:
      raise ConfigError(f"eval.best_metric={self.best_metric!r} is not one of eval.metrics {self.names}.")
    evaluator = evaluate_lib.EVALUATORS.get(self.best_metric)
    self.best_value = e.best_value or evaluator.headline[0]
    if self.best_value not in evaluator.headline:
      raise ConfigError(f"eval.best_value={self.best_value!r}: {self.best_metric} reports "
                        f"{list(evaluator.headline)}.")
    layout = Workdir(workdir)
    self.metrics_dir, self.best_dir, self.best_record = layout.eval_metrics, layout.best, layout.best_record
    self.shared: dict = {}  # extractors and reference features, loaded once per run
    self.context(None).check_estimators(self.names)  # fail before training, not at the first eval
    self.context(None).check_extractors(self.names)

  def context(self, state) -> evaluate_lib.EvalContext:
    """Metrics of ``state``'s samples (None: only to load the extractors)."""
    method, model = self.model.method, self.model.model
    source = {"latent_seed": EVAL_SEED, **(method.sampler_source(state) if state is not None else {})}
    return evaluate_lib.EvalContext(
        self.model.spec, self.data_config, lambda num: method.sample(model, state, num, EVAL_SEED, None),
        source, evaluate_lib.default_reference_split(self.data_config), {}, self.say, shared=self.shared,
        labels=lambda num: method.sample_labels(model, num, None),
        estimate=lambda name, x, seed, say: method.estimators[name](model, state, x, seed, say),
        estimators=tuple(method.estimators), method=self.model.config.method)

  def due(self, step: int, last: bool) -> bool:
    return bool(self.every) and (step % self.every == 0 or last)

  def best_so_far(self) -> dict | None:
    if not os.path.exists(self.best_record):
      return None
    with open(self.best_record) as f:
      return json.load(f)

  def run(self, step: int, state, data_state: dict) -> dict[str, dict]:
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
      tmp = self.best_record + ".tmp"
      with open(tmp, "w") as f:
        json.dump({"metric": record["metric"], "value_key": self.best_value, "value": value,
                   "mode": self.mode, "step": step}, f)
      os.replace(tmp, self.best_record)
    self.say(f"eval @ step {step}: {shown}" + (" (new best, saved to best/)" if better else ""))
    return results
