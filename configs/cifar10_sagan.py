"""Self-attention GAN on CIFAR-10 (Zhang, Goodfellow, Metaxas & Odena 2019, "Self-Attention
Generative Adversarial Networks", arXiv:1805.08318).

The ResNet G and D of ``cifar10_cgan_pd`` (class-conditional: conditional BatchNorm and a
projection discriminator, as SAGAN's ImageNet model) with SAGAN's changes: a
self-attention block on the 16x16 feature maps of G and D, spectral normalization in G as
well as D, hinge loss, and two time-scale learning rates with one D update per G update:
G 1e-4, D 4e-4, Adam betas (0, 0.9).
"""

import os

from jaxgan.config import load_recipe


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "cifar10_cgan_pd.py"))
  config.model.attention_res = 16
  config.model.g_spectral_norm = True
  config.train.n_critic = 1
  config.train.g_lr = 1e-4
  config.train.d_lr = 4e-4
  config.train.lr_schedule = "constant"
  return config
