"""Unrolled GAN on ``ring8`` (Metz, Poole, Pfau & Sohl-Dickstein 2017, "Unrolled Generative
Adversarial Networks", arXiv:1611.02163).

``ring8_gan`` with the generator's loss taken against the discriminator after 5 look-ahead
Adam updates, differentiated through (``train.unrolled_steps``, a ``lax.scan`` inside the
one train step), and the learning rates of the paper's 2D-mixture experiment: G 1e-3,
D 1e-4. The discriminator itself is updated as usual; networks, batch and the 10,000
steps are those of ``ring8_gan``. With these learning rates and no unrolling
(``--config.train.unrolled_steps=0``) the plain GAN collapses to a single point; see
the README's ring8 table.
"""

import os

from jaxgan.config import load_recipe


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "ring8_gan.py"))
  config.train.unrolled_steps = 5
  config.train.d_lr = 1e-4
  return config
