"""The run report: ``python -m jaxgan.report --workdir runs/digits [--out report.html]``.

Flags, then one call of :func:`jaxgan.reports.write_report`: one self-contained HTML file
(training curves, learning rates, metrics over steps with their protocols, the sample
timeline, the config, hardware and wall time), also written after every training.
"""

from __future__ import annotations

import argparse
import os
import sys

from jaxgan import cli
from jaxgan.errors import WorkdirError
from jaxgan.reports import write_report
from jaxgan.workdir import Workdir


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m jaxgan.report", description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--out", default=None, help="HTML file to write (default: WORKDIR/report.html)")
  args = parser.parse_args(cli.argv_or_sys(argv))

  def body():
    if not os.path.exists(Workdir(args.workdir).config):
      raise WorkdirError(f"{args.workdir!r} holds no jaxgan run (config.json is missing).")
    return write_report(args.workdir, args.out)

  return cli.run(body, lambda path: print(f"Wrote {path}"))


if __name__ == "__main__":
  sys.exit(main())
