"""Regression guards for the training loop's efficiency: the step is traced (and so
compiled) once for a whole run, and metrics come to the host only at log steps."""

import pytest

import dataclasses

from jaxgan import parallel
from jaxgan import trainer as train_lib
from jaxgan.methods import METHODS

from conftest import tiny_dcgan_config, toy_config


@pytest.mark.parametrize("make_config, per_dispatch", [(toy_config, 1), (tiny_dcgan_config, 1), (toy_config, 4)])
def test_one_trace_for_many_steps_and_host_fetches_only_at_log_steps(make_config, per_dispatch, tmp_path,
                                                                      monkeypatch):
  config = make_config(steps=12, steps_per_dispatch=per_dispatch)
  config.log.every, config.checkpoint.every, config.log.sample_every = 4, 100, 0
  config.log.tensorboard = False
  traces, fetches = [], []
  gan_method = METHODS.get("gan")
  make_step, unreplicate = gan_method.make_step, parallel.unreplicate

  def counting_make_train_step(gan, per_device):
    step = make_step(gan, per_device)

    def traced(state, batch):  # runs only while jax traces the step
      traces.append(1)
      return step(state, batch)
    return traced

  def counting_unreplicate(tree):
    fetches.append(sorted(tree) if isinstance(tree, dict) else type(tree).__name__)
    return unreplicate(tree)

  monkeypatch.setitem(METHODS._items, "gan", dataclasses.replace(gan_method, make_step=counting_make_train_step))
  monkeypatch.setattr(parallel, "unreplicate", counting_unreplicate)
  result = train_lib.train_and_evaluate(config, str(tmp_path))
  assert result.step == 12
  assert len(traces) == 1, f"the train step was traced {len(traces)} times in 12 steps"
  metric_fetches = [f for f in fetches if isinstance(f, list)]
  assert len(metric_fetches) == 3  # steps 4, 8, 12 of 12 with log.every=4
  assert fetches.count("GANState") == 2  # the final checkpoint and the returned state


def test_benchmark_reports_every_field(capsys):
  from jaxgan import speed
  config = tiny_dcgan_config(num_devices=2)
  result = speed.benchmark(config, steps=2, warmup=1)
  assert result["devices"] == 2 and result["batch_size"] == 16
  for key in ("compile_s", "steps_per_sec", "steps_per_sec_with_data", "useful_gflop_per_step",
              "matmul_gflops", "peak_host_memory_mb"):
    assert result[key] > 0, key
  assert result["xla_gflop_per_step"] >= 0  # rounded to MFLOP: 0.0 for this tiny model
  assert result["images_per_sec"] == pytest.approx(result["steps_per_sec"] * 16, rel=1e-2)
  assert 0 < result["fraction_of_matmul"] < 1
  assert (result["dtype"], result["grad_accum"], result["steps_per_dispatch"]) == ("float32", 1, 1)


def test_benchmark_suite_runs_each_case_in_its_own_process(monkeypatch, capsys):
  import json
  from jaxgan import benchmark, speed
  monkeypatch.setattr(speed, "SUITE", (
      ("tiny_ring8", "ring8_gan.py", {"train.num_devices": "1", "model.g_width": "8", "model.d_width": "8"}, 2),))
  assert benchmark.main(["--suite", "--steps", "50", "--warmup", "1"]) == 0
  results = json.loads(capsys.readouterr().out)
  assert [r["case"] for r in results] == ["tiny_ring8"]
  assert results[0]["timed_steps"] == 2 and results[0]["steps_per_sec"] > 0
  assert results[0]["overrides"]["model.g_width"] == "8"
  assert results[0]["host_allocator"] in ("glibc-reuse", "system", "preloaded", "unsupported")


def test_suite_times_a_pytorch_step_alternately_and_reports_the_ratio(monkeypatch, capsys, tmp_path):
  import json
  import sys
  from jaxgan import benchmark, speed
  # A stand-in for a PyTorch step script (same interface: [batch] [seconds] -> JSON line last),
  # run by this interpreter, so the test needs no torch.
  (tmp_path / "fake_step.py").write_text(
      "import json, sys\nprint('warming up')\n"
      "print(json.dumps({'eager_steps_per_s': 1000.0 + int(sys.argv[1]), 'seconds': float(sys.argv[2])}))\n")
  tiny = {"train.num_devices": "1", "model.g_width": "8", "model.d_width": "8"}
  monkeypatch.setattr(speed, "SUITE", (
      ("tiny_ring8", "ring8_gan.py", tiny, 2, "", "fake_step.py"),
      ("tiny_ring8_no_torch", "ring8_gan.py", tiny, 2)))
  assert benchmark.main(["--suite", "--steps", "50", "--warmup", "1", "--cases", "tiny_ring8",
                         "--torch_python", sys.executable, "--torch_steps", str(tmp_path), "--rounds", "2"]) == 0
  (row,) = json.loads(capsys.readouterr().out)
  assert row["case"] == "tiny_ring8" and row["torch_step"] == "fake_step.py"
  assert row["torch_steps_per_sec"] == 1256.0  # the case's batch went to the script
  assert len(row["rounds"]) == 2 and all(r["torch"] == 1256.0 for r in row["rounds"])
  ratios = sorted(r["jaxgan"] / r["torch"] for r in row["rounds"])
  assert row["torch_ratio"] == pytest.approx(sum(ratios) / 2, abs=1e-3)


def test_suite_refuses_unknown_cases_and_missing_pytorch_steps_before_running(monkeypatch, capsys, tmp_path):
  import sys
  from jaxgan import benchmark, speed
  ran = []
  monkeypatch.setattr(speed, "_in_fresh_process", lambda *a: ran.append(a) or {})
  monkeypatch.setattr(speed, "SUITE", (("tiny", "ring8_gan.py", {}, 2, "", "no_such_step.py"),))
  assert benchmark.main(["--suite", "--cases", "tiny,huge"]) == 2
  assert "unknown suite case(s) ['huge']" in capsys.readouterr().err
  assert benchmark.main(["--suite", "--torch_python", sys.executable, "--torch_steps", str(tmp_path)]) == 2
  assert "no_such_step.py is in none of the --torch_steps folders" in capsys.readouterr().err
  assert ran == []
