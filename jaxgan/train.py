"""Training: ``python -m jaxgan.train --config configs/NAME.py --workdir runs/NAME [--config.a.b=v]``.

Flags, then one call of :func:`jaxgan.trainer.train_and_evaluate`. Rerunning the same
command resumes from the newest complete checkpoint; Ctrl-C or SIGTERM saves one and exits
with 128 + the signal (130, 143), so a script can tell a stopped run from a finished one.
"""

from __future__ import annotations

import argparse
import os
import sys
import types

from jaxgan import api, cli
from jaxgan import config as config_lib
from jaxgan import hostmem
from jaxgan.trainer import train_and_evaluate


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(
      prog="python -m jaxgan.train",
      description="Train a model. Any config field can be overridden as --config.SECTION.KEY=VALUE.")
  parser.add_argument("--config", required=True, help="recipe file, e.g. configs/digits_dcgan.py, or the "
                      "name of one of jaxgan's recipes, e.g. digits_dcgan")
  parser.add_argument("--workdir", default=None,
                      help="where checkpoints, logs and samples go (default: runs/<recipe name>)")

  def body():
    rest, overrides = config_lib.parse_cli_overrides(cli.argv_or_sys(argv))
    args = parser.parse_args(rest)
    config = api.load_recipe(args.config, overrides)  # a recipe file, or the name of one of jaxgan's
    workdir = args.workdir or os.path.join("runs", os.path.splitext(os.path.basename(args.config))[0])
    hostmem.apply(config.train.host_allocator)  # before any JAX computation starts XLA's threads
    return train_and_evaluate(config, workdir)

  # A run stopped by a signal exits 128 + signal (130 Ctrl-C, 143 SIGTERM) after saving.
  return cli.run(body, lambda result: result.exit_code)


class _Command(types.ModuleType):
  """This module, callable: ``jaxgan.train(config, workdir) -> Run`` is :func:`jaxgan.api.train`,
  and ``python -m jaxgan.train`` is :func:`main`. (A package attribute named like a
  submodule is replaced by the module once it is imported; making the module itself the
  function keeps ``jaxgan.train`` one thing.)"""

  def __call__(self, config, workdir: str) -> api.Run:
    return api.train(config, workdir)


sys.modules[__name__].__class__ = _Command

if __name__ == "__main__":
  sys.exit(main())
