"""Evaluation: ``python -m jaxgan.evaluate --workdir runs/X [--metrics auto|fd_lenet,kid,prd] [--num_samples N]``.

Each metric is an :class:`Evaluator` picked by name; ``auto`` picks those that apply to the
run's data set and whose feature extractor weights are present (it says which it skipped
and why). A result is appended to ``WORKDIR/metrics/<record name>.jsonl`` as one JSON line
holding the values, the checkpoint step and the protocol, and printed as a table.

Feature metrics carry their protocol in the record name:
``<metric>[_<extractor>]<samples>_<reference split>``, e.g. ``fd_lenet10k_test`` (Fréchet
distance of 10,000 samples to the MNIST test split in LeNet features) or
``kid_lenet10k_test``. Their protocol records the sample count, the reference data set,
split and size, the extractor and its weights hash, the resolution, the latent seed and
whether the EMA generator was used.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from typing import Callable, Iterator

import ml_collections
import numpy as np

from jaxgan import config as config_lib
from jaxgan import reporting
from jaxgan.data import DataSpec, real, toy
from jaxgan.errors import JaxganError
from jaxgan.metrics import digits, extractors, modes, reference, stats
from jaxgan.registry import Registry
from jaxgan.run import load_run
from jaxgan.state import iter_samples, sample_labels


class EvalContext:
  """What metrics draw on, each computed once: samples, extractors, generated and real features.

  ``sampler(num)`` yields the evaluated images (or points) in chunks; ``source`` describes
  them for the protocol (latent seed and generator weights, or the file they came from).
  ``labels(num)``, for class-conditional generators, gives the labels the samples were
  drawn for (class metrics then also report ``label_accuracy``).
  """

  def __init__(self, spec: DataSpec, data_config, sampler: Callable[[int], Iterator[np.ndarray]],
               source: dict, reference_split: str, extractor_paths: dict[str, str], say=reporting.say,
               shared: dict | None = None, labels: Callable[[int], np.ndarray | None] = lambda num: None):
    self.spec, self.data_config, self.sampler, self.source = spec, data_config, sampler, source
    self.labels = labels
    self.reference_split, self.extractor_paths, self.say = reference_split, extractor_paths, say
    self._cache: dict = {}
    # Extractors and reference features do not depend on the samples: contexts of one
    # training run share them through ``shared``.
    self._shared = {} if shared is None else shared

  def _once(self, key, fn, shared: bool = False):
    cache = self._shared if shared else self._cache
    if key not in cache:
      cache[key] = fn()
    return cache[key]

  def check_extractors(self, names: list[str]) -> None:
    """Loads the extractors that metrics ``names`` need; raises if weights are missing."""
    for name in names:
      evaluator = EVALUATORS.get(name)
      if evaluator.extractor is not None:
        self.extractor(evaluator.extractor, evaluator.extractor_data)

  def samples(self, num: int) -> np.ndarray:
    return self._once(("samples", num), lambda: np.concatenate(list(self.sampler(num))))

  def extractor(self, name: str, data_name: str = "") -> extractors.FeatureExtractor:
    """Extractor ``name`` for the run's data set (or for ``data_name``'s, e.g. MNIST's
    classifier judging Stacked MNIST channels)."""
    data_config = self.data_config
    if data_name:
      data_config = ml_collections.ConfigDict(self.data_config.to_dict())
      data_config.name = data_name
    return self._once(("extractor", name, data_name), lambda: extractors.load_extractor(
        name, data_config, self.extractor_paths.get(name, "")), shared=True)

  def fake(self, name: str, num: int) -> dict[str, np.ndarray]:
    """Features of ``num`` generated samples (streamed: generated and extracted chunk by chunk)."""
    return self._once(("fake", name, num), lambda: extractors.extract(
        self.extractor(name), self.sampler(num), total=num, desc="generated"))

  def real(self, name: str) -> dict[str, np.ndarray]:
    return self._once(("real", name, self.reference_split), lambda: reference.reference_features(
        self.extractor(name), self.data_config, self.reference_split, self.say), shared=True)

  def feature_protocol(self, name: str, num: int) -> dict:
    return {"samples": num, "reference": f"{self.data_config.name} {self.reference_split}",
            "reference_samples": int(len(self.real(name)["features"])),
            "resolution": self.data_config.resolution, **self.extractor(name).protocol()}


@dataclasses.dataclass(frozen=True)
class Evaluator:
  applies: Callable[[DataSpec], bool]
  compute: Callable[[EvalContext, int], dict]  # (context, num_samples) -> values + "protocol"
  default_samples: int
  headline: tuple[str, ...]  # keys printed in the table
  extractor: str | None = None  # feature metrics: the extractor whose weights they need
  uses_reference: bool = True   # compares with a real split (named in the record name)
  extractor_data: str = ""      # the extractor is the one of this data set, not the run's

  def record_name(self, name: str, num: int, reference_split: str) -> str:
    if self.extractor is None:
      return name
    return f"{name}{_count(num)}" + (f"_{reference_split}" if self.uses_reference else "")


def _count(n: int) -> str:
  return f"{n // 1000}k" if n % 1000 == 0 else str(n)


EVALUATORS: Registry[Evaluator] = Registry("metric")


def _modes(ctx: EvalContext, num: int) -> dict:
  centers_fn, std = toy.TOY_SETS[ctx.spec.name]
  min_count = max(1, round(20 * num / 2500))
  return modes.mode_stats(ctx.samples(num), centers_fn(), std, min_count=min_count)


def _is_image(spec: DataSpec) -> bool:
  return spec.kind == "image"


def _is_mnist_like(spec: DataSpec) -> bool:
  return spec.kind == "image" and spec.shape[-1] == 1 and spec.name != "synthetic_images"


def _fd(ctx: EvalContext, num: int, name: str) -> dict:
  real = ctx.real(name)
  mu, sigma = stats.feature_stats(ctx.fake(name, num)["features"])
  return {"fd": stats.frechet_distance(mu, sigma, real["mu"], real["sigma"]),
          "protocol": ctx.feature_protocol(name, num)}


def _kid(ctx: EvalContext, num: int, name: str) -> dict:
  mean, std = stats.kernel_inception_distance(ctx.real(name)["features"], ctx.fake(name, num)["features"])
  return {"kid": mean, "kid_std": std,
          "protocol": {**ctx.feature_protocol(name, num), "subsets": 100, "subset_size": 1000,
                       "kernel": "(x.y/d + 1)^3"}}


def _prd(ctx: EvalContext, num: int, name: str) -> dict:
  precision, recall = stats.precision_recall(ctx.real(name)["features"], ctx.fake(name, num)["features"], k=3)
  return {"precision": precision, "recall": recall, "protocol": {**ctx.feature_protocol(name, num), "k": 3}}


def _dc(ctx: EvalContext, num: int, name: str) -> dict:
  density, coverage = stats.density_coverage(ctx.real(name)["features"], ctx.fake(name, num)["features"], k=5)
  return {"density": density, "coverage": coverage, "protocol": {**ctx.feature_protocol(name, num), "k": 5}}


def _classes(ctx: EvalContext, num: int, name: str) -> dict:
  extractor = ctx.extractor(name)
  preds = ctx.fake(name, num)["logits"].argmax(axis=1)
  result = modes.class_mode_stats(preds, extractor.meta.get("num_classes", 10))
  labels = ctx.labels(num)
  if labels is not None:
    result["label_accuracy"] = float(np.mean(preds == labels))
  result["protocol"] = {"samples": num, **extractor.protocol()}
  return result


def _stacked_modes(ctx: EvalContext, num: int) -> dict:
  """Stacked MNIST: each channel classified by the MNIST LeNet; mode = the digit triple."""
  extractor = ctx.extractor("lenet", "mnist")
  channels = (x.transpose(0, 3, 1, 2)[..., None].reshape(-1, x.shape[1], x.shape[2], 1)
              for x in ctx.sampler(num))  # [n, R, R, 3] -> [3n, R, R, 1], sample-major
  digits_ = extractors.extract(extractor, channels, total=3 * num, desc="channels")["logits"].argmax(1)
  result = modes.class_mode_stats(digits_.reshape(num, 3) @ np.array([100, 10, 1]), 1000)
  result["protocol"] = {"samples": num, **extractor.protocol(),
                        "mode": "LeNet(MNIST) digit of each RGB channel, 1,000 triples"}
  return result


def _feature_metric(fn, extractor: str, headline: tuple[str, ...], applies=_is_mnist_like,
                    default_samples: int = 10_000, uses_reference: bool = True) -> Evaluator:
  return Evaluator(applies=applies, compute=lambda ctx, num: fn(ctx, num, extractor),
                   default_samples=default_samples, headline=headline, extractor=extractor,
                   uses_reference=uses_reference)


EVALUATORS.register("modes")(Evaluator(
    applies=lambda spec: spec.name in toy.TOY_SETS, compute=_modes, default_samples=2500,
    headline=("modes_captured", "num_modes", "high_quality_share", "reverse_kl")))
EVALUATORS.register("digits_classes")(Evaluator(
    applies=lambda spec: spec.name == "digits",
    compute=lambda ctx, num: digits.digits_class_stats(ctx.samples(num), ctx.labels(num)), default_samples=1000,
    headline=("classes_found", "max_class_share", "mean_top_prob")))
def _inception_score(ctx: EvalContext, num: int, name: str) -> dict:
  mean, std = stats.inception_score(ctx.fake(name, num)["logits"], splits=10)
  return {"is": mean, "is_std": std, "protocol": {"samples": num, "splits": 10, **ctx.extractor(name).protocol()}}


EVALUATORS.register("fid")(_feature_metric(_fd, "inception", ("fd",), applies=_is_image))
EVALUATORS.register("is")(_feature_metric(_inception_score, "inception", ("is", "is_std"),
                                          applies=_is_image, uses_reference=False))
EVALUATORS.register("kid_inception")(_feature_metric(_kid, "inception", ("kid", "kid_std"), applies=_is_image))
EVALUATORS.register("prd_inception")(_feature_metric(_prd, "inception", ("precision", "recall"), applies=_is_image))
EVALUATORS.register("dc_inception")(_feature_metric(_dc, "inception", ("density", "coverage"), applies=_is_image))
EVALUATORS.register("fd_lenet")(_feature_metric(_fd, "lenet", ("fd",)))
EVALUATORS.register("kid_lenet")(_feature_metric(_kid, "lenet", ("kid", "kid_std")))
EVALUATORS.register("prd_lenet")(_feature_metric(_prd, "lenet", ("precision", "recall")))
EVALUATORS.register("dc_lenet")(_feature_metric(_dc, "lenet", ("density", "coverage")))
EVALUATORS.register("classes_lenet")(_feature_metric(
    _classes, "lenet", ("modes_captured", "num_modes", "kl_to_uniform", "max_mode_share"),
    uses_reference=False))

EVALUATORS.register("stacked_modes")(Evaluator(
    applies=lambda spec: spec.name == "stacked_mnist", compute=_stacked_modes, default_samples=26_000,
    headline=("modes_captured", "num_modes", "kl_to_uniform"), extractor="lenet",
    uses_reference=False, extractor_data="mnist"))

# Short names: the metric on the data set's default extractor (LeNet for MNIST-like data,
# Inception otherwise).
ALIASES = ("kid", "prd", "dc", "classes")


def resolve_name(name: str, spec: DataSpec) -> str:
  if name not in ALIASES:
    return name
  if name == "classes":  # class counts come from a classifier of the data set's own classes
    return "classes_lenet"
  return f"{name}_{'lenet' if _is_mnist_like(spec) else 'inception'}"


def default_reference_split(data_config) -> str:
  return "test" if data_config.name in real.NATIVE else "train"


def _auto_names(ctx: EvalContext) -> list[str]:
  names = []
  for name in EVALUATORS.names():
    evaluator = EVALUATORS.get(name)
    if not evaluator.applies(ctx.spec):
      continue
    if evaluator.extractor is not None:
      try:
        ctx.check_extractors([name])
      except JaxganError as e:
        ctx.say(f"auto: skipping {name}: {e}")
        continue
    names.append(name)
  return names


def evaluate(workdir: str, names: list[str] | None = None, num_samples: int | None = None,
             seed: int = 1, step: int | None = None, reference_split: str = "",
             extractor_paths: dict[str, str] | None = None, say=reporting.say,
             best: bool = False) -> dict[str, dict]:
  """Computes metrics on a trained run and appends each to ``WORKDIR/metrics/<record name>.jsonl``.

  ``best=True`` evaluates the best checkpoint kept by ``config.eval`` instead of the newest.
  Returns ``{record name: record}``.
  """
  run = load_run(workdir, step, say=say, best=best)
  source = {"latent_seed": seed, "generator": "ema" if run.state.ema_params is not None else "live"}
  ctx = EvalContext(run.gan.spec, run.config.data,
                    lambda num: iter_samples(run.gan, run.state, num, seed), source,
                    reference_split or default_reference_split(run.config.data), extractor_paths or {}, say,
                    labels=lambda num: sample_labels(run.gan, num))
  return compute_metrics(ctx, names, num_samples, run.step, os.path.join(workdir, "metrics"))


def evaluate_images(path: str, data_config, names: list[str] | None = None,
                    num_samples: int | None = None, reference_split: str = "",
                    extractor_paths: dict[str, str] | None = None, out_dir: str = "",
                    say=reporting.say) -> dict[str, dict]:
  """Metrics of images stored in ``path`` (``.npz`` with ``x [N, R, R, C]`` in [-1, 1], as
  written by ``python -m jaxgan.sample --npz``), judged against ``data_config``'s data set."""
  from jaxgan import data as data_lib
  try:
    with np.load(path, allow_pickle=False) as f:
      images = np.asarray(f["x"], np.float32)
  except (OSError, ValueError, KeyError) as e:
    raise JaxganError(f"Cannot read images from {path!r} ({e}); expected an .npz with an array "
                      "'x' [N, H, W, C] in [-1, 1] (python -m jaxgan.sample --npz writes one).") from None
  spec = data_lib.spec(data_config)
  if images.ndim != len(spec.shape) + 1:
    raise JaxganError(f"{path!r} holds x of shape {images.shape}; {spec.name} samples are [N, "
                      f"{', '.join(map(str, spec.shape))}].")

  def sampler(num):
    if num > len(images):
      raise JaxganError(f"{path!r} holds {len(images)} images; --num_samples {num} asks for more.")
    yield images[:num]

  ctx = EvalContext(spec, data_config, sampler, {"images": os.path.abspath(path)},
                    reference_split or default_reference_split(data_config), extractor_paths or {}, say)
  num_samples = num_samples or len(images)
  return compute_metrics(ctx, names, num_samples, None,
                         out_dir or os.path.splitext(path)[0] + "_metrics")


