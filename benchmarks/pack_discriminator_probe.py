"""How well can an MLP discriminator tell ``grid25`` points from noise, alone or in packs?

    python benchmarks/pack_discriminator_probe.py [--pack 4] [--maxout 5] [--steps 4000] [--lr 1e-4]
        [--init_std 0]

Trains only jaxgan's MLP discriminator (3 layers of 200 units; maxout units of ``--maxout``
pieces, 0 for LeakyReLU; weights N(0, ``--init_std``^2), 0 for Flax's default) with
Adam(``--lr``, beta1 0.8) and the standard GAN discriminator loss
to separate real ``grid25`` points (25 Gaussians, std 0.05) from uniform noise on
[-4.5, 4.5]^2, both packed ``--pack`` at a time as PacGAN's D sees them
(:func:`jaxgan.state.pack_samples`), 100 packs per step. Prints the loss every 1,000
steps; 2 log 2 = 1.386 is chance. No generator: this isolates the packed D's own ability
to find the grid's structure.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import optax

from jaxgan.data.toy import MixtureSource
from jaxgan.losses import minimax_d_loss
from jaxgan.models.mlp import MLPDiscriminator
from jaxgan.state import pack_samples


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--pack", type=int, default=4)
  parser.add_argument("--maxout", type=int, default=5)
  parser.add_argument("--steps", type=int, default=4000)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--lr", type=float, default=1e-4)
  parser.add_argument("--init_std", type=float, default=0.0)
  args = parser.parse_args()
  d = MLPDiscriminator(width=200, depth=3, maxout=args.maxout, init_std=args.init_std)
  key = jax.random.PRNGKey(args.seed)
  params = d.init(key, jnp.zeros((2, 2 * args.pack)), None, train=False)["params"]
  tx = optax.adam(args.lr, b1=0.8)
  opt = tx.init(params)
  n = 100 * args.pack
  real_points = MixtureSource("grid25", n, args.seed)  # the training stream of grid25

  @jax.jit
  def step(params, opt, real, key):
    fake = jax.random.uniform(key, (n, 2), minval=-4.5, maxval=4.5)

    def loss(p):
      logits = lambda x: d.apply({"params": p}, pack_samples(x, args.pack), None, train=False)
      return minimax_d_loss(logits(real), logits(fake))

    value, grads = jax.value_and_grad(loss)(params)
    updates, opt = tx.update(grads, opt, params)
    return optax.apply_updates(params, updates), opt, value

  for i in range(args.steps + 1):
    key, sub = jax.random.split(key)
    params, opt, value = step(params, opt, real_points.batch_at(i)["x"], sub)
    if i % 1000 == 0:
      print(f"pack {args.pack}, maxout {args.maxout}: step {i}, D loss {float(value):.3f} (chance 1.386)",
            flush=True)


if __name__ == "__main__":
  main()
