"""The run report: one self-contained ``WORKDIR/report.html`` from a workdir's files.

It shows the training curves of ``metrics.jsonl`` (losses, D(x) and D(G(z)), gradient
norms), the learning rates of ``train.lr_schedule``, every evaluation record under
``metrics/`` over steps with its protocol, the timeline of the fixed-latent sample
pictures under ``samples/``, the resolved config, and each training command's hardware
and wall time (``runs.jsonl``). Plots are drawn with matplotlib and embedded as PNG data,
as are the sample pictures: the file opens in any browser without a network.
Written after every training (``log.report``) and by ``python -m jaxgan.report``.
"""

from __future__ import annotations

import base64
import glob
import html
import io
import os
import re
from typing import Any, Iterable

import numpy as np

from jaxgan import config as config_lib
from jaxgan import data as data_lib
from jaxgan import methods
from jaxgan.reporting import read_jsonl
from jaxgan.state import lr_schedules
from jaxgan.workdir import Workdir

MAX_PICTURES = 12  # sample pictures shown on the timeline (evenly spaced over the run)
CURVES = (  # (title, metric keys, log scale)
    ("Losses", ("d_loss", "g_loss"), False),
    ("D(x) and D(G(z)) (mean sigmoid of D's logits)", ("d_real", "d_fake"), False),
    ("Gradient norms", ("d_grad_norm", "g_grad_norm"), True),
    ("ELBO and its parts (nats per image)", ("elbo", "recon_nll", "kl"), False),
    ("Loss and gradient norm", ("loss", "grad_norm"), True),
    ("Other training metrics", None, False),
)
KNOWN = {key for _, keys, _ in CURVES if keys for key in keys} | {"step", "steps_per_sec"}


def _figure_png(draw, width: float = 6.0, height: float = 3.0, panels: int = 1) -> str:
  """``draw(ax)`` (or ``draw(axes)`` with ``panels`` > 1 side by side) as base64 PNG data."""
  import matplotlib  # third-party, imported where used: only reports draw plots
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  fig, axes = plt.subplots(1, panels, figsize=(width, height), dpi=100, squeeze=False)
  draw(axes[0, 0] if panels == 1 else list(axes[0]))
  for ax in axes[0]:
    ax.grid(alpha=0.3)
  fig.tight_layout()
  buffer = io.BytesIO()
  fig.savefig(buffer, format="png")
  plt.close(fig)
  return base64.b64encode(buffer.getvalue()).decode()


def _img(data: str, alt: str) -> str:
  return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _curve(rows: list[dict], keys: Iterable[str], title: str, log: bool) -> str:
  def draw(ax):
    for key in keys:
      points = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), (int, float))
                and (r[key] > 0 or not log)]  # a log axis shows the positive values
      if points:
        steps, values = zip(*points)
        ax.plot(steps, values, label=key, linewidth=1.2)
    if log:
      ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
  return _img(_figure_png(draw), title)


def _learning_rates(config) -> str:
  t = config.train
  steps = np.linspace(0, t.steps, 200)
  g, d = lr_schedules(t)

  def draw(ax):
    ax.plot(steps, [float(g(s)) for s in steps], label=f"G (train.g_lr={t.g_lr:g})")
    ax.plot(steps, [float(d(s * t.n_critic)) for s in steps], "--", label=f"D (train.d_lr={t.d_lr:g})")
    ax.set_xlabel("step (G updates)")
    ax.set_title(f"Learning rates ({t.lr_schedule}; D: {t.n_critic} updates per step)", fontsize=10)
    ax.legend(fontsize=8)
  return _img(_figure_png(draw), "learning rates")


def _describe(config) -> str:
  """The run's model and data in a few words (:attr:`jaxgan.method.Method.describe`)."""
  return methods.METHODS.get(config.method).describe(config, data_lib.spec(config.data))


# The learning-rate panel of each method (config.method); methods without one show none.
LEARNING_RATE_PANELS = {"gan": _learning_rates}


def _numeric(record: dict) -> dict[str, float]:
  return {k: float(v) for k, v in record.items()
          if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in ("step",)}


def _evaluation(name: str, records: list[dict]) -> str:
  """One evaluation record name: its values over steps (a plot, or a table for one step)
  and the protocol of its newest record."""
  parts = [f"<h3>{html.escape(name)}</h3>"]
  with_steps = [r for r in records if isinstance(r.get("step"), int)]
  keys = sorted({k for r in records for k in _numeric(r)})
  if len({r["step"] for r in with_steps}) > 1 and keys:
    shown = keys[:4]  # each value on its own axis: their scales differ

    def draw(axes):
      for ax, key in zip(axes if len(shown) > 1 else [axes], shown):
        points = sorted((r["step"], _numeric(r)[key]) for r in with_steps if key in _numeric(r)
                        and np.isfinite(_numeric(r)[key]))
        if points:
          ax.plot(*zip(*points), marker="o", markersize=3)
        ax.set_xlabel("step")
        ax.set_title(key, fontsize=9)
    parts.append(_img(_figure_png(draw, width=3.0 * len(shown), height=2.6, panels=len(shown)), name))
  header = "".join(f"<th>{html.escape(k)}</th>" for k in ["step", "time"] + keys)
  body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(k)))}</td>" for k in ["step", "time"] + keys)
                 + "</tr>" for r in records)
  parts.append(f'<table class="values"><tr>{header}</tr>{body}</table>')
  protocol = records[-1].get("protocol", {})
  parts.append("<p><b>protocol</b>: " + ", ".join(f"{html.escape(str(k))}={html.escape(str(v))}"
                                                  for k, v in protocol.items()) + "</p>")
  return "\n".join(parts)


