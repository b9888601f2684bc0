"""Metrics as a library: the metric registry, the sample/feature cache and the records.

Both the ``python -m jaxgan.evaluate`` command and evaluation during training
(:mod:`jaxgan.metrics.periodic`) call :func:`compute_metrics` (through :func:`evaluate`
for a workdir and :func:`evaluate_images` for stored images), as stylegan2-ada's
``metrics/metric_main.py`` serves its CLI and its training loop.

Each metric is an :class:`Evaluator` picked by name; ``auto`` picks those that apply to the
run's data set and whose feature extractor weights are present (it says which it skipped
and why). Whether a metric applies is declared by the metric (the data it needs: images,
mode centres, the LeNet features of MNIST-like data) and by the data set's registry entry
(:class:`jaxgan.data.DataSet`: kind, modes, default extractor, the metrics only it has). A
result is appended to ``WORKDIR/metrics/<record name>.jsonl`` as one JSON line holding the
values, the checkpoint step and the protocol.

Feature metrics carry their protocol in the record name:
``<metric>[_<extractor>]<samples>_<reference split>``, e.g. ``fd_lenet10k_test`` (Fréchet
distance of 10,000 samples to the MNIST test split in LeNet features) or
``kid_lenet10k_test``. Their protocol records the sample count, the reference data set,
split and size, the extractor and its weights hash, the resolution, the latent seed and
whether the EMA generator was used.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import zipfile
from typing import Callable, Iterator

import ml_collections
import numpy as np

from jaxgan import data as data_lib
from jaxgan import reporting
from jaxgan.data import DataSet
from jaxgan.errors import JaxganError
from jaxgan.metrics import digits, extractors, fid_weights, modes, parzen, reference, stats
from jaxgan.registry import Registry
from jaxgan.run import Run, load_run
from jaxgan.spec import DataSpec
from jaxgan.workdir import Workdir


class EvalContext:
  """What metrics draw on, each computed once: samples, extractors, generated and real features.

  ``sampler(num)`` yields the evaluated images (or points) in chunks; ``source`` describes
  them for the protocol (latent seed and generator weights, or the file they came from).
  ``labels(num)``, for class-conditional generators, gives the labels the samples were
  drawn for (class metrics then also report ``label_accuracy``). ``estimate(name, x, seed,
  say)`` is the model's likelihood estimate ``name`` of images ``x`` (those in
  ``estimators``, :attr:`jaxgan.method.Method.estimators`); ``method`` names the family.
  """

  def __init__(self, spec: DataSpec, data_config, sampler: Callable[[int], Iterator[np.ndarray]],
               source: dict, reference_split: str, extractor_paths: dict[str, str], say=reporting.say,
               shared: dict | None = None, labels: Callable[[int], np.ndarray | None] = lambda num: None,
               estimate: Callable | None = None, estimators: tuple[str, ...] = (), method: str = ""):
    self.spec, self.data_config, self.sampler, self.source = spec, data_config, sampler, source
    self.dataset: DataSet = data_lib.dataset(data_config)
    self.labels = labels
    self.estimate, self.estimators, self.method = estimate, tuple(estimators), method
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

  def split(self, split: str) -> np.ndarray:
    """The images of a real split, ``[N, *shape]`` in [-1, 1] (loaded once)."""
    return self._once(("split", split), lambda: data_lib.load_arrays(self.data_config, split)[0], shared=True)

  def check_estimators(self, names: list[str]) -> None:
    """Refuses likelihood metrics whose estimate the model does not offer, naming those that apply."""
    for name in names:
      needed = EVALUATORS.get(name).estimator
      if needed is not None and needed not in self.estimators:
        what = f"method {self.method!r}" if self.method else "stored images (no model)"
        offered = [f"nll_{e}" for e in self.estimators]
        usable = [n for n in EVALUATORS.names() if EVALUATORS.get(n).estimator in self.estimators]
        apply = ", ".join(sorted(set(offered) & set(usable))) or "none of the model-based estimates"
        raise JaxganError(
            f"Metric {name!r} needs the model's {needed!r} likelihood estimate, and {what} has no "
            f"tractable likelihood of that kind. Likelihood estimates that apply here: {apply}; "
            "for any model that samples (a GAN, stored images): 'parzen' (Parzen windows on its "
            "samples, Goodfellow et al. 2014).")

  def check_extractors(self, names: list[str]) -> None:
    """Loads the extractors that metrics ``names`` need; raises if weights are missing."""
    for name in names:
      evaluator = EVALUATORS.get(name)
      if evaluator.extractor is not None:
        extractor = self.extractor(evaluator.extractor, evaluator.extractor_data)
        if evaluator.needs_logits and not extractor.has_logits:
          raise JaxganError(
              f"{name} needs the classifier's logits, and the {extractor.name} weights in use "
              f"({extractor.description}) have no classifier layer. The Inception Score needs "
              f"pytorch-fid's weights: {fid_weights.SOURCES.get('pytorch_fid').how_to_get}, "
              "and pass --inception_weights inception_fid.npz.")

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
  """A metric: whether it applies to a data set (``applies(spec, data set entry)``), how
  it is computed, its default sample count, the values it reports first, and the
  feature extractor whose weights it needs."""
  applies: Callable[[DataSpec, DataSet], bool]
  compute: Callable[[EvalContext, int], dict]  # (context, num_samples) -> values + "protocol"
  default_samples: int
  headline: tuple[str, ...]  # keys printed in the table
  extractor: str | None = None  # feature metrics: the extractor whose weights they need
  uses_reference: bool = True   # compares with a real split (named in the record name)
  extractor_data: str = ""      # the extractor is the one of this data set, not the run's
  needs_logits: bool = False    # uses the extractor's classifier outputs
  estimator: str | None = None  # likelihood metrics: the model's estimate they need (Method.estimators)
  counted: bool = False         # the record name carries the sample count and split anyway
  in_auto: bool = True          # picked by 'auto' (False: costly metrics run only when named)
  uses_samples: bool = True     # judges generated samples (likelihood metrics judge the model itself)

  def record_name(self, name: str, num: int, reference_split: str) -> str:
    if self.extractor is None and not self.counted:
      return name
    return f"{name}{_count(num)}" + (f"_{reference_split}" if self.uses_reference else "")


def _count(n: int) -> str:
  return f"{n // 1000}k" if n % 1000 == 0 else str(n)


EVALUATORS: Registry[Evaluator] = Registry("metric")


def _modes(ctx: EvalContext, num: int) -> dict:
  centers, std = ctx.dataset.modes()
  min_count = max(1, round(20 * num / 2500))
  return modes.mode_stats(ctx.samples(num), centers, std, min_count=min_count)


def _is_image(spec: DataSpec, dataset: DataSet) -> bool:
  return spec.kind == "image"


def _stored_images(spec: DataSpec, dataset: DataSet) -> bool:
  """Images with splits to read (held-out images for likelihoods, validation for Parzen)."""
  return spec.kind == "image" and dataset.arrays is not None


def _has_modes(spec: DataSpec, dataset: DataSet) -> bool:
  return dataset.modes is not None


def _uses_lenet(spec: DataSpec, dataset: DataSet) -> bool:
  """MNIST-like data: the data set's feature metrics use jaxgan's LeNet classifier."""
  return spec.kind == "image" and dataset.feature_extractor(spec) == "lenet"


def _declared(name: str) -> Callable[[DataSpec, DataSet], bool]:
  """A metric of particular data sets: it applies where the data set's entry lists it."""
  return lambda spec, dataset: name in dataset.metrics


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


