"""The method seam: a model family as a registry entry (GANs first; a VAE and an
autoregressive model fit the same shape).

A :class:`Method` says how to build the family's static model from a config, create its
state pytree, make its pure per-device train step, and sample from a state. Everything
around it is shared by every method: run assembly (:mod:`jaxgan.run`), data, devices
(:mod:`jaxgan.parallel`), checkpoints, the training loop (:mod:`jaxgan.trainer`),
reporting, sampling and metrics (:mod:`jaxgan.metrics.evaluators`), one workdir layout
(:mod:`jaxgan.workdir`) and one set of commands. The state is any pytree with an int32
``step`` field (the updates done) and ``rng`` (the run's root key); the step is
``step(state, batch) -> (state, metrics)`` under the ``'batch'`` axis, with ``batch``
holding ``batches_per_step`` real batches per device.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterator, NamedTuple

import ml_collections
import numpy as np

from jaxgan.parallel import StepFn
from jaxgan.spec import DataSpec


@dataclasses.dataclass(frozen=True)
class Method:
  """A model family.

  Attributes:
    build: ``(config, data spec) -> model``: the static half (modules, optimizers,
      options), raising :class:`jaxgan.errors.ConfigError` on choices it cannot run.
    init_state: ``(model, seed) -> state``: a fresh state pytree.
    make_step: ``(model, per-device batch) -> step(state, batch)``: the pure per-device
      train step (checks the batch split).
    batches_per_step: ``model -> real batches one step reads`` (GAN: ``n_critic``).
    sample: ``(model, state, num, seed, label) -> chunks [<= chunk, *shape]`` of samples
      from fixed latents of ``seed`` (one class when ``label`` is given).
    sample_labels: ``(model, num, label) -> labels [num] | None`` the samples were drawn for.
    generate: ``(model, state, z [N, latent], labels [N] | None) -> x [N, *shape]``: samples
      of given latents (interpolations, exports), with the weights that ``sample`` uses.
    sampler_source: ``state -> facts`` about the weights that sample (e.g.
      ``{'generator': 'ema'}``), recorded in every metric's protocol.
    describe: ``(config, data spec) -> str``: the model and its data in a few words,
      for the training banner.
    estimators: ``{name: (model, state, x [N, *shape] in [-1, 1], seed, say) ->
      (log-likelihoods [N] in nats, protocol facts)}``: the likelihood estimates of
      held-out data the family offers (a VAE: ``iwae``, ``elbo``; an autoregressive
      model: ``exact``; a GAN: none, so only sample-based estimates such as Parzen
      windows apply to it). The metrics ``nll_<name>`` use them.
    phase: ``(model, step) -> Phase(model, end, name)``: the static model that train step
      ``step`` runs, the first step it no longer holds (None: to the end) and a name for
      messages. One phase by default; a GAN that grows progressively
      (:mod:`jaxgan.growth`) has one per resolution and fade, each compiled when reached.
    sampling_view: ``(model, state) -> (model, state)`` as the sampler reads them (a growing
      GAN: at the state's phase); ``sample`` and ``generate`` apply it themselves, and a
      caller that traces ``generate`` (an export) applies it first, on the concrete state.
  """
  build: Callable[[ml_collections.ConfigDict, DataSpec], Any]
  init_state: Callable[[Any, int], Any]
  make_step: Callable[[Any, int], StepFn]
  batches_per_step: Callable[[Any], int]
  sample: Callable[[Any, Any, int, int, int | None], Iterator[np.ndarray]]
  sample_labels: Callable[[Any, int, int | None], np.ndarray | None]
  generate: Callable[[Any, Any, Any, Any], Any]
  sampler_source: Callable[[Any], dict]
  describe: Callable[[ml_collections.ConfigDict, DataSpec], str]
  estimators: dict[str, Callable[..., tuple[np.ndarray, dict]]] = dataclasses.field(default_factory=dict)
  phase: Callable[[Any, int], "Phase"] = lambda model, step: Phase(model, None, "")
  sampling_view: Callable[[Any, Any], tuple[Any, Any]] = lambda model, state: (model, state)


class Phase(NamedTuple):
  """A stretch of training with one static model (see :attr:`Method.phase`)."""
  model: Any
  end: int | None
  name: str