def _fmt(value: Any) -> str:
  if isinstance(value, float):
    return f"{value:.4g}"
  return "" if value is None else str(value)


def _timeline(pictures: list[str]) -> str:
  if not pictures:
    return "<p>No sample pictures (log.sample_every = 0).</p>"
  chosen = [pictures[int(i)] for i in np.unique(np.linspace(0, len(pictures) - 1, MAX_PICTURES).round())]
  cells = []
  for path in chosen:
    step = re.search(r"step_(\d+)", os.path.basename(path))
    with open(path, "rb") as f:
      data = base64.b64encode(f.read()).decode()
    caption = f"step {int(step.group(1))}" if step else os.path.basename(path)
    cells.append(f'<figure>{_img(data, caption)}<figcaption>{caption}</figcaption></figure>')
  note = (f"{len(chosen)} of {len(pictures)} pictures" if len(chosen) < len(pictures) else
          f"{len(pictures)} pictures")
  return f'<p>Fixed latents (latent seed = config.seed), {note}.</p><div class="timeline">{"".join(cells)}</div>'


def _invocations(runs: list[dict]) -> str:
  if not runs:
    return "<p>No record of the training commands (runs.jsonl).</p>"
  keys = ["began", "start_step", "end_step", "wall_s", "devices", "platform", "device_kind", "processes",
          "host", "cpu", "jax", "parallel", "stopped_by"]
  header = "".join(f"<th>{k}</th>" for k in keys)
  body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(k)))}</td>" for k in keys) + "</tr>"
                 for r in runs)
  total = sum(r.get("wall_s", 0.0) for r in runs)
  return f'<table class="values"><tr>{header}</tr>{body}</table><p>Total wall time {total:.1f} s.</p>'


STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}
img{max-width:100%} table.values{border-collapse:collapse;font-size:12px;margin:0.5em 0}
table.values td,table.values th{border:1px solid #ccc;padding:2px 6px}
.timeline{display:flex;flex-wrap:wrap;gap:8px} figure{margin:0} figcaption{font-size:12px;text-align:center}
pre{background:#f6f6f6;padding:1em;font-size:12px;overflow:auto} .grid{display:flex;flex-wrap:wrap}
.grid img{width:48%}"""


def build_report(workdir: str) -> str:
  """The report of ``workdir`` as one HTML document."""
  layout = Workdir(workdir)
  with open(layout.config) as f:
    config = config_lib.from_json(f.read())
  rows = read_jsonl(layout.train_metrics)
  rates = LEARNING_RATE_PANELS[config.method](config) if config.method in LEARNING_RATE_PANELS else ""
  evaluations = {os.path.basename(p)[:-len(".jsonl")]: read_jsonl(p)
                 for p in sorted(glob.glob(os.path.join(layout.eval_metrics, "*.jsonl")))}
  pictures = sorted(glob.glob(os.path.join(layout.samples, "step_*.png")))
  runs = read_jsonl(layout.train_runs)
  last = rows[-1]["step"] if rows else 0
  title = f"jaxgan run {os.path.abspath(workdir)}"
  sections = [f"<h1>{html.escape(title)}</h1>",
              f"<p>{html.escape(config.method)}: {html.escape(_describe(config))}; "
              f"{last} of {config.train.steps} steps logged.</p>",
              '<h2 id="training">Training</h2>']
  if rows:
    others = sorted({k for r in rows for k in r if k not in KNOWN and isinstance(r[k], (int, float))})
    logged = {k for r in rows for k in r}
    plots = [_curve(rows, keys if keys else others, title_, log) for title_, keys, log in CURVES
             if (keys and logged & set(keys)) or (not keys and others)]
    sections.append(f'<div class="grid">{"".join(plots)}{rates}</div>')
  else:
    sections.append(f"<p>No training metrics yet.</p>{rates}")
  sections.append('<h2 id="metrics">Metrics</h2>')
  sections += ([_evaluation(name, records) for name, records in evaluations.items() if records]
               or ["<p>No evaluation records (python -m jaxgan.evaluate, or config.eval).</p>"])
  sections += ['<h2 id="samples">Samples over training</h2>', _timeline(pictures),
               '<h2 id="hardware">Training commands: hardware and wall time</h2>', _invocations(runs),
               '<h2 id="config">Config</h2>', f"<pre>{html.escape(config_lib.to_json(config), quote=False)}</pre>"]
  return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
          f"<style>{STYLE}</style></head><body>\n" + "\n".join(sections) + "\n</body></html>\n")


def write_report(workdir: str, out: str | None = None) -> str:
  """Writes the report of ``workdir`` to ``out`` (default ``WORKDIR/report.html``),
  atomically; returns the path."""
  out = out or Workdir(workdir).report
  text = build_report(workdir)
  tmp = out + ".tmp"
  with open(tmp, "w") as f:
    f.write(text)
  os.replace(tmp, out)
  return out
