"""Unrolled GAN on ``grid25`` (Metz et al. 2017, arXiv:1611.02163): ``grid25_gan`` with 5
differentiated look-ahead discriminator updates in the generator's loss and the learning
rates of ``ring8_unrolled`` (G 1e-3, D 1e-4); networks, batch and steps unchanged.
"""

import os

from jaxgan.config import load_recipe


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "grid25_gan.py"))
  config.train.unrolled_steps = 5
  config.train.d_lr = 1e-4
  return config
