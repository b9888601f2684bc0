"""Errors that jaxgan reports to users as a message (no traceback) from its command-line tools."""


class JaxganError(Exception):
  """Base class: something the user can fix; the message says what and how."""


class ConfigError(JaxganError, ValueError):
  """A configuration that cannot be run."""


class WorkdirError(JaxganError):
  """A workdir that cannot be written, or holds a run of another configuration."""


class CheckpointError(JaxganError):
  """No readable checkpoint where one was expected."""


class NonFiniteError(JaxganError, FloatingPointError):
  """A loss or parameter became NaN or infinite; the last good checkpoint is kept."""


class DataError(JaxganError):
  """A data set that is missing, corrupt, or does not fit the configuration."""
