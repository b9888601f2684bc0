"""A recipe's train step with every CPU convolution as im2col (jaxgan's CPU path before the
per-shape choice of ``jaxgan.models.layers.cpu_conv2d``) vs the per-shape path, timed in
alternating rounds in one process, optionally with PyTorch eager rounds between them.

  python benchmarks/conv_paths.py [--config configs/cifar10_sngan.py] [--rounds 3] [--steps 2] \
      [--torch_python ../torchenv/bin/python --torch_step ../shared/tools/torch_reference/torch_sngan.py]

Both steps are built from the same recipe (synthetic images, batch 64, one device) and
compiled before the first round; each round times ``--steps`` steps of each, ended by
``block_until_ready``. With ``--torch_step`` each round also runs that PyTorch script (it
prints ``eager_steps_per_s`` after ~``--torch_seconds`` of steps) between the two. The
machine's speed drifts, so only figures of one round compare; the JSON gives every round
and the medians of the per-round ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--config", default=os.path.join(CONFIGS, "cifar10_sngan.py"))
  parser.add_argument("--rounds", type=int, default=3)
  parser.add_argument("--steps", type=int, default=2)
  parser.add_argument("--torch_python")
  parser.add_argument("--torch_step", help="a PyTorch step script printing eager_steps_per_s (needs --torch_python)")
  parser.add_argument("--torch_seconds", type=float, default=30.0)
  parser.add_argument("--host_allocator", help="default: the recipe's train.host_allocator")
  args = parser.parse_args()
  os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=1")
  from jaxgan import hostmem

  from jaxgan import config as config_lib
  from jaxgan.models import layers
  from jaxgan.speed import matmul_gflops

  config = config_lib.load(args.config, {"data.name": "synthetic_images", "train.batch_size": "64",
                                         "train.num_devices": "1"})
  allocator = hostmem.apply(args.host_allocator or config.train.host_allocator)  # before XLA's threads start
  from step_timing import compiled_step, steps_per_second

  # im2col: every layer as before the per-shape choice
  steps = {"im2col": compiled_step(config, layers, {"cpu_conv2d": layers.im2col_conv2d}),
           "per_shape": compiled_step(config)}

  def rate(name):
    return steps_per_second(steps[name], args.steps)

  rounds = []
  for _ in range(args.rounds):
    r = {"im2col": rate("im2col")}
    if args.torch_step:
      out = subprocess.run([args.torch_python, args.torch_step, "64", str(args.torch_seconds)],
                           capture_output=True, text=True, check=True).stdout
      r["torch"] = json.loads(out.strip().splitlines()[-1])["eager_steps_per_s"]
    r["per_shape"] = rate("per_shape")
    r["matmul_gflops"] = matmul_gflops()
    rounds.append({k: round(v, 4) for k, v in r.items()})
    print(json.dumps(rounds[-1]), flush=True)
  summary = {"config": os.path.basename(args.config), "host_allocator": allocator,
             "steps_per_round": args.steps, "rounds": rounds,
             "median_per_shape_over_im2col": statistics.median(r["per_shape"] / r["im2col"] for r in rounds)}
  if args.torch_step:
    summary["median_per_shape_over_torch"] = statistics.median(r["per_shape"] / r["torch"] for r in rounds)
    summary["median_im2col_over_torch"] = statistics.median(r["im2col"] / r["torch"] for r in rounds)
  print(json.dumps(summary))


if __name__ == "__main__":
  main()
