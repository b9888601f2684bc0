"""jaxgan.hostmem: names are checked, and 'reuse' makes freed host memory reusable."""

import json
import os
import platform
import subprocess
import sys

import pytest

from jaxgan import config as config_lib
from jaxgan import hostmem
from jaxgan.errors import ConfigError

from conftest import REPO

glibc = pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                           reason="needs Linux with glibc")

# Applies a setting, then allocates, touches and frees a 64 MB block 6 times and prints
# the minor page faults that took.
PROBE = """
import ctypes, json, resource, sys
from jaxgan import hostmem
result = hostmem.apply(sys.argv[1])
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
size = 64 << 20
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(6):
  block = libc.malloc(size)
  ctypes.memset(block, 1, size)
  libc.free(block)
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({"result": result, "faults": faults, "pages": size // 4096}))
"""


def probe(name):
  env = dict(os.environ)
  env.pop("LD_PRELOAD", None)
  out = subprocess.run([sys.executable, "-c", PROBE, name], env=env, capture_output=True, text=True,
                       check=True)
  return json.loads(out.stdout.strip().splitlines()[-1])


@glibc
def test_reuse_keeps_freed_blocks_where_the_default_faults_them_in_again():
  reuse, system = probe("reuse"), probe("system")
  assert reuse["result"] == "glibc-reuse" and system["result"] == "system"
  # Reused: the block's pages fault in once. glibc's default: a fresh mmap each time.
  assert reuse["faults"] < 2 * reuse["pages"], reuse
  assert system["faults"] > 5 * system["pages"], system


def test_unknown_name_fails_at_config_time_listing_the_valid_ones():
  with pytest.raises(ConfigError, match="Unknown train.host_allocator 'reus'. Did you mean 'reuse'.*"
                                        "Valid names: reuse, system"):
    config_lib.load(os.path.join(REPO, "configs", "ring8_gan.py"), {"train.host_allocator": "reus"})


def test_a_preloaded_allocator_is_left_alone(monkeypatch):
  monkeypatch.setenv("LD_PRELOAD", "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4")
  assert hostmem.apply("reuse") == "preloaded"
  assert hostmem.in_effect() == "preloaded"
  assert hostmem.apply("system") == "system"


@glibc
def test_train_cli_applies_the_configured_allocator(tmp_path):
  env = dict(os.environ, XLA_FLAGS="", JAX_PLATFORMS="cpu")
  env.pop("LD_PRELOAD", None)
  done = subprocess.run(
      [sys.executable, "-m", "jaxgan.train", "--config", os.path.join(REPO, "configs", "ring8_gan.py"),
       "--workdir", str(tmp_path / "run"), "--config.train.host_allocator=reuse", "--config.train.steps=4",
       "--config.log.progress=False", "--config.log.sample_every=0", "--config.checkpoint.every=4"],
      env=env, capture_output=True, text=True, cwd=REPO)
  assert done.returncode == 0, done.stderr[-2000:]
  assert "; host allocator glibc-reuse" in done.stdout
