"""Class-conditional GAN with a projection discriminator on CIFAR-10 (Miyato & Koyama 2018,
"cGANs with Projection Discriminator", arXiv:1802.05637; their CIFAR-10 setting).

``cifar10_sngan`` (ResNet G and D, spectral normalization in D, hinge loss, Adam 2e-4 with
betas (0, 0.9), 5 D updates per G update, linear decay over 50,000 G updates) made
class-conditional: conditional BatchNorm in every generator block and the projection
``<embed(y), h>`` added to D's logit. Sample one class with
``python -m jaxgan.sample --workdir W --label 3``.
"""

import os

from jaxgan.config import load_recipe


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "cifar10_sngan.py"))
  config.model.g_conditioning = "cbn"
  config.model.d_conditioning = "projection"
  return config