def _feature_metric(fn, extractor: str, headline: tuple[str, ...], applies=_uses_lenet,
                    default_samples: int = 10_000, uses_reference: bool = True,
                    needs_logits: bool = False) -> Evaluator:
  return Evaluator(applies=applies, compute=lambda ctx, num: fn(ctx, num, extractor),
                   default_samples=default_samples, headline=headline, extractor=extractor,
                   uses_reference=uses_reference, needs_logits=needs_logits)


EVALUATORS.register("modes")(Evaluator(
    applies=_has_modes, compute=_modes, default_samples=2500,
    headline=("modes_captured", "modes_captured_any", "num_modes", "high_quality_share", "reverse_kl")))
EVALUATORS.register("digits_classes")(Evaluator(
    applies=_declared("digits_classes"),
    compute=lambda ctx, num: digits.digits_class_stats(ctx.samples(num), ctx.labels(num)), default_samples=1000,
    headline=("classes_found", "max_class_share", "mean_top_prob")))
def _inception_score(ctx: EvalContext, num: int, name: str) -> dict:
  mean, std = stats.inception_score(ctx.fake(name, num)["logits"], splits=10)
  return {"is": mean, "is_std": std, "protocol": {"samples": num, "splits": 10, **ctx.extractor(name).protocol()}}


