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
re-measure, when a change moves one of those trajectories.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import subprocess
from typing import Callable

import jax
import numpy as np

from jaxgan import api, parallel
from jaxgan import data as data_lib
from jaxgan import run as run_lib
from jaxgan.errors import ConfigError, JaxganError
from jaxgan.registry import Registry

RESULTS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "results")


@dataclasses.dataclass(frozen=True)
class Entry:
  """Rows of one recipe: one per training seed, then their mean (when several)."""
  label: str                     # the first column, e.g. "`ring8_pacgan` (PacGAN4)"
  recipe: str                    # a recipe name (jaxgan.recipes)
  overrides: tuple[tuple[str, str], ...] = ()
  seeds: tuple[int, ...] = (0,)


@dataclasses.dataclass(frozen=True)
class Column:
  """A value shown: ``key`` of the metric's record, formatted by ``fmt``."""
  title: str
  key: str
  fmt: Callable[[float], str]
  mean: bool = True              # averaged over seeds in the mean row


@dataclasses.dataclass(frozen=True)
class Table:
  title: str
  entries: tuple[Entry, ...]
  metric: str                    # a jaxgan.metrics.evaluators metric name
  columns: tuple[Column, ...]
  num_samples: int
  latent_seed: int = 1
  protocol: str = ""             # the README's protocol sentence for the table

  def recipes(self) -> set[str]:
    return {e.recipe for e in self.entries}


def _int(v: float) -> str:
  return str(int(v))


def _pct(v: float) -> str:
  return f"{100 * v:.1f}%"


def _f3(v: float) -> str:
  return "inf" if v == float("inf") else f"{v:.3f}"


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
      metric="modes", columns=MODE_COLUMNS, num_samples=2500,
      protocol="python -m jaxgan.evaluate --workdir W --metrics modes (2,500 samples, latent seed 1)")


TABLES: Registry[Table] = Registry("results table")
TABLES.register("ring8")(_mode_collapse_table("ring8", "ring8 non-saturating MLP GAN"))
TABLES.register("grid25")(_mode_collapse_table("grid25", "grid25 MLP GANs"))
TABLES.register("digits")(Table(
    title="digits DCGAN (the main job)",
    entries=(Entry("`digits_dcgan`", "digits_dcgan"),),
    metric="digits_classes",
    columns=(Column("classes found", "classes_found", _int), Column("largest class share", "max_class_share", _pct),
             Column("mean top-class probability", "mean_top_prob", _f3)),
    num_samples=1000,
    protocol="python -m jaxgan.evaluate --workdir W --metrics digits_classes --num_samples 1000"))
TABLES.register("digits_acgan")(Table(
    title="digits AC-GAN (class-conditional)",
    entries=(Entry("`digits_acgan`", "digits_acgan"),),
    metric="digits_classes",
    columns=(Column("classes found", "classes_found", _int), Column("largest class share", "max_class_share", _pct),
             Column("mean top-class probability", "mean_top_prob", _f3),
             Column("label accuracy", "label_accuracy", _pct)),
    num_samples=1000,
    protocol="python -m jaxgan.evaluate --workdir W --metrics digits_classes --num_samples 1000"))


def commit() -> str:
  """The checkout's commit (``+dirty`` with uncommitted changes), or 'unknown'."""
  root = os.path.dirname(RESULTS_DIR.rstrip(os.sep))
  try:
    head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True,
                          text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                           capture_output=True, text=True, check=True).stdout.strip()
    return head + ("+dirty" if dirty else "")
  except (OSError, subprocess.CalledProcessError):
    return "unknown"


def workdir_of(root: str, entry: Entry, seed: int) -> str:
  suffix = "".join(f"_{k.split('.')[-1]}{v}" for k, v in entry.overrides)
  return os.path.join(root, f"{entry.recipe}{suffix}_seed{seed}")


