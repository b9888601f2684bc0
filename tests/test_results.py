"""The results registry and python -m jaxgan.reproduce: tables as data, rows generated."""

import json
import os

from jaxgan import reproduce as reproduce_cli
from jaxgan import results

TINY = (("train.steps", "20"), ("train.batch_size", "32"), ("train.num_devices", "1"),
        ("log.sample_every", "0"), ("log.report", "false"), ("checkpoint.every", "20"))


def test_markdown_rows_and_means():
  table = results.TABLES.get("ring8")
  rows = [{"recipe": "ring8_gan", "overrides": {}, "seed": s,
           "metrics": {"modes": {"modes_captured": m, "high_quality_share": q, "reverse_kl": k}}}
          for s, m, q, k in ((0, 3, 0.92, 1.0), (1, 4, 0.5, float("inf")), (2, 5, 0.6, 0.5))]
  text = results.markdown(table, rows)
  assert "| `ring8_gan` | 1 | 4 | 50.0% | inf |" in text
  assert "| `ring8_gan` | mean | 4.0 | 67.3% | - |" in text  # reverse KL: no mean over an infinite one


def test_a_many_seed_run_is_one_row_of_means_and_spreads(tmp_path, monkeypatch):
  """An entry whose recipe trains several seeds at once (train.num_seeds) is one run: its
  row shows the members' mean ± std, and names the members' seeds."""
  seeds = (("train.num_seeds", "3"),) + TINY
  tiny = results.Table("tiny", (results.Entry("`ring8_gan` x3", "ring8_gan", seeds),), ("modes",),
                       results.MODE_COLUMNS, num_samples=500)
  monkeypatch.setitem(results.TABLES._items, "tinyseeds", tiny)
  result = results.reproduce("tinyseeds", str(tmp_path / "runs"), str(tmp_path / "out"), say=lambda m: None)
  (row,) = result["rows"]
  modes = row["metrics"]["modes"]
  assert len(modes["high_quality_share_members"]) == 3 and modes["protocol"]["seeds"] == [0, 1, 2]
  share, std = modes["high_quality_share"], modes["high_quality_share_std"]
  assert f"| `ring8_gan` x3 | 0-2 (mean ± std) | {modes['modes_captured']:.1f} ± " in result["markdown"]
  assert f"{100 * share:.1f}% ± {100 * std:.1f}%" in result["markdown"]


def test_paper_tables_name_the_papers_figures_and_both_mode_rules():
  table = results.TABLES.get("grid25_paper")
  assert "paper: 24.8 / 93.6% / 0.04" in table.entries[3].label and table.entries[3].recipe == "grid25_pacgan4_paper"
  assert [c.key for c in table.columns][:2] == ["modes_captured_any", "modes_captured"]


def test_reproduce_trains_what_is_missing_and_writes_the_table(tmp_path, monkeypatch, capsys):
  tiny = results.Table("tiny ring8", (results.Entry("`ring8_gan`", "ring8_gan", TINY, seeds=(0, 1)),),
                       ("modes",), results.MODE_COLUMNS + (results.Column("wall", "train_wall_s", str, metric="run"),),
                       num_samples=500)
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
  assert [r["metrics"] for r in again["rows"]] == [r["metrics"] for r in first["rows"]]
  assert all(r["train_wall_s"] > 0 for r in again["rows"])
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


def test_columns_read_their_own_metric_of_a_row():
  table = results.TABLES.get("mnist")
  records = {f"{m}10k_test": {"metric": f"{m}10k_test", "time": "t", "headline": (), "v": i}
             for i, m in enumerate(table.metrics)}
  row = results._row(table, records, train_wall_s=3.0)
  assert [row["metrics"][m]["v"] for m in table.metrics] == list(range(len(table.metrics)))
  assert results.value(table, row, results.Column("w", "train_wall_s", str, metric="run")) == 3.0
  assert results.value(table, row, results.Column("k", "v", str, metric="kid_lenet")) == 1
  import pytest
  from jaxgan.errors import JaxganError
  with pytest.raises(JaxganError, match="asked for metrics"):
    results._row(table, dict(list(records.items())[:2]))


