"""The run report: one self-contained HTML file with every plot and picture embedded."""

import base64
import html.parser
import io
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from jaxgan import report as report_cli
from jaxgan.trainer import train_and_evaluate
from jaxgan.workdir import Workdir

from conftest import toy_config


class _Parser(html.parser.HTMLParser):
  def __init__(self):
    super().__init__()
    self.ids, self.images, self.links = [], [], []

  def handle_starttag(self, tag, attrs):
    attrs = dict(attrs)
    if "id" in attrs:
      self.ids.append(attrs["id"])
    if tag == "img":
      self.images.append(attrs["src"])
    if tag in ("link", "script") or (tag == "a" and attrs.get("href", "").startswith("http")):
      self.links.append(attrs)


def _reported_run(tmp_path):
  config = toy_config(steps=12)
  config.log.report = True
  config.log.every, config.log.sample_every, config.checkpoint.every = 2, 4, 6
  config.eval.every, config.eval.metrics, config.eval.num_samples = 6, "modes", 500
  workdir = str(tmp_path / "w")
  train_and_evaluate(config, workdir)
  return workdir


def test_training_writes_a_self_contained_report(tmp_path):
  workdir = _reported_run(tmp_path)
  text = open(Workdir(workdir).report).read()
  parser = _Parser()
  parser.feed(text)
  assert {"training", "metrics", "samples", "hardware", "config"} <= set(parser.ids)
  assert parser.links == []  # nothing to fetch: every image is embedded
  assert all(src.startswith("data:image/png;base64,") for src in parser.images)
  # 3 training curves + learning rates + the 'modes' metric over steps + 3 sample pictures
  assert len(parser.images) == 3 + 1 + 1 + 3
  for src in parser.images:
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("L"))
    assert pixels.std() > 0  # not blank
  assert "threshold_std=3.0" in text  # the metric's protocol
  assert "step 12" in text and "cpu" in text  # the timeline, the hardware table
  assert '"n_critic": 1' in text  # the resolved config
  runs = [json.loads(line) for line in open(Workdir(workdir).train_runs)]
  assert runs[-1]["end_step"] == 12 and runs[-1]["wall_s"] > 0


def test_report_command(tmp_path, capsys):
  workdir = _reported_run(tmp_path)
  out = str(tmp_path / "again.html")
  assert report_cli.main(["--workdir", workdir, "--out", out]) == 0
  assert os.path.getsize(out) > 10_000 and f"Wrote {out}" in capsys.readouterr().out
  assert report_cli.main(["--workdir", str(tmp_path / "nothing")]) == 2
  assert "holds no jaxgan run" in capsys.readouterr().err


@pytest.mark.slow
def test_report_renders_in_headless_chromium(tmp_path):
  browser = shutil.which("chromium") or shutil.which("chromium-browser")
  if browser is None:
    pytest.skip("Debian's chromium package is not installed")
  workdir = _reported_run(tmp_path)
  shot = tmp_path / "report.png"
  subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                  "--window-size=1200,2400", "file://" + os.path.abspath(Workdir(workdir).report)],
                 check=True, capture_output=True, timeout=120)
  pixels = np.asarray(Image.open(shot).convert("L"), np.float32)
  assert pixels.std() > 10 and (pixels < 128).mean() > 0.01  # drawn, not a blank page