EVALUATORS.register("fid")(_feature_metric(_fd, "inception", ("fd",), applies=_is_image))
EVALUATORS.register("is")(_feature_metric(_inception_score, "inception", ("is", "is_std"),
                                          applies=_is_image, uses_reference=False, needs_logits=True))
EVALUATORS.register("kid_inception")(_feature_metric(_kid, "inception", ("kid", "kid_std"), applies=_is_image))
EVALUATORS.register("prd_inception")(_feature_metric(_prd, "inception", ("precision", "recall"), applies=_is_image))
EVALUATORS.register("dc_inception")(_feature_metric(_dc, "inception", ("density", "coverage"), applies=_is_image))
EVALUATORS.register("fd_lenet")(_feature_metric(_fd, "lenet", ("fd",)))
EVALUATORS.register("kid_lenet")(_feature_metric(_kid, "lenet", ("kid", "kid_std")))
EVALUATORS.register("prd_lenet")(_feature_metric(_prd, "lenet", ("precision", "recall")))
EVALUATORS.register("dc_lenet")(_feature_metric(_dc, "lenet", ("density", "coverage")))
EVALUATORS.register("classes_lenet")(_feature_metric(
    _classes, "lenet", ("modes_captured", "num_modes", "kl_to_uniform", "max_mode_share"),
    uses_reference=False, needs_logits=True))

EVALUATORS.register("stacked_modes")(Evaluator(
    applies=_declared("stacked_modes"), compute=_stacked_modes, default_samples=26_000,
    headline=("modes_captured", "num_modes", "kl_to_uniform"), extractor="lenet",
    uses_reference=False, extractor_data="mnist"))

def _held_out_nll(ctx: EvalContext, num: int, estimator: str) -> dict:
  """A likelihood metric: the model's estimate on the first ``num`` images of the reference
  split, as the negative log-likelihood in nats per image (mean, standard error) and bits
  per dimension."""
  x = ctx.split(ctx.reference_split)
  if num > len(x):
    raise JaxganError(f"{ctx.data_config.name} {ctx.reference_split} holds {len(x)} images; "
                      f"{num} were asked for (--num_samples, or eval.num_samples during training).")
  ll, facts = ctx.estimate(estimator, x[:num], 0, ctx.say)
  dims = int(np.prod(ctx.spec.shape))
  nll = float(-ll.mean())
  return {"nll": nll, "nll_se": float(ll.std() / np.sqrt(len(ll))), "bits_per_dim": nll / (dims * np.log(2)),
          "protocol": {"images": num, "reference": f"{ctx.data_config.name} {ctx.reference_split}",
                       "dims": dims, "resolution": ctx.data_config.resolution, **facts}}


def _likelihood_metric(estimator: str) -> Evaluator:
  return Evaluator(applies=_stored_images, compute=lambda ctx, num: _held_out_nll(ctx, num, estimator),
                   default_samples=10_000, headline=("nll", "nll_se", "bits_per_dim"),
                   estimator=estimator, counted=True, uses_samples=False)


