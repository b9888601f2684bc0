"""Types shared by every layer (data sets, models, methods, metrics); imports nothing heavy."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class DataSpec:
  """What a model needs to know about the data.

  Attributes:
    name: registry name of the data set.
    shape: shape of one example, e.g. ``(16, 16, 1)`` for images or ``(2,)`` for points.
    num_classes: number of label values (0 when unlabelled).
    kind: ``'image'`` (values in [-1, 1]) or ``'points'`` (2D coordinates).
  """
  name: str
  shape: tuple[int, ...]
  num_classes: int
  kind: str
