"""The import graph of the ``jaxgan`` package: ``python benchmarks/import_graph.py [ROOT]``.

Reads every module's top-level and in-function ``import`` statements with :mod:`ast` (no
code is run) and prints, as JSON: the number of modules, the longest import chain (depth
= modules on it, over top-level imports), any cycle, the imports hidden inside function
bodies, imports of command modules by library code, and imports that point up the
layers (commands -> library -> parts -> base, :func:`layer`).
``tests/test_import_graph.py`` asserts the last four are empty.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import sys

# Modules run as commands (``python -m``): flag parsing plus one library call each.
COMMANDS = ("jaxgan.train", "jaxgan.sample", "jaxgan.evaluate", "jaxgan.benchmark",
            "jaxgan.classifier", "jaxgan.data.__main__", "jaxgan.weights", "jaxgan.export",
            "jaxgan.report", "jaxgan.reproduce")
# The layers, top to bottom: a module may import its own layer or those below, never above.
# Anything not listed is a part (models, data sets, losses, extractors, ...).
LIBRARY = ("jaxgan.api", "jaxgan.results", "jaxgan.exporting", "jaxgan.reports", "jaxgan.trainer", "jaxgan.run", "jaxgan.speed", "jaxgan.sampling", "jaxgan.styles", "jaxgan.methods",
           "jaxgan.gan", "jaxgan.vae", "jaxgan.pixelcnn", "jaxgan.step", "jaxgan.state", "jaxgan.config", "jaxgan.metrics.evaluators",
           "jaxgan.metrics.periodic", "jaxgan.metrics.classifier", "jaxgan.data.tools", "jaxgan")
BASE = ("jaxgan.errors", "jaxgan.registry", "jaxgan.spec", "jaxgan.workdir", "jaxgan.parallel",
        "jaxgan.latents", "jaxgan.method", "jaxgan.cli", "jaxgan.xlaflags")
LAYER_NAMES = ("base", "parts", "library", "commands")


def layer(module: str) -> int:
  """0 base, 1 parts, 2 library, 3 commands."""
  if module in COMMANDS:
    return 3
  if module in LIBRARY:
    return 2
  return 0 if module in BASE else 1


def module_name(root: str, path: str) -> str:
  rel = os.path.relpath(path, root)[:-3].replace(os.sep, ".")
  return rel[:-len(".__init__")] if rel.endswith(".__init__") else rel


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
  if not node.level:
    return node.module or ""
  parts = module.split(".")
  base = parts if is_package else parts[:-1]
  base = base[:len(base) - node.level + 1]
  return ".".join(base + ([node.module] if node.module else []))


def read_graph(root: str) -> tuple[dict[str, set[str]], list[tuple[str, str]]]:
  """``(module -> jaxgan modules it imports, [(module, import hidden in a function)])``."""
  files = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(root, "jaxgan")) for f in fs
           if f.endswith(".py")]
  modules = {module_name(root, p): p for p in files}
  graph: dict[str, set[str]] = {m: set() for m in modules}
  hidden = []
  for module, path in modules.items():
    with open(path) as f:
      tree = ast.parse(f.read())
    in_function = set()
    for fn in ast.walk(tree):
      if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        in_function.update(id(n) for n in ast.walk(fn) if n is not fn)
    for node in ast.walk(tree):
      targets = []
      if isinstance(node, ast.Import):
        targets = [a.name for a in node.names]
      elif isinstance(node, ast.ImportFrom):
        base = _resolve(module, node, path.endswith("__init__.py"))
        targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
      for target in targets:
        while target and target not in modules:
          target = target.rpartition(".")[0]
        if target and target != module:
          graph[module].add(target)
          if id(node) in in_function:
            hidden.append((module, target))
  return graph, hidden


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
  """One cycle per strongly connected component of more than one module (Tarjan)."""
  index, low, stack, on, out = {}, {}, [], set(), []
  counter = [0]

  def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in graph[v]:
      if w not in index:
        visit(w)
        low[v] = min(low[v], low[w])
      elif w in on:
        low[v] = min(low[v], index[w])
    if low[v] == index[v]:
      component = []
      while True:
        w = stack.pop()
        on.discard(w)
        component.append(w)
        if w == v:
          break
      if len(component) > 1:
        out.append(sorted(component))

  sys.setrecursionlimit(10_000)
  for v in graph:
    if v not in index:
      visit(v)
  return out


def depth(graph: dict[str, set[str]]) -> tuple[int, list[str]]:
  """Modules on the longest import chain (a package's ``__init__`` counts as a module)."""

  @functools.lru_cache(maxsize=None)
  def longest(v, seen=frozenset()):
    best = [v]
    for w in graph[v]:
      if w not in seen:
        chain = [v] + longest(w, seen | {v})
        if len(chain) > len(best):
          best = chain
    return best

  chain = max((longest(v) for v in graph), key=len)
  return len(chain), chain


def report(root: str) -> dict:
  graph, hidden = read_graph(root)
  found = cycles(graph)
  # The depth over top-level imports (hidden ones can close cycles, which have no depth).
  top_level = {m: {t for t in ts if (m, t) not in hidden} for m, ts in graph.items()}
  n, chain = depth(top_level) if not cycles(top_level) else (None, [])
  commands = [(m, t) for m, ts in graph.items() for t in ts if t in COMMANDS and m not in COMMANDS]
  upward = [f"{m} ({LAYER_NAMES[layer(m)]}) -> {t} ({LAYER_NAMES[layer(t)]})"
            for m, ts in sorted(graph.items()) for t in sorted(ts) if layer(t) > layer(m)]
  return {"modules": len(graph), "depth": n, "longest_chain": chain, "cycles": found,
          "hidden_imports": hidden, "library_imports_command": commands, "upward_imports": upward}


if __name__ == "__main__":
  print(json.dumps(report(sys.argv[1] if len(sys.argv) > 1 else "."), indent=2))