def _parzen(ctx: EvalContext, num: int) -> dict:
  """Goodfellow et al. 2014's Parzen-window protocol (:mod:`jaxgan.metrics.parzen`): ``num``
  samples, sigma from the first 1,000 of the last 10,000 training images (MNIST:
  train[50000:51000]), the log-likelihood of the whole reference split."""
  split = ctx.reference_split
  if split == "train":
    raise JaxganError("parzen chooses its kernel width on training images (the first 1,000 of the last "
                      "10,000 of the train split), so it cannot be measured on the train split itself: "
                      "the validation and test images would overlap. Use --split test.")
  train = ctx.split("train")
  if len(train) < parzen.VALIDATION_SIZE + 10_000:
    raise JaxganError(f"parzen takes its validation images from the first 1,000 of the last 10,000 training "
                      f"images (MNIST: train[50000:51000]); {ctx.data_config.name} train holds {len(train)}.")
  offset = len(train) - 10_000
  validation = parzen.flatten01(train[offset:offset + parzen.VALIDATION_SIZE])
  test = parzen.flatten01(ctx.split(split))
  ctx.say(f"parzen: {num} samples, sigma from {len(parzen.SIGMAS)} widths on {len(validation)} validation "
          f"images, log-likelihood of {len(test)} {split} images")
  result = parzen.parzen_estimate(parzen.flatten01(ctx.samples(num)), validation, test)
  result["protocol"] = {"samples": num, "reference": f"{ctx.data_config.name} {split}",
                        "reference_samples": len(test),
                        "validation": f"{ctx.data_config.name} train[{offset}:{offset + parzen.VALIDATION_SIZE}]",
                        "sigmas": "logspace(-1, 0, 10)", "pixels": "intensities in [0, 1]",
                        "resolution": ctx.data_config.resolution, "paper": "Goodfellow et al. 2014, parzen_ll.py"}
  return result


EVALUATORS.register("nll_iwae")(_likelihood_metric("iwae"))
EVALUATORS.register("nll_elbo")(_likelihood_metric("elbo"))
EVALUATORS.register("nll_exact")(_likelihood_metric("exact"))
EVALUATORS.register("parzen")(Evaluator(
    applies=_stored_images, compute=_parzen, default_samples=10_000, headline=("ll", "ll_se", "sigma"),
    counted=True, in_auto=False))

# Short names: the metric on the data set's default extractor (LeNet for MNIST-like data,
# Inception otherwise).
ALIASES = ("kid", "prd", "dc", "classes")


def resolve_name(name: str, spec: DataSpec, dataset: DataSet) -> str:
  """A short name (:data:`ALIASES`) on the data set's default extractor; others unchanged."""
  if name not in ALIASES:
    return name
  if name == "classes":  # class counts come from a classifier of the data set's own classes
    return "classes_lenet"
  return f"{name}_{dataset.feature_extractor(spec)}"


def default_reference_split(data_config) -> str:
  """The real split the data set's entry compares with (test where it has one)."""
  return data_lib.dataset(data_config).reference_split


def _auto_names(ctx: EvalContext) -> list[str]:
  names, skipped = [], {}
  for name in EVALUATORS.names():
    evaluator = EVALUATORS.get(name)
    if not evaluator.applies(ctx.spec, ctx.dataset):
      continue
    if evaluator.estimator is not None and evaluator.estimator not in ctx.estimators:
      continue
    if not evaluator.in_auto:
      continue
    if evaluator.extractor is not None:
      try:
        ctx.check_extractors([name])
      except JaxganError as e:
        skipped.setdefault(str(e), []).append(name)
        continue
    names.append(name)
  for reason, metrics in skipped.items():  # one message per missing extractor, not per metric
    ctx.say(f"auto: skipping {', '.join(metrics)}: {reason}")
  return names


def evaluate(workdir: str, names: list[str] | None = None, num_samples: int | None = None,
             seed: int = 1, step: int | None = None, reference_split: str = "",
             extractor_paths: dict[str, str] | None = None, say=reporting.say,
             best: bool = False, member: int | None = None) -> dict[str, dict]:
  """Computes metrics on a trained run and appends each to ``WORKDIR/metrics/<record name>.jsonl``.

  ``best=True`` evaluates the best checkpoint kept by ``config.eval`` instead of the newest.
  ``member``: one member of a many-seed run (records in ``metrics/member_<i>/``); by
  default every member and their mean (:func:`evaluate_loaded`). Returns ``{record name: record}``.
  """
  run = load_run(workdir, step, say=say, best=best, member=member)
  return evaluate_loaded(run, records_dir(workdir, run), names, num_samples, seed, reference_split,
                         extractor_paths, say)


