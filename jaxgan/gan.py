"""The GAN family as a :class:`jaxgan.method.Method`: the static :class:`~jaxgan.state.GAN`,
its :class:`~jaxgan.state.GANState`, the one train step (:mod:`jaxgan.step`) and sampling
from the (EMA) generator."""

from __future__ import annotations

import ml_collections

from jaxgan.method import Method, Phase
from jaxgan.spec import DataSpec
from jaxgan.state import (GAN, at_step, build_gan, create_state, generate, iter_samples, sample_labels,
                          sampling_params, sampling_view)
from jaxgan.step import make_train_step


def _describe(config: ml_collections.ConfigDict, spec: DataSpec) -> str:
  grow = (f", growing from {config.train.grow_from}x{config.train.grow_from} ({config.train.stable_kimg:g} "
          f"kimg stable, {config.train.fade_kimg:g} kimg fade-in per resolution)" if config.train.grow_from else "")
  return (f"{config.model.generator}/{config.model.discriminator} GAN on {spec.name} {spec.shape}, "
          f"loss {config.loss.name}{grow}")


def _sample(gan: GAN, state, num: int, seed: int, label: int | None = None):
  gan, state = sampling_view(gan, state)
  return iter_samples(gan, state, num, seed, label=label)


def _generate(gan: GAN, state, z, labels=None):
  gan, state = sampling_view(gan, state)
  return generate(gan, sampling_params(state), state.g_vars, z, labels)


def _phase(gan: GAN, step: int) -> Phase:
  phased = at_step(gan, step)
  if phased.phase is None:
    return Phase(gan, None, "")
  return Phase(phased, phased.phase.end, phased.phase.describe())


METHOD = Method(
    build=build_gan,
    init_state=create_state,
    make_step=make_train_step,
    batches_per_step=lambda gan: gan.n_critic,
    sample=_sample,
    sample_labels=sample_labels,
    generate=_generate,
    sampler_source=lambda state: {"generator": "ema" if state.ema_params is not None else "live"},
    describe=_describe,
    phase=_phase,
    sampling_view=sampling_view,
)
