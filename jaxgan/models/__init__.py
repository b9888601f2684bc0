"""Generators and discriminators by name.

Every generator is called ``G(z [B, latent], labels [B] | None, train) -> x [B, *shape]`` and
every discriminator ``D(x [B, *shape], labels [B] | None, train) -> logits [B]``; the
``labels`` argument is reserved for class-conditional variants.
"""

from __future__ import annotations

from typing import Callable

import flax.linen as nn
import ml_collections

from jaxgan.errors import ConfigError
from jaxgan.data import DataSpec
from jaxgan.models.dcgan import DCGANDiscriminator, DCGANGenerator, base_and_depth
from jaxgan.models.mlp import MLPDiscriminator, MLPGenerator
from jaxgan.registry import Registry

Factory = Callable[[ml_collections.ConfigDict, DataSpec], nn.Module]

GENERATORS: Registry[Factory] = Registry("generator")
DISCRIMINATORS: Registry[Factory] = Registry("discriminator")


def _require_kind(name: str, spec: DataSpec, kind: str) -> None:
  if spec.kind != kind:
    raise ConfigError(f"model {name!r} needs {kind} data, but data set {spec.name!r} is "
                     f"{spec.kind} data of shape {spec.shape}.")


def _dcgan_resolution(spec: DataSpec) -> int:
  _require_kind("dcgan", spec, "image")
  height, width, _ = spec.shape
  if height != width:
    raise ConfigError(f"DCGAN needs square images, got {height}x{width}")
  base_and_depth(height)  # raises a clear error for unsupported resolutions
  return height


@GENERATORS.register("dcgan")
def _dcgan_g(cfg: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  return DCGANGenerator(resolution=_dcgan_resolution(spec), channels=spec.shape[-1], width=cfg.g_width)


@DISCRIMINATORS.register("dcgan")
def _dcgan_d(cfg: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  return DCGANDiscriminator(resolution=_dcgan_resolution(spec), width=cfg.d_width,
                            use_batchnorm=cfg.d_batchnorm, spectral_norm=cfg.d_spectral_norm)


@GENERATORS.register("mlp")
def _mlp_g(cfg: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  _require_kind("mlp", spec, "points")
  return MLPGenerator(out_dim=spec.shape[0], width=cfg.g_width, depth=cfg.mlp_depth)


@DISCRIMINATORS.register("mlp")
def _mlp_d(cfg: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  _require_kind("mlp", spec, "points")
  return MLPDiscriminator(width=cfg.d_width, depth=cfg.mlp_depth, spectral_norm=cfg.d_spectral_norm)


def build_generator(model_config: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  return GENERATORS.get(model_config.generator)(model_config, spec)


def build_discriminator(model_config: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  return DISCRIMINATORS.get(model_config.discriminator)(model_config, spec)