def evaluate_loaded(run: Run, out_dir: str, names: list[str] | None = None, num_samples: int | None = None,
                    seed: int = 1, reference_split: str = "", extractor_paths: dict[str, str] | None = None,
                    say=reporting.say) -> dict[str, dict]:
  """:func:`evaluate` of a run already loaded (:func:`jaxgan.run.load_run`); records go to
  ``out_dir/<record name>.jsonl``.

  A run holding several members (``train.num_seeds > 1``, no ``member`` chosen) is
  evaluated member by member, each record in ``out_dir/member_<i>/``, and the record in
  ``out_dir`` holds the members' mean of every number, its standard deviation
  (``<key>_std``, population) and every member's value (``<key>_members``)."""
  split = reference_split or default_reference_split(run.config.data)
  if run.num_members == 1:
    source = {"latent_seed": seed, **run.sampler_source()}
    ctx = EvalContext(run.spec, run.config.data, lambda num: run.iter_samples(num, seed), source, split,
                      extractor_paths or {}, say, labels=lambda num: run.sample_labels(num),
                      estimate=run.log_likelihood, estimators=tuple(run.method.estimators),
                      method=run.config.method)
    return compute_metrics(ctx, names, num_samples, run.step, out_dir)
  shared: dict = {}  # extractors and real features, computed once for every member
  per_member = []
  for one in run.members():
    say(f"member {one.member} of {run.num_members} (seed {run.config.seed + one.member}):")
    ctx = EvalContext(one.spec, one.config.data, lambda num, one=one: one.iter_samples(num, seed),
                      {"latent_seed": seed, **one.sampler_source()}, split, extractor_paths or {}, say,
                      shared=shared, labels=lambda num, one=one: one.sample_labels(num),
                      estimate=one.log_likelihood, estimators=tuple(one.method.estimators),
                      method=one.config.method)
    per_member.append(compute_metrics(ctx, names, num_samples, run.step, member_dir(out_dir, one.member)))
  results = {}
  for record_name in per_member[0]:
    record = across_members([m[record_name] for m in per_member])
    with open(os.path.join(out_dir, f"{record_name}.jsonl"), "a") as f:
      f.write(json.dumps({k: v for k, v in record.items() if k != "headline"}) + "\n")
    results[record_name] = record
  return results


def member_dir(out_dir: str, member: int) -> str:
  """Where member ``member``'s records of a many-seed run go: ``out_dir/member_<i>``."""
  return os.path.join(out_dir, f"member_{member}")


def records_dir(workdir: str, run: Run) -> str:
  """``WORKDIR/metrics``, or a chosen member's folder in it for one member of a many-seed run."""
  out_dir = Workdir(workdir).eval_metrics
  return member_dir(out_dir, run.member) if run.member is not None and run.config.train.num_seeds > 1 else out_dir


