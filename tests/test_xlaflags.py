"""jaxgan's XLA:CPU setting: Eigen convolutions instead of YNNPACK's, added to XLA_FLAGS at import."""

import jax
import jax.numpy as jnp

from jaxgan import xlaflags
from jaxgan.models import layers

FLAG = xlaflags.CPU_FLAGS[0]


def test_the_test_process_runs_with_the_flag_and_convolutions_leave_ynnpack():
  # conftest imports jaxgan before JAX's backend starts, as the commands do.
  assert FLAG in xlaflags.in_effect()
  x, w = jnp.zeros((2, 8, 8, 64)), jnp.zeros((3, 3, 64, 32))
  hlo = jax.jit(lambda x, w: layers.plain_conv2d(x, w, (1, 1), "SAME")).lower(x, w).compile().as_text()
  assert "convolution(" in hlo and "__ynn_fusion" not in hlo


def test_apply_adds_the_flag_once_and_leaves_the_users_choice(monkeypatch):
  monkeypatch.setattr(xlaflags, "_jaxlib_version", lambda: xlaflags.VERIFIED_JAXLIB[0])
  monkeypatch.setattr(xlaflags, "_accelerator_installed", lambda: False)
  env = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
  assert xlaflags.apply(env) == (FLAG,)
  assert env["XLA_FLAGS"] == f"--xla_force_host_platform_device_count=2 {FLAG}"
  assert xlaflags.apply(env) == () and env["XLA_FLAGS"].count("ynn_fusion_type") == 1
  own = {"XLA_FLAGS": "--xla_cpu_experimental_ynn_fusion_type=individual_dot"}
  assert xlaflags.apply(own) == () and own["XLA_FLAGS"] == "--xla_cpu_experimental_ynn_fusion_type=individual_dot"
  empty = {}
  assert xlaflags.apply(empty) == (FLAG,) and empty["XLA_FLAGS"] == FLAG


def test_apply_adds_nothing_when_opted_out_or_on_an_unverified_jaxlib(monkeypatch):
  monkeypatch.setattr(xlaflags, "_jaxlib_version", lambda: xlaflags.VERIFIED_JAXLIB[0])
  env = {"JAXGAN_XLA_FLAGS": "none"}
  assert xlaflags.apply(env) == () and "XLA_FLAGS" not in env
  monkeypatch.setattr(xlaflags, "_accelerator_installed", lambda: True)  # a TPU/GPU machine
  env = {}
  assert xlaflags.apply(env) == () and env == {}
  env = {"JAX_PLATFORMS": "cpu"}  # ... told to run on its CPU
  assert xlaflags.apply(env) == (FLAG,)
  monkeypatch.setattr(xlaflags, "_accelerator_installed", lambda: False)
  monkeypatch.setattr(xlaflags, "_jaxlib_version", lambda: "99.0.0")  # XLA would abort on an unknown flag
  env = {}
  assert xlaflags.apply(env) == () and env == {}
