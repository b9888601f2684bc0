"""PacGAN2 of the PacGAN paper on ``ring8`` (Lin et al. 2018, arXiv:1712.04086, Table 1):
``ring8_gan_paper`` with D judging packs of 2 samples (their coordinates concatenated),
100 packs per batch (200 samples), as in the paper's code (``num_packing`` = 2,
``batch_size`` = 100 packs); networks, optimizer and the 400,000 steps unchanged.
"""

import os

from jaxgan.config import load_recipe


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "ring8_gan_paper.py"))
  config.model.pack = 2
  config.train.batch_size = 200
  return config