def across_members(records: list[dict]) -> dict:
  """One record of several members' records of a metric: every number (int or float,
  not booleans) as the members' mean, with ``<key>_std`` and ``<key>_members``; the
  protocol of the first member, without its member facts, plus ``members`` and ``seeds``."""
  first = records[0]
  out = {"metric": first["metric"], "step": first["step"], "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
  for key, value in first.items():
    if key in out or key in ("protocol", "headline"):
      continue
    if isinstance(value, (int, float)) and not isinstance(value, bool):
      values = [r[key] for r in records]
      with np.errstate(invalid="ignore"):  # a member's inf (e.g. reverse KL of no good sample)
        out[key] = float(np.mean(values))
        out[f"{key}_std"] = float(np.std(values))
      out[f"{key}_members"] = values
  protocol = {k: v for k, v in first["protocol"].items() if k not in ("member", "member_seed")}
  protocol["members"] = len(records)
  protocol["seeds"] = [r["protocol"].get("member_seed") for r in records]
  out["protocol"] = protocol
  out["headline"] = first["headline"]
  return out


def check_values(x: np.ndarray, spec: DataSpec, where: str) -> None:
  """Refuses NaN or infinite values, and images outside [-1, 1] (jaxgan's convention)."""
  bad = ~np.isfinite(x)
  if bad.any():
    raise JaxganError(f"{where!r} holds {int(bad.sum())} NaN or infinite values (of {x.size}); "
                      "every value must be a finite number.")
  bounds = extractors.out_of_range(x) if spec.kind == "image" else None
  if bounds is not None:
    raise JaxganError(f"{where!r} holds values in [{bounds[0]:.4g}, {bounds[1]:.4g}]; images must lie in "
                      "[-1, 1] (jaxgan's convention: uint8 / 127.5 - 1).")


def evaluate_images(path: str, data_config, names: list[str] | None = None,
                    num_samples: int | None = None, reference_split: str = "",
                    extractor_paths: dict[str, str] | None = None, out_dir: str = "",
                    say=reporting.say) -> dict[str, dict]:
  """Metrics of images stored in ``path`` (``.npz`` with ``x [N, R, R, C]`` in [-1, 1], as
  written by ``python -m jaxgan.sample --npz``), judged against ``data_config``'s data set."""
  expected = ("expected an .npz with an array 'x' [N, H, W, C] in [-1, 1] (python -m jaxgan.sample "
              "--npz writes one)")
  if not os.path.isfile(path):
    raise JaxganError(f"--images {path!r} does not exist; {expected}.")
  if not zipfile.is_zipfile(path):
    raise JaxganError(f"--images {path!r} is not an .npz file; {expected}.")
  try:
    with np.load(path, allow_pickle=False) as f:
      images = np.asarray(f["x"], np.float32)
  except (OSError, ValueError, KeyError) as e:
    raise JaxganError(f"Cannot read images from {path!r} ({e}); {expected}.") from None
  spec = data_lib.spec(data_config)
  if images.ndim != len(spec.shape) + 1:
    raise JaxganError(f"{path!r} holds x of shape {images.shape}; {spec.name} samples are [N, "
                      f"{', '.join(map(str, spec.shape))}].")
  check_values(images, spec, path)

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
  names = [resolve_name(n, spec, ctx.dataset) for n in names] if names else _auto_names(ctx)
  if not names:
    raise JaxganError(f"No metric applies to data set {spec.name!r} (or its feature extractor "
                      "weights are missing; see the messages above).")
  for name in names:
    if not EVALUATORS.get(name).applies(spec, ctx.dataset):
      raise JaxganError(f"Metric {name!r} does not apply to data set {spec.name!r}.")
  ctx.check_estimators(names)  # the model offers every likelihood estimate asked for ...
  ctx.check_extractors(names)  # ... and every weight file loads, and serves its metric, before any work
  results = {}
  os.makedirs(out_dir, exist_ok=True)
  for name in names:
    evaluator = EVALUATORS.get(name)
    n = num_samples or evaluator.default_samples
    result = evaluator.compute(ctx, n)
    source = ctx.source if evaluator.uses_samples else {k: v for k, v in ctx.source.items()
                                                         if k in ("member", "member_seed")}
    result["protocol"].update({**source, "data": spec.name})
    record_name = evaluator.record_name(name, n, ctx.reference_split)
    record = {"metric": record_name, "step": step, "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
              **result}
    with open(os.path.join(out_dir, f"{record_name}.jsonl"), "a") as f:
      f.write(json.dumps(record) + "\n")
    results[record_name] = dict(record, headline=evaluator.headline)
  return results


def _value(record: dict, key: str) -> str:
  value = record[key]
  text = f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}"
  # Across members: mean +- std (each). A metric's own "<key>_std" (KID's over subsets) has no members.
  if f"{key}_std" in record and len(set(record.get(f"{key}_members", ()))) > 1:
    each = ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in record[f"{key}_members"])
    text += f" +- {record[f'{key}_std']:.3g} ({each})"
  return text


def format_results(results: dict[str, dict]) -> str:
  lines = []
  for name, record in results.items():
    keys = [k for k in record["headline"] if k in record]
    keys += ["label_accuracy"] if "label_accuracy" in record else []
    values = ", ".join(_value(record, k) for k in keys)
    protocol = ", ".join(f"{k}={v}" for k, v in record["protocol"].items())
    at = f" @ step {record['step']}" if record["step"] is not None else ""
    lines.append(f"{name}{at}: {values}\n  protocol: {protocol}")
  return "\n".join(lines)


