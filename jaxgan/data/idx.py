"""Reader for the IDX format of MNIST and Fashion-MNIST (LeCun et al. 1998).

A file is a big-endian header -- magic ``0x0000TTNN`` where ``TT`` is the element type
(``0x08`` = uint8) and ``NN`` the number of dimensions, then ``NN`` int32 sizes -- followed
by the data. Images files have magic 2051 (3 dims), label files 2049 (1 dim). Files may be
gzip-compressed (``.gz``, as distributed) or plain.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049


class IdxError(ValueError):
  """An IDX file is missing, truncated or not the kind of file expected."""


def read_idx(path: str, expected_magic: int) -> np.ndarray:
  """Reads an IDX file of uint8 data.

  Args:
    path: ``.gz`` or plain IDX file.
    expected_magic: :data:`IMAGES_MAGIC` (returns ``[N, rows, cols]``) or
      :data:`LABELS_MAGIC` (returns ``[N]``).

  Raises:
    IdxError: with the path and what is wrong (wrong magic, truncated, bad gzip).
  """
  if not os.path.isfile(path):
    raise IdxError(f"{path}: file not found")
  try:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
      raw = f.read()
  except (OSError, EOFError, zlib.error) as e:
    raise IdxError(f"{path}: cannot be read as {'gzip' if path.endswith('.gz') else 'IDX'} "
                   f"({e}); the file is corrupt or truncated, fetch it again") from e
  if len(raw) < 4:
    raise IdxError(f"{path}: only {len(raw)} bytes, not an IDX file")
  (magic,) = struct.unpack(">i", raw[:4])
  if magic != expected_magic:
    kind = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}[expected_magic]
    raise IdxError(f"{path}: IDX magic number {magic}, expected {expected_magic} for an "
                   f"{kind} file; is this the right file?")
  ndim = magic & 0xFF
  header = 4 + 4 * ndim
  if len(raw) < header:
    raise IdxError(f"{path}: truncated header")
  dims = struct.unpack(f">{ndim}i", raw[4:header])
  expected = int(np.prod(dims))
  if len(raw) - header != expected:
    raise IdxError(f"{path}: header says {dims} = {expected} bytes of data, file has "
                   f"{len(raw) - header}; the file is truncated or corrupt, fetch it again")
  return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def write_idx(path: str, array: np.ndarray) -> None:
  """Writes uint8 ``array`` (1 or 3 dims) as IDX, gzip-compressed if ``path`` ends in ``.gz``."""
  array = np.asarray(array, dtype=np.uint8)
  magic = {1: LABELS_MAGIC, 3: IMAGES_MAGIC}[array.ndim]
  payload = struct.pack(">i", magic) + struct.pack(f">{array.ndim}i", *array.shape) + array.tobytes()
  opener = gzip.open if path.endswith(".gz") else open
  with opener(path, "wb") as f:
    f.write(payload)
