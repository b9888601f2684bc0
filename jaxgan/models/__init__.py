"""Generators and discriminators by name, each entry carrying its own facts.

Every generator is called ``G(z [B, latent], labels [B] | None, train) -> x [B, *shape]`` and
every discriminator ``D(x [B, *shape], labels [B] | None, train) -> logits [B]`` (or
``(logits [B], class_logits [B, K])`` with an AC-GAN head). ``labels`` is used by
class-conditional models (``model.g_conditioning`` / ``model.d_conditioning``, see
:mod:`jaxgan.models.conditioning`) and ignored otherwise.

A :class:`Network` entry says which data kinds the module accepts, whether it has
BatchNorm layers, and which of its fields are the architecture's own options: those are
set from the config sub-section ``config.model.<section>`` (big_vision style: keyword
arguments of the module, checked against its fields), with the module's own defaults,
e.g. ``config.model.mlp.depth`` or ``config.model.dcgan.use_batchnorm``. The shared keys
(``model.latent_dim``, ``g_width``, conditioning, ...) are mapped to fields by the
entry's ``fields``. Adding an architecture is one module and one registration here.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import flax.linen as nn
import ml_collections

from jaxgan.errors import ConfigError
from jaxgan.models import conditioning, progan, r3gan, resnet, stylegan2
from jaxgan.models.blocks import MINIBATCH, base_and_depth, check_attention_res, feature_sizes
from jaxgan.models.dcgan import DCGANDiscriminator, DCGANGenerator
from jaxgan.models.mlp import MLPDiscriminator, MLPGenerator, check_mlp_options
from jaxgan.registry import Registry
from jaxgan.spec import DataSpec


def _never(section: ml_collections.ConfigDict) -> bool:
  return False


def _no_check(section: ml_collections.ConfigDict) -> None:
  return None


@dataclasses.dataclass(frozen=True)
class Network:
  """A generator or discriminator architecture.

  Attributes:
    module: the Flax module class.
    kinds: data kinds it accepts (``'image'``, ``'points'``).
    fields: ``(model config, data spec) -> module fields`` from the shared model keys
      (and checks of the data it is given).
    section: ``config.model.<section>`` holds its own options ('' when it has none).
    options: module fields set from that section; their defaults are the module's.
    batch_norm: ``section -> whether the module has BatchNorm layers`` (examples of a
      batch then interact: per-example input-gradient penalties do not apply).
    conditional_norm: its normalization layers can take class conditioning (``cbn``).
    styles: a generator with a mapping network (``G(z, only_ws=True) -> ws``, ``G(z, ws=ws)``),
      which path-length regularization and the truncation trick need.
    check_options: value checks of its options (raise :class:`ConfigError`).
    grows: it has ``level`` / ``fading`` fields and a ``'growth'`` alpha: progressive
      growing (``train.grow_from``, :mod:`jaxgan.growth`) can train it.
  """
  module: type[nn.Module]
  kinds: tuple[str, ...]
  fields: Callable[[ml_collections.ConfigDict, DataSpec], dict]
  section: str = ""
  options: tuple[str, ...] = ()
  batch_norm: Callable[[ml_collections.ConfigDict], bool] = _never
  conditional_norm: bool = False
  styles: bool = False  # a generator with a mapping network: G(z, only_ws=True), G(z, ws=ws), truncation
  check_options: Callable[[ml_collections.ConfigDict], None] = _no_check
  grows: bool = False

  def option_defaults(self) -> dict[str, Any]:
    """``{option: the module's default}``."""
    defaults = {f.name: f.default for f in dataclasses.fields(self.module)}
    missing = [name for name in self.options if defaults.get(name, dataclasses.MISSING) is dataclasses.MISSING]
    if missing:
      raise TypeError(f"{self.module.__name__} has no default for options {missing}")
    return {name: defaults[name] for name in self.options}

  def build(self, name: str, model_config: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
    """The module for data ``spec``: shared fields, then this network's own options."""
    if spec.kind not in self.kinds:
      raise ConfigError(f"model {name!r} needs {' or '.join(self.kinds)} "
                        f"data, but data set {spec.name!r} is {spec.kind} data of shape {spec.shape}.")
    options = {name: model_config[self.section][name] for name in self.options}
    return self.module(**self.fields(model_config, spec), **options)


GENERATORS: Registry[Network] = Registry("generator")
DISCRIMINATORS: Registry[Network] = Registry("discriminator")


def _square_resolution(name: str, spec: DataSpec) -> int:
  height, width, _ = spec.shape
  if height != width:
    raise ConfigError(f"{name} needs square images, got {height}x{width}")
  return height


def _conditioning(cfg: ml_collections.ConfigDict, spec: DataSpec, side: str) -> dict:
  """Module fields for class conditioning of one side (``'g'`` or ``'d'``)."""
  name = cfg[f"{side}_conditioning"]
  return {"conditioning": name, "num_classes": spec.num_classes if name != "none" else 0}


def _no_attention(cfg: ml_collections.ConfigDict, model: str) -> None:
  if cfg.attention_res:
    raise ConfigError(f"model.attention_res={cfg.attention_res}: the {model} model has no "
                      "feature maps; self-attention needs an image model (dcgan, resnet).")


def _dcgan_g(cfg: ml_collections.ConfigDict, spec: DataSpec) -> dict:
  resolution = _square_resolution("dcgan", spec)
  base_and_depth(resolution)  # raises a clear error for unsupported resolutions
  check_attention_res(cfg.attention_res, feature_sizes(resolution)[:-1], "DCGAN generator")
  return dict(resolution=resolution, channels=spec.shape[-1], width=cfg.g_width,
              attention_res=cfg.attention_res, spectral_norm=cfg.g_spectral_norm,
              **_conditioning(cfg, spec, "g"))


def _dcgan_d(cfg: ml_collections.ConfigDict, spec: DataSpec) -> dict:
  resolution = _square_resolution("dcgan", spec)
  base_and_depth(resolution)
  check_attention_res(cfg.attention_res, feature_sizes(resolution)[1:-1], "DCGAN discriminator")
  return dict(resolution=resolution, width=cfg.d_width, spectral_norm=cfg.d_spectral_norm,
              attention_res=cfg.attention_res, minibatch=cfg.d_minibatch, **_conditioning(cfg, spec, "d"))


def _resnet_g(cfg: ml_collections.ConfigDict, spec: DataSpec) -> dict:
  resolution = _square_resolution("resnet", spec)
  check_attention_res(cfg.attention_res, resnet.generator_sizes(resolution), "ResNet generator")
  return dict(resolution=resolution, channels=spec.shape[-1], width=cfg.g_width,
              attention_res=cfg.attention_res, spectral_norm=cfg.g_spectral_norm,
              **_conditioning(cfg, spec, "g"))


def _resnet_d(cfg: ml_collections.ConfigDict, spec: DataSpec) -> dict:
  resolution = _square_resolution("resnet", spec)
  resnet.resnet_base_and_depth(resolution)
  check_attention_res(cfg.attention_res, resnet.discriminator_sizes(resolution), "ResNet discriminator")
  return dict(resolution=resolution, width=cfg.d_width, spectral_norm=cfg.d_spectral_norm,
              attention_res=cfg.attention_res, minibatch=cfg.d_minibatch, **_conditioning(cfg, spec, "d"))


def _mlp_g(cfg: ml_collections.ConfigDict, spec: DataSpec) -> dict:
  _no_attention(cfg, "mlp")
  image = dict(image_shape=tuple(spec.shape)) if spec.kind == "image" else {}
  return dict(out_dim=spec.shape[0], width=cfg.g_width, **image, **_conditioning(cfg, spec, "g"))


def _mlp_d(cfg: ml_collections.ConfigDict, spec: DataSpec) -> dict:
  _no_attention(cfg, "mlp")
  return dict(width=cfg.d_width, spectral_norm=cfg.d_spectral_norm, minibatch=cfg.d_minibatch,
              **_conditioning(cfg, spec, "d"))


GENERATORS.register("dcgan")(Network(DCGANGenerator, ("image",), _dcgan_g, conditional_norm=True))
DISCRIMINATORS.register("dcgan")(Network(
    DCGANDiscriminator, ("image",), _dcgan_d, section="dcgan", options=("use_batchnorm",),
    batch_norm=lambda section: section.use_batchnorm))
GENERATORS.register("resnet")(Network(resnet.ResNetGenerator, ("image",), _resnet_g, conditional_norm=True))
DISCRIMINATORS.register("resnet")(Network(resnet.ResNetDiscriminator, ("image",), _resnet_d))
GENERATORS.register("mlp")(Network(MLPGenerator, ("points", "image"), _mlp_g, section="mlp",
                                   options=("depth", "batchnorm", "init_std"),
                                   batch_norm=lambda section: section.batchnorm,
                                   check_options=check_mlp_options))
DISCRIMINATORS.register("mlp")(Network(MLPDiscriminator, ("points", "image"), _mlp_d, section="mlp",
                                       options=("depth", "d_depth", "maxout", "init_std"),
                                       check_options=check_mlp_options))


def _unconditional(cfg: ml_collections.ConfigDict, model: str) -> None:
  for side in ("g", "d"):
    if cfg[f"{side}_conditioning"] != "none":
      raise ConfigError(f"model.{side}_conditioning={cfg[f'{side}_conditioning']!r}: the {model} networks "
                        "are unconditional in jaxgan; set it to 'none' or use the dcgan/resnet networks.")
  _no_attention(cfg, model)


def _r3gan_g(cfg: ml_collections.ConfigDict, spec: DataSpec) -> dict:
  _unconditional(cfg, "r3gan")
  return dict(resolution=_square_resolution("r3gan", spec), channels=spec.shape[-1])


def _r3gan_d(cfg: ml_collections.ConfigDict, spec: DataSpec) -> dict:
  _unconditional(cfg, "r3gan")
  if cfg.d_minibatch != "none":
    raise ConfigError(f"model.d_minibatch={cfg.d_minibatch!r}: the r3gan discriminator has no minibatch layer.")
  return dict(resolution=_square_resolution("r3gan", spec))


def _check_r3gan(section: ml_collections.ConfigDict) -> None:
  if section.expansion < 1 or section.kernel < 1 or section.kernel % 2 == 0:
    raise ConfigError(f"model.r3gan: expansion must be >= 1 and kernel odd, got expansion="
                      f"{section.expansion}, kernel={section.kernel}.")


R3GAN_OPTIONS = ("widths", "cardinality", "blocks", "expansion", "kernel")
GENERATORS.register("r3gan")(Network(r3gan.R3GANGenerator, ("image",), _r3gan_g, section="r3gan",
                                     options=R3GAN_OPTIONS, check_options=_check_r3gan))
DISCRIMINATORS.register("r3gan")(Network(r3gan.R3GANDiscriminator, ("image",), _r3gan_d, section="r3gan",
                                         options=R3GAN_OPTIONS, check_options=_check_r3gan))


def _doubling_resolution(cfg: ml_collections.ConfigDict, spec: DataSpec, model: str, smallest: int,
                         start: str) -> int:
  """The square power-of-2 resolution (>= ``smallest``) of a network that doubles from 4x4."""
  _unconditional(cfg, model)
  resolution = _square_resolution(model, spec)
  if resolution < smallest or resolution & (resolution - 1):
    raise ConfigError(f"{model} grows from {start} by doublings: the resolution must be a power of 2 >= "
                      f"{smallest}, got {resolution}; set data.resolution (e.g. 32: images are resized).")
  return resolution


def _own_minibatch_stddev(cfg: ml_collections.ConfigDict, model: str) -> None:
  if cfg.d_minibatch != "none":
    raise ConfigError(f"model.d_minibatch={cfg.d_minibatch!r}: the {model} discriminator has its own "
                      f"minibatch standard deviation (model.{model}.mbstd_group); leave d_minibatch='none'.")


def _stylegan2_resolution(cfg: ml_collections.ConfigDict, spec: DataSpec) -> int:
  return _doubling_resolution(cfg, spec, "stylegan2", 8, "a 4x4 constant")


def _stylegan2_g(cfg: ml_collections.ConfigDict, spec: DataSpec) -> dict:
  return dict(resolution=_stylegan2_resolution(cfg, spec), channels=spec.shape[-1])


def _stylegan2_d(cfg: ml_collections.ConfigDict, spec: DataSpec) -> dict:
  _own_minibatch_stddev(cfg, "stylegan2")
  return dict(resolution=_stylegan2_resolution(cfg, spec))


def _check_stylegan2(section: ml_collections.ConfigDict) -> None:
  if not 0 <= section.mixing_prob <= 1 or section.mapping_layers < 1 or section.mbstd_group < 1:
    raise ConfigError("model.stylegan2: mixing_prob must be in [0, 1], mapping_layers >= 1 and "
                      f"mbstd_group >= 1, got {section.mixing_prob}, {section.mapping_layers}, {section.mbstd_group}.")


GENERATORS.register("stylegan2")(Network(
    stylegan2.StyleGAN2Generator, ("image",), _stylegan2_g, section="stylegan2",
    options=("width", "max_channels", "w_dim", "mapping_layers", "mapping_lr_mul", "mixing_prob"),
    styles=True, check_options=_check_stylegan2))
DISCRIMINATORS.register("stylegan2")(Network(
    stylegan2.StyleGAN2Discriminator, ("image",), _stylegan2_d, section="stylegan2",
    options=("width", "max_channels", "mbstd_group"), check_options=_check_stylegan2))


def _progan_resolution(cfg: ml_collections.ConfigDict, spec: DataSpec) -> int:
  return _doubling_resolution(cfg, spec, "progan", 4, "4x4")


def _progan_d(cfg: ml_collections.ConfigDict, spec: DataSpec) -> dict:
  _own_minibatch_stddev(cfg, "progan")
  return dict(resolution=_progan_resolution(cfg, spec))


def _check_progan(section: ml_collections.ConfigDict) -> None:
  if section.width < 1 or section.max_channels < 1 or section.mbstd_group < 1:
    raise ConfigError("model.progan: width, max_channels and mbstd_group must be >= 1, got "
                      f"{section.width}, {section.max_channels}, {section.mbstd_group}.")


GENERATORS.register("progan")(Network(
    progan.ProGANGenerator, ("image",),
    lambda cfg, spec: dict(resolution=_progan_resolution(cfg, spec), channels=spec.shape[-1]),
    section="progan", options=("width", "max_channels"), check_options=_check_progan, grows=True))
DISCRIMINATORS.register("progan")(Network(
    progan.ProGANDiscriminator, ("image",), _progan_d, section="progan",
    options=("width", "max_channels", "mbstd_group"), check_options=_check_progan, grows=True))


def registered_networks() -> list[tuple[str, str, Network]]:
  """``(side, name, entry)`` of every registered generator and discriminator."""
  return [(side, name, registry.get(name)) for side, registry in (("generator", GENERATORS),
                                                                 ("discriminator", DISCRIMINATORS))
          for name in registry]


def option_sections() -> dict[str, dict[str, Any]]:
  """``{section: {option: default}}`` over every registered network: the schema of the
  ``config.model.<section>`` sub-sections. A section shared by a generator and a
  discriminator (``mlp``) holds the options of both; a shared option has one default."""
  sections: dict[str, dict[str, Any]] = {}
  for _, _, entry in registered_networks():
    if not entry.section:
      continue
    section = sections.setdefault(entry.section, {})
    for option, default in entry.option_defaults().items():
      if section.setdefault(option, default) != default:
        raise TypeError(f"model.{entry.section}.{option} has two defaults")
  return sections


def networks(model_config: ml_collections.ConfigDict) -> tuple[Network, Network]:
  """The entries of ``model.generator`` and ``model.discriminator``."""
  return GENERATORS.get(model_config.generator), DISCRIMINATORS.get(model_config.discriminator)


def check_options(model_config: ml_collections.ConfigDict) -> None:
  """Refuses options of a sub-section that neither chosen network takes (set away from
  their defaults), and checks the values of those they take."""
  # Value checks first (every section's, whichever networks are chosen), each check once.
  for check, section in dict.fromkeys((entry.check_options, entry.section)
                                      for _, _, entry in registered_networks() if entry.section):
    check(model_config[section])
  g, d = networks(model_config)
  used = {(entry.section, option) for entry in (g, d) if entry.section for option in entry.options}
  for section, defaults in option_sections().items():
    for option, default in defaults.items():
      value = model_config[section][option]
      if (section, option) not in used and value != default:
        takers = [f"{side} {name!r}" for side, name, entry in registered_networks()
                  if entry.section == section and option in entry.options]
        raise ConfigError(
            f"model.{section}.{option}={value!r} is an option of the '{section}' networks only "
            f"({', '.join(takers)}), and this config uses generator '{model_config.generator}' and "
            f"discriminator '{model_config.discriminator}'; leave it at its default ({default!r}) "
            f"or choose a network that takes it.")


def discriminator_has_batch_norm(model_config: ml_collections.ConfigDict) -> bool:
  _, d = networks(model_config)
  return d.batch_norm(model_config[d.section]) if d.section else d.batch_norm(ml_collections.ConfigDict())


def build_generator(model_config: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  """The generator named ``model.generator``, after checking the conditioning choices."""
  g, _ = networks(model_config)
  conditioning.check(model_config, spec, g.conditional_norm)
  return g.build(model_config.generator, model_config, spec)


def build_discriminator(model_config: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  """The discriminator named ``model.discriminator`` (its minibatch layer checked by name)."""
  g, d = networks(model_config)
  MINIBATCH.get(model_config.d_minibatch)
  conditioning.check(model_config, spec, g.conditional_norm)
  return d.build(model_config.discriminator, model_config, spec)
