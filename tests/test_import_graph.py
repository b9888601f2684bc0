"""The package's structure: no import cycles, no jaxgan imports hidden in function bodies,
no library code importing a command, and every import pointing down the layers
(commands -> library -> parts -> base), as read by ``benchmarks/import_graph.py``."""

import importlib.util
import os

from conftest import REPO


def _report():
  spec = importlib.util.spec_from_file_location("import_graph", os.path.join(REPO, "benchmarks", "import_graph.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.report(REPO)


def test_import_graph_is_layered_and_acyclic():
  report = _report()
  assert report["modules"] > 40
  assert report["cycles"] == []
  assert report["hidden_imports"] == []
  assert report["library_imports_command"] == []
  assert report["upward_imports"] == []
  assert report["depth"] is not None and report["depth"] <= 17, report["longest_chain"]
