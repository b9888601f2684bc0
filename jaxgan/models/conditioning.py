"""Class conditioning of generators and discriminators, picked by name.

Generator side (``model.g_conditioning``):

* ``none``: unconditional.
* ``embed``: the one-hot label is concatenated to the latent (Mirza & Osindero 2014,
  "Conditional GANs", arXiv:1411.1784).
* ``cbn``: conditional BatchNorm in every generator normalisation layer (de Vries et al.
  2017; Miyato & Koyama 2018), see :class:`jaxgan.models.blocks.ConditionalBatchNorm`.

Discriminator side (``model.d_conditioning``):

* ``none``: unconditional.
* ``concat``: one-hot label planes (images) or coordinates (points) appended to the
  input (Mirza & Osindero 2014).
* ``projection``: ``logit = psi(h) + <embed(y), h>`` on D's final features ``h``
  (Miyato & Koyama 2018, "cGANs with Projection Discriminator", arXiv:1802.05637, eq. 3).
* ``acgan``: an auxiliary classifier head ``h -> class logits [B, K]``; the step adds
  ``loss.aux_weight`` times its cross-entropy on real and fake labels to D's loss and on
  fake labels to G's loss (Odena et al. 2017, "Conditional Image Synthesis with
  Auxiliary Classifier GANs", arXiv:1610.09585, eqs. 2-3).
"""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgan.spec import DataSpec
from jaxgan.errors import ConfigError
from jaxgan.models.blocks import apply_minibatch
from jaxgan.models.layers import spectral
from jaxgan.registry import Registry


@dataclasses.dataclass(frozen=True)
class GConditioning:
  embed_latent: bool = False   # one-hot label concatenated to z
  batch_norm: bool = False     # conditional BatchNorm
  description: str = ""


@dataclasses.dataclass(frozen=True)
class DConditioning:
  concat_input: bool = False   # one-hot label appended to the input
  projection: bool = False     # inner product of a label embedding with the features
  aux_classifier: bool = False  # AC-GAN class-logit head
  description: str = ""


G_CONDITIONING: Registry[GConditioning] = Registry("generator conditioning")
D_CONDITIONING: Registry[DConditioning] = Registry("discriminator conditioning")

G_CONDITIONING.register("none")(GConditioning(description="unconditional"))
G_CONDITIONING.register("embed")(GConditioning(embed_latent=True, description="one-hot label + z"))
G_CONDITIONING.register("cbn")(GConditioning(batch_norm=True, description="conditional BatchNorm"))
D_CONDITIONING.register("none")(DConditioning(description="unconditional"))
D_CONDITIONING.register("concat")(DConditioning(concat_input=True, description="one-hot label + input"))
D_CONDITIONING.register("projection")(DConditioning(projection=True, description="projection D"))
D_CONDITIONING.register("acgan")(DConditioning(aux_classifier=True, description="auxiliary classifier"))


def is_conditional(model_config: ml_collections.ConfigDict) -> bool:
  """Whether the model config asks for a class-conditional GAN."""
  return model_config.g_conditioning != "none" or model_config.d_conditioning != "none"


def check(model_config: ml_collections.ConfigDict, spec: DataSpec, generator_has_norm: bool) -> None:
  """Refuses conditioning choices that cannot work, with the fix in the message."""
  g = G_CONDITIONING.get(model_config.g_conditioning)
  D_CONDITIONING.get(model_config.d_conditioning)
  if not is_conditional(model_config):
    return
  if (model_config.g_conditioning == "none") != (model_config.d_conditioning == "none"):
    raise ConfigError(
        f"model.g_conditioning={model_config.g_conditioning!r} with model.d_conditioning="
        f"{model_config.d_conditioning!r}: a class-conditional GAN needs both sides conditioned "
        "(a conditional G gets no signal about labels from an unconditional D, and a "
        "conditional D cannot judge an unconditional G's labels). Set both or neither.")
  if spec.num_classes < 1:
    raise ConfigError(f"class conditioning needs labelled data, but data set {spec.name!r} has no "
                      "labels; set model.g_conditioning and model.d_conditioning to 'none'.")
  if model_config.pack > 1:
    raise ConfigError(f"model.pack={model_config.pack} (PacGAN) cannot be combined with class "
                      "conditioning: a pack mixes samples of different labels.")
  if g.batch_norm and not generator_has_norm:
    raise ConfigError(f"model.g_conditioning='cbn' needs a generator with BatchNorm layers, and "
                      f"{model_config.generator!r} has none; use g_conditioning='embed'.")


def one_hot(labels: jax.Array, num_classes: int, dtype=jnp.float32) -> jax.Array:
  return jax.nn.one_hot(labels, num_classes, dtype=dtype)


def condition_latent(z: jax.Array, labels: jax.Array | None, cond: GConditioning, num_classes: int) -> jax.Array:
  """``z [B, latent] -> [B, latent + K]`` with the one-hot label when ``cond.embed_latent``."""
  if not cond.embed_latent:
    return z
  return jnp.concatenate([z, one_hot(labels, num_classes, z.dtype)], axis=-1)


def condition_input(x: jax.Array, labels: jax.Array | None, cond: DConditioning, num_classes: int) -> jax.Array:
  """``x [B, ..., C] -> [B, ..., C + K]``: one-hot label planes appended when ``cond.concat_input``."""
  if not cond.concat_input:
    return x
  planes = one_hot(labels, num_classes, x.dtype).reshape((x.shape[0],) + (1,) * (x.ndim - 2) + (num_classes,))
  return jnp.concatenate([x, jnp.broadcast_to(planes, x.shape[:-1] + (num_classes,))], axis=-1)


def discriminator_head(h: jax.Array, labels: jax.Array | None, train: bool, *, conditioning: str = "none",
                       num_classes: int = 0, minibatch: str = "none", spectral_norm: bool = False,
                       kernel_init=nn.initializers.lecun_normal()):
  """D's last layers, shared by every discriminator: features ``h [B, ...]`` -> logits.

  Applies the minibatch layer (``minibatch``: 'none', 'stddev', 'discrimination'),
  flattens, then ``Dense(1)``; adds the projection term ``<embed(y), h>`` or an AC-GAN
  class head as ``conditioning`` asks. Called inside a discriminator's compact
  ``__call__``, so its layers are the discriminator's own (an unconditional D keeps the
  parameter names it had before conditioning existed: ``Dense_k`` for the logit).

  Returns:
    ``logits [B]``, or ``(logits [B], class_logits [B, K])`` with an auxiliary classifier.
  """
  cond = D_CONDITIONING.get(conditioning)
  sn = lambda layer: spectral(layer, spectral_norm, train)
  h = apply_minibatch(minibatch, h)
  h = h.reshape((h.shape[0], -1))
  logits = sn(nn.Dense(1, kernel_init=kernel_init))(h)[:, 0]
  if cond.projection:
    embed = nn.Embed(num_classes, h.shape[-1], embedding_init=nn.initializers.xavier_uniform(),
                     name="projection")
    logits = logits + jnp.sum(embed(labels) * h, axis=-1)
  if cond.aux_classifier:
    return logits, sn(nn.Dense(num_classes, kernel_init=kernel_init, name="classifier"))(h)
  return logits