def test_yardstick_rows_are_judged_like_samples(tmp_path, monkeypatch):
  """A table of a run plus stored images (here: real digits and noise), judged alike; the
  images file is written once and never left half-written."""
  from jaxgan import data as data_lib
  overrides = (("train.steps", "4"), ("train.batch_size", "16"), ("train.num_devices", "1"),
               ("log.sample_every", "0"), ("log.report", "false"), ("checkpoint.every", "4"),
               ("model.g_width", "8"), ("model.d_width", "8"))
  made = []

  def real(data_config, num):
    made.append(num)
    return data_lib.load_arrays(data_config, "train")[0][:num]

  prepared = []
  table = results.Table(
      "tiny digits", (results.Images("real digits", "real", real), results.Entry("`digits_dcgan`", "digits_dcgan", overrides),
                      results.Images("noise", "noise", results._uniform_noise)),
      ("digits_classes",),
      (results.Column("classes", "classes_found", results._int), results.Column("top", "mean_top_prob", results._f3,
                                                                                metric="digits_classes")),
      num_samples=200, prepare=lambda data_config, say: prepared.append(data_config.name) or {"judge": "sklearn"})
  monkeypatch.setitem(results.TABLES._items, "tinydigits", table)
  root, out = str(tmp_path / "runs"), str(tmp_path / "out")
  result = results.reproduce("tinydigits", root, out, say=lambda m: None)
  assert prepared == ["digits"] and result["judge"] == "sklearn"
  assert [r.get("images", r.get("recipe")) for r in result["rows"]] == ["real", "digits_dcgan", "noise"]
  real_row = result["rows"][0]
  assert real_row["metrics"]["digits_classes"]["mean_top_prob"] > 0.8  # real digits look like digits
  assert result["rows"][2]["metrics"]["digits_classes"]["mean_top_prob"] < real_row["metrics"]["digits_classes"]["mean_top_prob"]
  assert "| real digits | - | 10 |" in result["markdown"]
  assert not [f for f in os.listdir(root) if "partial" in f]
  results.reproduce("tinydigits", root, out, say=lambda m: None)
  assert made == [200]  # the stored images are reused


def test_speed_table_rows_from_the_benchmark_suite(monkeypatch):
  from jaxgan import speed
  row = {"case": "c", "label": "DCGAN-32", "dtype": "float32", "batch_size": 64, "host_allocator": "system",
         "steps_per_sec": 1.6144, "images_per_sec": 103.3, "steps_per_sec_with_data": 1.7, "compile_s": 7.81,
         "useful_gflop_per_step": 96.5, "useful_gflops": 155.8, "matmul_gflops": 208.5, "fraction_of_matmul": 0.747,
         "peak_host_memory_mb": 2090.0}
  monkeypatch.setattr(speed, "run_suite", lambda steps, warmup, say: [row])
  table = results.TABLES.get("speed")
  rows, facts = table.produce("unused", say=lambda m: None)
  assert table.recipes() == set() and facts == {}
  assert "| DCGAN-32 | float32 | 64 | system | 1.614 | 103.3 | 1.700 | 7.8 s | 96.5 | 155.8 | 208.5 | 0.747 | 2.09 GB |" \
      in table.markdown(rows)


def test_a_run_trained_by_code_on_another_trajectory_is_not_reused(tmp_path, monkeypatch):
  import pytest
  from jaxgan.errors import JaxganError
  tiny = results.Table("tiny ring8", (results.Entry("`ring8_gan`", "ring8_gan", TINY),), ("modes",),
                       results.MODE_COLUMNS, num_samples=200)
  monkeypatch.setitem(results.TABLES._items, "tiny", tiny)
  monkeypatch.setattr(results, "_fingerprints", {})
  root, out = str(tmp_path / "runs"), str(tmp_path / "out")
  results.reproduce("tiny", root, out, say=lambda m: None)
  assert os.path.exists(os.path.join(results.workdir_of(root, tiny.entries[0], 0), results.FINGERPRINT_FILE))
  monkeypatch.setattr(results, "_fingerprints", {"ring8_gan": [1.0, 2.0]})  # as if the code had changed
  with pytest.raises(JaxganError, match="trajectory differs from this code's.*fresh --root"):
    results.reproduce("tiny", root, out, say=lambda m: None)


def test_plain_flax_table_rows_from_the_script_output(monkeypatch):
  import subprocess
  import types
  out = {"batch_size": 64, "steps_per_round": 5, "median_ratio": 4.71, "matmul_gflops": 207.3,
         "rounds": [{"plain_flax_steps_per_sec": 0.339, "jaxgan_steps_per_sec": 1.492, "ratio": 4.4},
                    {"plain_flax_steps_per_sec": 0.319, "jaxgan_steps_per_sec": 1.56, "ratio": 4.88}]}
  calls = []
  monkeypatch.setattr(subprocess, "run", lambda command, **kw: calls.append(command) or types.SimpleNamespace(
      returncode=0, stdout=json.dumps(out), stderr=""))
  table = results.TABLES.get("plain_flax")
  rows, _ = table.produce("unused", say=lambda m: None)
  assert os.path.exists(calls[0][1]) and calls[0][1].endswith("benchmarks/dcgan32_plain_flax.py")
  assert "| 2 x 5 | 0.339, 0.319 | 1.492, 1.560 | 4.40, 4.88 | 4.71x | 207.3 |" in table.markdown(rows)
