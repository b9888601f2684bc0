"""Regenerate README results tables: ``python -m jaxgan.reproduce --table ring8 [--root runs/results]``.

Flags, then one call of :func:`jaxgan.results.reproduce` per table: the runs a table needs
are trained (or resumed, or only evaluated when already trained) under ``--root``, and the
table's Markdown rows and a JSON file of its figures, with the commit they came from, are
written to ``docs/results/<table>.{md,json}`` (``--out`` to write elsewhere).
``--fingerprints`` records the drift check's fingerprints of the tables' recipes
(``docs/results/fingerprints.json``, checked by ``tests/test_drift.py``).
"""

from __future__ import annotations

import argparse
import sys

from jaxgan import cli, reporting
from jaxgan.results import FINGERPRINTS, RESULTS_DIR, TABLES, check_table_names, reproduce, write_fingerprints


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m jaxgan.reproduce", description=__doc__.splitlines()[0])
  what = parser.add_mutually_exclusive_group(required=True)
  what.add_argument("--table", action="append", help=f"a table: {', '.join(TABLES.names())} (repeatable)")
  what.add_argument("--all", action="store_true", help="every table")
  what.add_argument("--fingerprints", action="store_true",
                    help="record the drift-check fingerprints of the tables' recipes (after re-measuring)")
  parser.add_argument("--root", default="runs/results", help="where the runs' workdirs go (reused)")
  parser.add_argument("--out", default=RESULTS_DIR, help="where <table>.md and <table>.json go")
  args = parser.parse_args(cli.argv_or_sys(argv))

  def body():
    if args.fingerprints:
      written = write_fingerprints()
      return [{"title": "fingerprints", "commit": written["commit"], "date": written["date"],
               "markdown": f"wrote {FINGERPRINTS} ({len(written['recipes'])} recipes)\n"}]
    names = check_table_names(TABLES.names() if args.all else args.table)
    return [reproduce(name, args.root, args.out, say=reporting.say) for name in names]

  def show(results):
    for result in results:
      print(f"## {result['title']} (commit {result['commit']}, {result['date']})\n\n{result['markdown']}")

  return cli.run(body, show)


if __name__ == "__main__":
  sys.exit(main())
