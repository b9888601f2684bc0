"""The plain GAN of the PacGAN paper on ``ring8`` (8 Gaussians of std 0.01 on the unit
circle, the paper's 2D-ring; Lin et al. 2018, arXiv:1712.04086, Table 1; their repository's
``synthetic_data_experiments/2DRing_GAN&PacGAN/config.py``): ``grid25_gan_paper``'s networks,
optimizer, batch and 400,000-step budget, which the paper uses for both data sets.
"""

import os

from jaxgan.config import load_recipe


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "grid25_gan_paper.py"))
  config.data.name = "ring8"
  return config
