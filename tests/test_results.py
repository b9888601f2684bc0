"""The results registry and python -m jaxgan.reproduce: tables as data, rows generated."""

import json
import os

from jaxgan import reproduce as reproduce_cli
from jaxgan import results

TINY = (("train.steps", "20"), ("train.batch_size", "32"), ("train.num_devices", "1"),
        ("log.sample_every", "0"), ("log.report", "false"), ("checkpoint.every", "20"))


def test_markdown_rows_and_means():
  table = results.TABLES.get("ring8")
  rows = [{"recipe": "ring8_gan", "overrides": {}, "seed": s, "modes_captured": m, "high_quality_share": q,
           "reverse_kl": k} for s, m, q, k in ((0, 3, 0.92, 1.0), (1, 4, 0.5, float("inf")), (2, 5, 0.6, 0.5))]
  text = results.markdown(table, rows)
  assert "| `ring8_gan` | 1 | 4 | 50.0% | inf |" in text
  assert "| `ring8_gan` | mean | 4.0 | 67.3% | - |" in text  # reverse KL: no mean over an infinite one


def test_reproduce_trains_what_is_missing_and_writes_the_table(tmp_path, monkeypatch, capsys):
  tiny = results.Table("tiny ring8", (results.Entry("`ring8_gan`", "ring8_gan", TINY, seeds=(0, 1)),),
                       "modes", results.MODE_COLUMNS, num_samples=500)
  monkeypatch.setitem(results.TABLES._items, "tiny", tiny)
  root, out = str(tmp_path / "runs"), str(tmp_path / "out")
  assert reproduce_cli.main(["--table", "tiny", "--root", root, "--out", out]) == 0
  first = json.load(open(os.path.join(out, "tiny.json")))
  assert [r["seed"] for r in first["rows"]] == [0, 1] and first["commit"] and first["protocol"] == ""
  assert "| `ring8_gan` | mean |" in open(os.path.join(out, "tiny.md")).read()
  capsys.readouterr()
  # Again: nothing is trained (the runs are complete), the same figures come out.
  assert reproduce_cli.main(["--table", "tiny", "--root", root, "--out", out]) == 0
  assert "nothing to do" in capsys.readouterr().out
  again = json.load(open(os.path.join(out, "tiny.json")))
  assert [r["modes_captured"] for r in again["rows"]] == [r["modes_captured"] for r in first["rows"]]
  assert reproduce_cli.main(["--table", "nosuch"]) == 2


def test_every_table_names_its_recipes_for_the_drift_check():
  for name in results.TABLES:
    for recipe in results.TABLES.get(name).recipes():
      assert name in results.tables_using(recipe)


def test_a_stopped_run_stops_the_reproduction(tmp_path, monkeypatch):
  import pytest
  from jaxgan import api
  from jaxgan.errors import JaxganError

  class Stopped:
    step = 7

  monkeypatch.setattr(api, "train", lambda config, workdir: Stopped())
  entry = results.Entry("`ring8_gan`", "ring8_gan", TINY)
  with pytest.raises(JaxganError, match="stopped at step 7 of 20; rerun the same command to resume"):
    results.run_entry(results.TABLES.get("ring8"), entry, 0, str(tmp_path))
