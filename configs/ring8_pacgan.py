"""PacGAN on ``ring8`` (Lin, Khetan, Fanti & Oh 2018, "PacGAN: The power of two samples in
generative adversarial networks", arXiv:1712.04086).

``ring8_gan`` with the discriminator judging packs of 4 samples (PacGAN4: the samples'
coordinates concatenated into one 8-d input), the paper's remedy for mode collapse;
everything else, including the generator and the number of steps, unchanged.
"""

import os

from jaxgan.config import load_recipe


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "ring8_gan.py"))
  config.model.pack = 4
  return config
