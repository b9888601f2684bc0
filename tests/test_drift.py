"""The drift check: the recipes behind the README's results tables still take the steps
recorded in docs/results/fingerprints.json. A change that moves one of those trajectories
fails here, naming the tables whose figures must be re-measured."""

import json
import os

import numpy as np
import pytest

from jaxgan import results

RECORDED = json.load(open(results.FINGERPRINTS)) if os.path.exists(results.FINGERPRINTS) else {"recipes": {}}


def test_every_table_recipe_has_a_fingerprint():
  assert sorted(RECORDED["recipes"]) == results.fingerprint_recipes(), (
      "record the fingerprints: python -m jaxgan.reproduce --fingerprints")


@pytest.mark.parametrize("recipe", sorted(RECORDED["recipes"]))
def test_recipe_trajectory_is_the_one_the_tables_were_measured_with(recipe):
  recorded = RECORDED["recipes"][recipe]
  now = results.fingerprint(recipe, RECORDED["steps"])
  # Tolerance for XLA:CPU's floating point on other CPUs (~1e-6 after ten steps); a
  # changed trajectory (new random streams, another computation) moves these by far more.
  assert np.allclose(now, recorded["losses"], rtol=1e-3, atol=1e-5), (
      f"{recipe}'s first {RECORDED['steps']} steps are not those recorded at commit {RECORDED['commit']} "
      f"(losses {np.round(now[:4], 5).tolist()}... vs {np.round(recorded['losses'][:4], 5).tolist()}...): "
      f"re-measure the tables {recorded['tables']} (python -m jaxgan.reproduce "
      + " ".join(f"--table {t}" for t in recorded["tables"])
      + "), paste them into the README, then record the new fingerprints: python -m jaxgan.reproduce "
      "--fingerprints")
