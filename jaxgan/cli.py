"""The shared shell of jaxgan's commands: flags in, one library call, and one error handler.

A user error (:class:`jaxgan.errors.JaxganError`, a bad value, a file that cannot be read
or written) becomes one line ``error: ...`` on stderr and exit code 2; anything else is a
bug and keeps its traceback. Every command (``train``, ``sample``, ``evaluate``,
``benchmark``, ``classifier``, ``data``, ``weights``, ``export``, ``report``) runs through
:func:`run`.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Callable

from jaxgan.errors import JaxganError

USER_ERRORS = (JaxganError, ValueError, OSError)
USER_ERROR_EXIT = 2


def run(body: Callable[[], Any], show: Callable[[Any], int | None] = lambda result: None) -> int:
  """Runs ``body()``, then ``show(result)``; returns the exit code: what ``show`` returns
  (0 if nothing), or 2 on a user error."""
  try:
    result = body()
  except USER_ERRORS as e:
    print(f"error: {e}", file=sys.stderr)
    return USER_ERROR_EXIT
  return show(result) or 0


def print_json(result: Any) -> None:
  print(json.dumps(result, indent=2))


def argv_or_sys(argv: list[str] | None) -> list[str]:
  return sys.argv[1:] if argv is None else argv
