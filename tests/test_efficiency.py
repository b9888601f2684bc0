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
