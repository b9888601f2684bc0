"""jaxgan: a functional GAN library and trainer in JAX/Flax.

The public pieces are small and composable:

* :mod:`jaxgan.losses` -- GAN objectives picked by name.
* :mod:`jaxgan.models` -- generators and discriminators (Flax Linen) picked by name, with
  class conditioning, self-attention and minibatch layers as options.
* :mod:`jaxgan.regularizers`, :mod:`jaxgan.augment` -- D penalties and DiffAugment.
* :mod:`jaxgan.data` -- deterministic, checkpointable batch sources.
* :mod:`jaxgan.state` / :mod:`jaxgan.step` -- the state pytree and the one pure train step.
* :mod:`jaxgan.train`, :mod:`jaxgan.sample`, :mod:`jaxgan.benchmark` -- command-line entry points.
"""

__version__ = "0.1.0"