def run_entry(table: Table, entry: Entry, seed: int, root: str, say=print) -> dict:
  """Trains (or resumes) one run and evaluates it; returns its record."""
  overrides = dict(entry.overrides) | {"seed": str(seed), "log.progress": "false"}
  config = api.load_recipe(entry.recipe, overrides)
  workdir = workdir_of(root, entry, seed)
  say(f"{entry.recipe} seed {seed} -> {workdir}")
  run = api.train(config, workdir)
  if run.step < config.train.steps:  # stopped by a signal: the figures would be of a shorter run
    raise JaxganError(f"{workdir} stopped at step {run.step} of {config.train.steps}; rerun the same "
                      "command to resume the reproduction.")
  record = run.evaluate([table.metric], num_samples=table.num_samples, seed=table.latent_seed,
                        say=lambda m: None)
  (record,) = record.values()
  return {"recipe": entry.recipe, "overrides": dict(entry.overrides), "seed": seed, "workdir": workdir,
          "step": run.step, **{c.key: record.get(c.key) for c in table.columns},
          "protocol": record["protocol"], "record": record["metric"]}


def markdown(table: Table, rows: list[dict]) -> str:
  """The table's Markdown: one row per run, and a mean row per entry with several seeds."""
  head = "| recipe | seed | " + " | ".join(c.title for c in table.columns) + " |"
  lines = [head, "|" + "---|" * (2 + len(table.columns))]
  for entry in table.entries:
    mine = [r for r in rows if r["recipe"] == entry.recipe and r["overrides"] == dict(entry.overrides)]
    for r in mine:
      lines.append(f"| {entry.label} | {r['seed']} | " + " | ".join(c.fmt(r[c.key]) for c in table.columns) + " |")
    if len(mine) > 1:
      means = []
      for c in table.columns:
        values = np.asarray([r[c.key] for r in mine], np.float64)
        means.append(("-" if not np.all(np.isfinite(values)) else
                      f"{values.mean():.1f}" if c.fmt is _int else c.fmt(float(values.mean()))) if c.mean else "")
      lines.append(f"| {entry.label} | mean | " + " | ".join(means) + " |")
  return "\n".join(lines) + "\n"


def reproduce(name: str, root: str, out_dir: str = RESULTS_DIR, say=print) -> dict:
  """Runs what table ``name`` needs (resuming), evaluates, writes ``out_dir/<name>.{md,json}``."""
  table = TABLES.get(name)
  code = commit()  # the code the runs are trained with (taken before they start)
  rows = [run_entry(table, entry, seed, root, say) for entry in table.entries for seed in entry.seeds]
  text = markdown(table, rows)
  result = {"table": name, "title": table.title, "commit": code, "date": datetime.date.today().isoformat(),
            "machine": {"cpu": _cpu(), "devices": jax.device_count(), "platform": jax.devices()[0].platform,
                        "jax": jax.__version__},
            "protocol": table.protocol, "rows": rows, "markdown": text}
  os.makedirs(out_dir, exist_ok=True)
  with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
    json.dump(result, f, indent=2, default=float)
  with open(os.path.join(out_dir, f"{name}.md"), "w") as f:
    f.write(f"<!-- python -m jaxgan.reproduce --table {name}; commit {result['commit']}, {result['date']} -->\n" + text)
  return result


def _cpu() -> str:
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return "unknown"


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
  return config


def fingerprint(recipe: str, steps: int = FINGERPRINT_STEPS) -> list[float]:
  """D and G losses of ``recipe``'s first ``steps`` steps (:func:`fingerprint_config`),
  ``[d_1, g_1, d_2, g_2, ...]``: what moves when a change alters the recipe's trajectory."""
  config = fingerprint_config(recipe)
  model = run_lib.build_model(config)
  devices = run_lib.select_devices(config)
  source = data_lib.build(config.data, config.train.batch_size, config.seed)
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
  """The recipes behind the results tables."""
  return sorted({recipe for name in TABLES for recipe in TABLES.get(name).recipes()})


def write_fingerprints(path: str = FINGERPRINTS) -> dict:
  """Records the fingerprint of every recipe behind a table, with the commit."""
  out = {"commit": commit(), "date": datetime.date.today().isoformat(), "steps": FINGERPRINT_STEPS,
         "recipes": {r: {"losses": fingerprint(r), "tables": tables_using(r)} for r in fingerprint_recipes()}}
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w") as f:
    json.dump(out, f, indent=2)
  return out
