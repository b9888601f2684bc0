"""Quality bars of the README's jobs (slow: full trainings). Run with ``pytest -m slow``."""

import os
import subprocess
import sys
import time

import pytest

from jaxgan.metrics.evaluators import evaluate

from conftest import REPO

pytestmark = pytest.mark.slow


def _train(recipe, workdir, *overrides):
  env = dict(os.environ, XLA_FLAGS="", JAX_PLATFORMS="cpu")  # one device, as a user runs it
  began = time.perf_counter()
  subprocess.run([sys.executable, "-m", "jaxgan.train", "--config", os.path.join(REPO, "configs", recipe),
                  "--workdir", workdir, "--config.log.progress=false", *overrides],
                 check=True, env=env, cwd=REPO, timeout=900)
  return time.perf_counter() - began


def test_digits_main_job_is_fast_and_makes_recognisable_digits(tmp_path):
  workdir = str(tmp_path / "digits")
  seconds = _train("digits_dcgan.py", workdir)
  assert seconds <= 180, f"the README's main job took {seconds:.0f}s (> 3 minutes)"
  r = evaluate(workdir, ["digits_classes"], num_samples=1000)["digits_classes"]
  assert r["classes_found"] == 10, r
  assert r["max_class_share"] <= 0.25, r
  assert r["mean_top_prob"] >= 0.8, r


def test_ring8_plain_gan_report(tmp_path):
  workdir = str(tmp_path / "ring8")
  _train("ring8_gan.py", workdir)
  r = evaluate(workdir, ["modes"])["modes"]
  print("ring8 non-saturating MLP GAN:", {k: r[k] for k in ("modes_captured", "high_quality_share")})
  assert 1 <= r["modes_captured"] <= 8
