"""WGAN-GP on CIFAR-10 with two time-scale learning rates.

Critic: the DCGAN discriminator without BatchNorm, Wasserstein loss + gradient penalty
(lambda 10; Gulrajani et al. 2017, arXiv:1704.00028), 5 critic updates per generator
update, Adam betas (0.5, 0.9). Learning rates follow the two time-scale update rule of
Heusel et al. 2017 (arXiv:1706.08500): D 3e-4, G 1e-4.
"""

import os

from jaxgan.config import load_recipe


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "cifar10_dcgan.py"))
  config.loss.name = "wasserstein"
  config.loss.regularizer = "gradient_penalty"
  config.loss.reg_weight = 10.0
  config.model.dcgan.use_batchnorm = False
  config.train.n_critic = 5
  config.train.g_lr = 1e-4
  config.train.d_lr = 3e-4
  config.train.g_beta2 = 0.9
  config.train.d_beta2 = 0.9
  return config
