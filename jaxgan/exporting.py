"""A trained generator as a standalone file: ``jax.export`` of the sampling function.

The exported function is the run's generator in inference mode with its weights baked in
as constants (the EMA weights when the run keeps them, BatchNorm running statistics
included): ``x = f(z)`` (``f(z, labels)`` for a class-conditional run) with
``z [b, latent_dim]`` float32, ``labels [b]`` int32 and ``x [b, *shape]`` float32, the batch
size ``b`` symbolic. It is serialised with ``jax.export`` (StableHLO), so it runs where
only ``jax`` is installed -- no jaxgan, no Flax -- on every platform it was lowered for::

    import jax, jax.numpy as jnp
    f = jax.export.deserialize(open("G.jaxexport", "rb").read())
    key = jax.random.PRNGKey(0)   # jaxgan's latent rule: latent i from fold_in(key, i)
    z = jax.vmap(lambda i: jax.random.normal(jax.random.fold_in(key, i), (100,)))(jnp.arange(16))
    images = f.call(z)            # = jaxgan.load(W).sample(16, seed=0)

A JSON file beside it (``G.jaxexport.json``) records the latent size, the output shape,
the classes, the run and step it came from, and this calling convention.
"""

from __future__ import annotations

import json
import os
from typing import Sequence

import jax
import jax.numpy as jnp

from jaxgan import config as config_lib
from jaxgan.errors import ConfigError
from jaxgan.run import Run

PLATFORMS = ("cpu", "cuda", "tpu")


def export_generator(run: Run, platforms: Sequence[str] = PLATFORMS) -> jax.export.Exported:
  """The sampling function of ``run`` with its weights baked in, batch size symbolic."""
  latent_dim = int(run.config.model.latent_dim)
  conditional = run.sample_labels(1) is not None
  method = run.method
  # One member of a many-seed run; a growing GAN at its checkpoint's phase (a static choice).
  model, state = method.sampling_view(run.model, run.sampling_state())

  def generate(z, labels=None):
    # The weights are constants of the exported program; the barrier keeps XLA from
    # folding them into the arithmetic, so the program computes what jaxgan's own sampler
    # computes with the weights as arguments (the same samples, bit for bit).
    return method.generate(model, jax.lax.optimization_barrier(state), z, labels)

  (batch,) = jax.export.symbolic_shape("b")
  args = [jax.ShapeDtypeStruct((batch, latent_dim), jnp.float32)]
  if conditional:
    args.append(jax.ShapeDtypeStruct((batch,), jnp.int32))
  unknown = sorted(set(platforms) - set(PLATFORMS))
  if unknown or not platforms:
    raise ConfigError(f"platforms {list(platforms)}: choose among {list(PLATFORMS)}.")
  return jax.export.export(jax.jit(generate), platforms=tuple(platforms))(*args)


def write_export(run: Run, workdir: str, out: str, platforms: Sequence[str] = PLATFORMS) -> dict:
  """Writes ``out`` (the serialised function) and ``out + '.json'`` (what it is); returns the latter."""
  exported = export_generator(run, platforms)
  spec = run.spec
  info = {
      "format": "jax.export serialized Exported (jax.export.deserialize(bytes).call(...))",
      "jax_version": jax.__version__,
      "platforms": list(exported.platforms),
      "inputs": ["z [b, latent_dim] float32"] + (["labels [b] int32"] if spec.num_classes and
                                                 run.sample_labels(1) is not None else []),
      "output": f"x [b, {', '.join(map(str, spec.shape))}] float32"
                + (" in [-1, 1]" if spec.kind == "image" else " (2D points)"),
      "latent_dim": int(run.config.model.latent_dim),
      "latent_rule": "latent i of seed s: jax.random.normal(jax.random.fold_in(jax.random.PRNGKey(s), i), (latent_dim,))",
      "num_classes": int(spec.num_classes) if run.sample_labels(1) is not None else 0,
      "data": spec.name,
      "weights": run.sampler_source(),
      "workdir": os.path.abspath(workdir),
      "step": int(run.step),
      "config": json.loads(config_lib.to_json(run.config)),
  }
  serialized = exported.serialize()  # before any file is opened: nothing half-written on failure
  os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
  tmp = out + ".tmp"
  with open(tmp, "wb") as f:
    f.write(serialized)
  os.replace(tmp, out)
  with open(out + ".json", "w") as f:
    json.dump(info, f, indent=2)
  return {"wrote": [out, out + ".json"], **{k: v for k, v in info.items() if k != "config"}}
