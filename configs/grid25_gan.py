"""Non-saturating MLP GAN on ``grid25`` (25 Gaussians on {-4,-2,0,2,4}^2, std 0.05).

The 2D-grid benchmark of Srivastava et al. 2017 (VEEGAN, arXiv:1705.07761) and Lin et al.
2018 (PacGAN, arXiv:1712.04086): ``ring8_gan`` (fully connected G and D, Adam 1e-3 with
beta1 0.5, 10,000 steps of batch 256) with 256 hidden units for the 25 modes.
"""

import os

from jaxgan.config import load_recipe


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "ring8_gan.py"))
  config.data.name = "grid25"
  config.model.g_width = 256
  config.model.d_width = 256
  return config
