"""Shared shell of jaxgan's command-line tools: user errors become one line and exit code 2."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable

from jaxgan.errors import JaxganError


def run_json(body: Callable[[], Any]) -> int:
  """Runs ``body``; prints its result as JSON (exit 0) or a user error as ``error: ...`` (exit 2)."""
  try:
    result = body()
  except (JaxganError, ValueError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  print(json.dumps(result, indent=2))
  return 0
