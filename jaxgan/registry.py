"""Name -> object registries, so variants are picked by configuration, not if-chains."""

from __future__ import annotations

import difflib
from typing import Callable, Generic, Iterator, TypeVar

from jaxgan.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
  """A named collection of interchangeable components (losses, models, data sets, ...).

  Unknown names raise a :class:`ConfigError` (a ``ValueError``) that lists every valid name and the closest match,
  so a typo in a config fails at once with the fix in the message.
  """

  def __init__(self, kind: str):
    self.kind = kind
    self._items: dict[str, T] = {}

  def register(self, name: str) -> Callable[[T], T]:
    """Decorator: ``@REGISTRY.register('name')`` adds the decorated object under ``name``."""

    def add(obj: T) -> T:
      if name in self._items:
        raise ValueError(f"{self.kind} {name!r} is registered twice")
      self._items[name] = obj
      return obj

    return add

  def get(self, name: str) -> T:
    if name not in self._items:
      close = difflib.get_close_matches(name, self._items, n=1)
      hint = f" Did you mean {close[0]!r}?" if close else ""
      raise ConfigError(
          f"Unknown {self.kind} {name!r}.{hint} Valid names: {', '.join(sorted(self._items))}."
      )
    return self._items[name]

  def names(self) -> list[str]:
    return sorted(self._items)

  def __contains__(self, name: str) -> bool:
    return name in self._items

  def __iter__(self) -> Iterator[str]:
    return iter(self.names())
