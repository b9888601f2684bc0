"""Where a recipe's compiled train step spends its time on XLA:CPU, op by op, from a
``jax.profiler`` trace of real steps (not ops timed alone, which miss how XLA overlaps and
fuses them).

  python benchmarks/profile_step.py [--config configs/cifar10_sngan.py] [--steps 2] [--top 25]

Builds the recipe's step (synthetic images, batch 64, one device), runs one step to warm
up, traces ``--steps`` steps with XLA's per-thunk trace events on
(``--xla_cpu_enable_xprof_traceme``), and sums the events' durations per HLO op name and
per JAX primitive the op came from (``conv_general_dilated``, ``dot_general``,
``concatenate``, ..., "backward" when autodiff's transpose made it; read from the compiled
HLO's metadata). Prints a JSON object: the wall time per step, the summed op time per step
by primitive, and the ``--top`` ops with their layer paths. Nested events (a while loop and
the thunks inside it) count in the top list both ways; the per-primitive totals count
only the innermost (leaf) events, so they add up to the busy time of the threads.
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import re
import tempfile
import time

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")
HLO_LINE = re.compile(r'^\s*(?:ROOT )?%?([\w.\-]+) = .*?metadata=\{op_name="([^"]*)"')


def op_names(hlo_text: str) -> dict[str, str]:
  """HLO instruction name -> the JAX op path it came from (``metadata.op_name``)."""
  return {m.group(1): m.group(2) for m in map(HLO_LINE.match, hlo_text.splitlines()) if m}


def primitive(path: str) -> str:
  """The JAX primitive at the end of an op path, with the autodiff context that made it
  (``transpose(jvp(...))`` = backward pass)."""
  last = path.rsplit("/", 1)[-1]
  return ("backward " if "transpose(" in path else "") + last


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--config", default=os.path.join(CONFIGS, "cifar10_sngan.py"))
  parser.add_argument("--steps", type=int, default=2)
  parser.add_argument("--top", type=int, default=25)
  args = parser.parse_args()
  os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=1"
                             " --xla_cpu_enable_xprof_traceme=true")
  import jax

  from jaxgan import config as config_lib
  from step_timing import compiled_step

  config = config_lib.load(args.config, {"data.name": "synthetic_images", "train.batch_size": "64",
                                         "train.num_devices": "1"})
  fn, state, batch = compiled_step(config)  # compiled and warmed up by one step
  with tempfile.TemporaryDirectory() as tmp:
    began = time.perf_counter()
    with jax.profiler.trace(tmp):
      for _ in range(args.steps):
        state, metrics = fn(state, batch)
      jax.block_until_ready((state, metrics))
    wall = (time.perf_counter() - began) / args.steps
    (path,) = glob.glob(os.path.join(tmp, "**", "*.xplane.pb"), recursive=True)
    data = jax.profiler.ProfileData.from_file(path)
  paths = op_names(fn.as_text())
  by_name = collections.Counter()
  by_kind = collections.Counter()
  for plane in data.planes:
    for line in plane.lines:
      events = sorted((e.start_ns, e.start_ns + e.duration_ns, e.name) for e in line.events if e.name in paths)
      for i, (start, end, name) in enumerate(events):
        by_name[name] += (end - start) / 1e6
        if not any(s < end and e <= end and s >= start for s, e, _ in events[i + 1:i + 50]):  # a leaf
          by_kind[primitive(paths[name])] += (end - start) / 1e6
  per = lambda v: round(v / args.steps, 1)
  print(json.dumps({
      "config": os.path.basename(args.config), "steps": args.steps, "wall_ms_per_step": round(wall * 1e3, 1),
      "note": "op times summed over XLA's threads (2 run at once), so they add up to more than the wall time",
      "leaf_op_ms_per_step_by_primitive": {k: per(v) for k, v in by_kind.most_common()},
      "top_ops_ms_per_step": [[k, per(v), paths[k]] for k, v in by_name.most_common(args.top)],
  }, indent=1))

if __name__ == "__main__":
  main()