def compute_metrics(ctx: EvalContext, names: list[str] | None, num_samples: int | None,
                    step: int | None, out_dir: str) -> dict[str, dict]:
  """Runs metrics ``names`` (default: auto) in ``ctx``; appends records to ``out_dir/<name>.jsonl``."""
  spec = ctx.spec
  names = [resolve_name(n, spec) for n in names] if names else _auto_names(ctx)
  if not names:
    raise JaxganError(f"No metric applies to data set {spec.name!r} (or its feature extractor "
                      "weights are missing; see the messages above).")
  for name in names:
    if not EVALUATORS.get(name).applies(spec):
      raise JaxganError(f"Metric {name!r} does not apply to data set {spec.name!r}.")
  results = {}
  os.makedirs(out_dir, exist_ok=True)
  for name in names:
    evaluator = EVALUATORS.get(name)
    n = num_samples or evaluator.default_samples
    result = evaluator.compute(ctx, n)
    result["protocol"].update({**ctx.source, "data": spec.name})
    record_name = evaluator.record_name(name, n, ctx.reference_split)
    record = {"metric": record_name, "step": step, "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
              **result}
    with open(os.path.join(out_dir, f"{record_name}.jsonl"), "a") as f:
      f.write(json.dumps(record) + "\n")
    results[record_name] = dict(record, headline=evaluator.headline)
  return results


