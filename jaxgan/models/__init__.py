"""Generators and discriminators by name.

Every generator is called ``G(z [B, latent], labels [B] | None, train) -> x [B, *shape]`` and
every discriminator ``D(x [B, *shape], labels [B] | None, train) -> logits [B]`` (or
``(logits [B], class_logits [B, K])`` with an AC-GAN head). ``labels`` is used by
class-conditional models (``model.g_conditioning`` / ``model.d_conditioning``, see
:mod:`jaxgan.models.conditioning`) and ignored otherwise.
"""

from __future__ import annotations

from typing import Callable

import flax.linen as nn
import ml_collections

from jaxgan.errors import ConfigError
from jaxgan.spec import DataSpec
from jaxgan.models import conditioning, resnet
from jaxgan.models.blocks import MINIBATCH, check_attention_res
from jaxgan.models.dcgan import DCGANDiscriminator, DCGANGenerator, base_and_depth, feature_sizes
from jaxgan.models.mlp import MLPDiscriminator, MLPGenerator
from jaxgan.registry import Registry

Factory = Callable[[ml_collections.ConfigDict, DataSpec], nn.Module]

GENERATORS: Registry[Factory] = Registry("generator")
DISCRIMINATORS: Registry[Factory] = Registry("discriminator")
# Generators with BatchNorm layers (those conditional BatchNorm can replace).
GENERATORS_WITH_NORM = ("dcgan", "resnet")


def _require_kind(name: str, spec: DataSpec, kind: str) -> None:
  if spec.kind != kind:
    raise ConfigError(f"model {name!r} needs {kind} data, but data set {spec.name!r} is "
                     f"{spec.kind} data of shape {spec.shape}.")


def _square_resolution(name: str, spec: DataSpec) -> int:
  _require_kind(name, spec, "image")
  height, width, _ = spec.shape
  if height != width:
    raise ConfigError(f"{name} needs square images, got {height}x{width}")
  return height


def _dcgan_resolution(spec: DataSpec) -> int:
  resolution = _square_resolution("dcgan", spec)
  base_and_depth(resolution)  # raises a clear error for unsupported resolutions
  return resolution


def _conditioning(cfg: ml_collections.ConfigDict, spec: DataSpec, side: str) -> dict:
  """Module fields for class conditioning of one side (``'g'`` or ``'d'``)."""
  name = cfg[f"{side}_conditioning"]
  return {"conditioning": name, "num_classes": spec.num_classes if name != "none" else 0}


def _no_attention(cfg: ml_collections.ConfigDict, model: str) -> None:
  if cfg.attention_res:
    raise ConfigError(f"model.attention_res={cfg.attention_res}: the {model} model has no "
                      "feature maps; self-attention needs an image model (dcgan, resnet).")


@GENERATORS.register("dcgan")
def _dcgan_g(cfg: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  resolution = _dcgan_resolution(spec)
  check_attention_res(cfg.attention_res, feature_sizes(resolution)[:-1], "DCGAN generator")
  return DCGANGenerator(resolution=resolution, channels=spec.shape[-1], width=cfg.g_width,
                        attention_res=cfg.attention_res, spectral_norm=cfg.g_spectral_norm,
                        **_conditioning(cfg, spec, "g"))


@DISCRIMINATORS.register("dcgan")
def _dcgan_d(cfg: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  resolution = _dcgan_resolution(spec)
  check_attention_res(cfg.attention_res, feature_sizes(resolution)[1:-1], "DCGAN discriminator")
  return DCGANDiscriminator(resolution=resolution, width=cfg.d_width, use_batchnorm=cfg.d_batchnorm,
                            spectral_norm=cfg.d_spectral_norm, attention_res=cfg.attention_res,
                            minibatch=cfg.d_minibatch, **_conditioning(cfg, spec, "d"))


@GENERATORS.register("resnet")
def _resnet_g(cfg: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  resolution = _square_resolution("resnet", spec)
  check_attention_res(cfg.attention_res, resnet.generator_sizes(resolution), "ResNet generator")
  return resnet.ResNetGenerator(resolution=resolution, channels=spec.shape[-1], width=cfg.g_width,
                                attention_res=cfg.attention_res, spectral_norm=cfg.g_spectral_norm,
                                **_conditioning(cfg, spec, "g"))


@DISCRIMINATORS.register("resnet")
def _resnet_d(cfg: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  resolution = _square_resolution("resnet", spec)
  resnet.resnet_base_and_depth(resolution)
  check_attention_res(cfg.attention_res, resnet.discriminator_sizes(resolution), "ResNet discriminator")
  return resnet.ResNetDiscriminator(resolution=resolution, width=cfg.d_width, spectral_norm=cfg.d_spectral_norm,
                                    attention_res=cfg.attention_res, minibatch=cfg.d_minibatch,
                                    **_conditioning(cfg, spec, "d"))


@GENERATORS.register("mlp")
def _mlp_g(cfg: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  _require_kind("mlp", spec, "points")
  _no_attention(cfg, "mlp")
  return MLPGenerator(out_dim=spec.shape[0], width=cfg.g_width, depth=cfg.mlp_depth,
                      batchnorm=cfg.mlp_g_batchnorm, init_std=cfg.mlp_init_std,
                      **_conditioning(cfg, spec, "g"))


@DISCRIMINATORS.register("mlp")
def _mlp_d(cfg: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  _require_kind("mlp", spec, "points")
  _no_attention(cfg, "mlp")
  return MLPDiscriminator(width=cfg.d_width, depth=cfg.mlp_depth, spectral_norm=cfg.d_spectral_norm,
                          minibatch=cfg.d_minibatch, maxout=cfg.mlp_d_maxout, init_std=cfg.mlp_init_std,
                          **_conditioning(cfg, spec, "d"))


def build_generator(model_config: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  """The generator named ``model.generator``, after checking the conditioning choices."""
  factory = GENERATORS.get(model_config.generator)
  conditioning.check(model_config, spec, model_config.generator in GENERATORS_WITH_NORM)
  return factory(model_config, spec)


def build_discriminator(model_config: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  """The discriminator named ``model.discriminator`` (its minibatch layer checked by name)."""
  factory = DISCRIMINATORS.get(model_config.discriminator)
  MINIBATCH.get(model_config.d_minibatch)
  conditioning.check(model_config, spec, model_config.generator in GENERATORS_WITH_NORM)
  return factory(model_config, spec)
