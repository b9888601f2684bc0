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


EXACT = RECORDED.get("machine", {}).get("identity") == results.machine_identity()


@pytest.mark.parametrize("recipe", sorted(RECORDED["recipes"]))
def test_recipe_trajectory_is_the_one_the_tables_were_measured_with(recipe):
  recorded = RECORDED["recipes"][recipe]
  now = results.fingerprint(recipe, RECORDED["steps"])
  # On a machine like the recording one, bit for bit: a change of the last bit (another
  # order of float operations) also moves a long run's figures. Elsewhere, a tolerance for
  # other CPUs' floating point (~1e-6 after ten steps); a changed trajectory (new random
  # streams, another computation) moves these by far more.
  same = results.same_trajectory(now, recorded["losses"], EXACT)
  worst = float(np.max(np.abs(np.subtract(now, recorded["losses"])) / np.maximum(np.abs(recorded["losses"]), 1e-12)))
  assert same, (
      f"{recipe}'s first {RECORDED['steps']} steps are not those recorded at commit {RECORDED['commit']} "
      f"({'bit for bit, on a machine like the recording one' if EXACT else 'to 1e-3'}; largest relative "
      f"difference {worst:.2g}; losses "
      f"{np.round(now[:4], 7).tolist()}... vs {np.round(recorded['losses'][:4], 7).tolist()}...): "
      f"re-measure the tables {recorded['tables']} (python -m jaxgan.reproduce "
      + " ".join(f"--table {t}" for t in recorded["tables"])
      + "), paste them into the README, then record the new fingerprints: python -m jaxgan.reproduce "
      "--fingerprints")
