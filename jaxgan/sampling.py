"""Samples of a trained run written to files: a picture (image grid, or a scatter against
real points for 2D data) and optionally the raw samples as ``.npz``."""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from jaxgan import data as data_lib
from jaxgan import reporting, styles
from jaxgan.run import load_run
from jaxgan.workdir import Workdir


@dataclasses.dataclass
class Written:
  """What :func:`write_samples` wrote."""
  paths: list[str]
  num: int
  step: int
  weights: str  # which weights sampled, e.g. "EMA generator weights"
  of_member: str = ""  # ", member i of K" for a many-seed run


def write_samples(workdir: str, num: int = 64, out: str | None = None, npz: str | None = None,
                  seed: int = 0, step: int | None = None, best: bool = False,
                  label: int | None = None, say=reporting.say, member: int | None = None,
                  truncation: float | None = None) -> Written:
  """``num`` samples of the run in ``workdir`` (newest checkpoint, ``step``, or the best one)
  from latent seed ``seed`` (one class with ``label``): a picture at ``out`` (default
  ``WORKDIR/samples/sample.png``) and, with ``npz``, ``x [N, *shape]`` in the data's range,
  ``step`` and (class-conditional runs) ``label``. A many-seed run samples ``member``
  (default 0). ``truncation`` = psi samples with the truncation trick (``stylegan2``)."""
  run, num_members = _open(workdir, step, best, say, member, truncation)
  samples = run.samples(num, seed, label)
  out = out or os.path.join(Workdir(workdir).samples, "sample.png")
  real = data_lib.reference_points(run.config.data, reporting.SCATTER_POINTS, run.config.seed)
  of_member = f", member {run.member} of {num_members}" if num_members > 1 else ""
  reporting.save_samples_picture(out, samples, real, f"{run.spec.name}, step {run.step}{of_member}")
  written = [out]
  if npz:
    os.makedirs(os.path.dirname(os.path.abspath(npz)), exist_ok=True)
    labels = run.sample_labels(num, label)
    extra = ({} if labels is None else {"label": labels}) | ({"member": run.member} if of_member else {})
    np.savez(npz, x=samples, step=run.step, **extra)
    written.append(npz)
  return Written(written, num, run.step, _weights(run, truncation), of_member)


def _open(workdir: str, step: int | None, best: bool, say, member: int | None, truncation: float | None):
  """``(run, its member count)``: the checkpoint, one member of a many-seed run, truncated."""
  run = load_run(workdir, step, say=say, best=best)
  run = run.with_truncation(truncation) if truncation is not None else run
  num_members = run.num_members
  run = run.of_member(member or 0) if num_members > 1 or member is not None else run
  return run, num_members


def _weights(run, truncation: float | None) -> str:
  facts = run.sampler_source()
  weights = (f"{'EMA' if facts['generator'] == 'ema' else 'live'} generator weights" if "generator" in facts
             else "; ".join(str(v) for k, v in facts.items() if k not in ("member", "member_seed")))
  if truncation is not None:
    weights += f", truncation psi {truncation:g}"
  return weights


def write_style_mixing(workdir: str, rows: int = 4, cols: int = 6, mix_at: int = styles.COARSE_LAYERS,
                       out: str | None = None, seed: int = 0, step: int | None = None, best: bool = False,
                       say=reporting.say, member: int | None = None, truncation: float | None = None) -> Written:
  """A style-mixing grid (:func:`jaxgan.styles.mixing_grid`) of the run in ``workdir`` at
  ``out`` (default ``WORKDIR/samples/style_mixing.png``)."""
  run, num_members = _open(workdir, step, best, say, member, truncation)
  grid = styles.mixing_grid(run, rows, cols, mix_at, seed)
  out = out or os.path.join(Workdir(workdir).samples, "style_mixing.png")
  reporting.save_image_grid(out, grid, columns=cols + 1)
  of_member = f", member {run.member} of {num_members}" if num_members > 1 else ""
  return Written([out], rows * cols, run.step,
                 _weights(run, truncation) + f", styles below layer {mix_at} from the left column", of_member)


def write_truncation_sweep(workdir: str, psis: list[float], num: int = 8, out: str | None = None, seed: int = 0,
                           step: int | None = None, best: bool = False, say=reporting.say,
                           member: int | None = None) -> Written:
  """A truncation sweep (:func:`jaxgan.styles.truncation_sweep`): ``num`` latents of
  ``seed`` as rows, one column per psi, at ``out`` (default ``WORKDIR/samples/truncation_sweep.png``)."""
  run, num_members = _open(workdir, step, best, say, member, None)
  grid = styles.truncation_sweep(run, num, psis, seed)
  out = out or os.path.join(Workdir(workdir).samples, "truncation_sweep.png")
  reporting.save_image_grid(out, grid, columns=len(psis))
  of_member = f", member {run.member} of {num_members}" if num_members > 1 else ""
  return Written([out], len(grid), run.step,
                 _weights(run, None) + ", truncation psi " + ", ".join(f"{p:g}" for p in psis) + " by column",
                 of_member)