def format_results(results: dict[str, dict]) -> str:
  lines = []
  for name, record in results.items():
    keys = [k for k in record["headline"] if k in record]
    keys += ["label_accuracy"] if "label_accuracy" in record else []
    values = ", ".join(f"{k}={record[k]:.4g}" if isinstance(record[k], float) else f"{k}={record[k]}"
                       for k in keys)
    protocol = ", ".join(f"{k}={v}" for k, v in record["protocol"].items())
    at = f" @ step {record['step']}" if record["step"] is not None else ""
    lines.append(f"{name}{at}: {values}\n  protocol: {protocol}")
  return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m jaxgan.evaluate", description=__doc__.splitlines()[0])
  source = parser.add_mutually_exclusive_group(required=True)
  source.add_argument("--workdir", help="a trained run: its newest checkpoint's samples are evaluated")
  source.add_argument("--images", help=".npz with x [N, H, W, C] in [-1, 1] (e.g. from jaxgan.sample "
                      "--npz), judged against --data")
  parser.add_argument("--data", default="", help="data set of the reference (with --images)")
  parser.add_argument("--metrics", default="auto",
                      help=f"comma list of {EVALUATORS.names()} (or {list(ALIASES)} on the data "
                      "set's default extractor), or 'auto'")
  parser.add_argument("--num_samples", type=int, default=None)
  parser.add_argument("--seed", type=int, default=1, help="latent seed of the evaluated samples")
  parser.add_argument("--step", type=int, default=None)
  parser.add_argument("--best", action="store_true", help="evaluate the best checkpoint kept by config.eval")
  parser.add_argument("--reference_split", default="", help="real split to compare with (default: test "
                      "when the data set has one, else train)")
  parser.add_argument("--inception_weights", default="", help="FID Inception weights (.npz, or "
                      ".pth with torch); default ~/.cache/jaxgan/weights/inception_fid.npz")
  parser.add_argument("--classifier", default="", help="LeNet classifier file (default: where "
                      "python -m jaxgan.classifier saves it for the run's data set)")
  rest, overrides = config_lib.parse_cli_overrides(sys.argv[1:] if argv is None else argv)
  args = parser.parse_args(rest)
  if args.images and not args.data:
    parser.error("--images needs --data NAME (the data set to compare with)")
  if args.workdir and (args.data or overrides):
    parser.error("--data and --config.* overrides go with --images; a --workdir brings its own config")
  names = None if args.metrics == "auto" else [m.strip() for m in args.metrics.split(",") if m.strip()]
  if args.num_samples is not None and args.num_samples < 2:
    parser.error("--num_samples must be at least 2")
  paths = {"lenet": args.classifier, "inception": args.inception_weights}
  try:
    if args.workdir:
      out_dir = os.path.join(args.workdir, "metrics")
      results = evaluate(args.workdir, names, args.num_samples, args.seed, args.step,
                         args.reference_split, paths, best=args.best)
    else:
      from jaxgan import data as data_lib
      out_dir = os.path.splitext(args.images)[0] + "_metrics"
      config = data_lib.named_config(args.data, overrides)
      results = evaluate_images(args.images, config.data, names, args.num_samples,
                                args.reference_split, paths, out_dir)
  except (JaxganError, ValueError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  print(format_results(results))
  print(f"Appended to {out_dir}/<metric>.jsonl")
  return 0


if __name__ == "__main__":
  sys.exit(main())
