"""WGAN-GP on MNIST (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs", arXiv:1704.00028).

The DCGAN of ``mnist_dcgan`` trained as a Wasserstein critic with the gradient penalty
(lambda 10 at random interpolates), no BatchNorm in the critic, 5 critic updates per
generator update, Adam lr 1e-4 with betas (0.5, 0.9) -- the paper's hyperparameters
(its Algorithm 1 uses beta1 0; 0.5 is its MNIST/CIFAR code's choice).
"""

import os

from jaxgan.config import load_recipe


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "mnist_dcgan.py"))
  config.loss.name = "wasserstein"
  config.loss.regularizer = "gradient_penalty"
  config.loss.reg_weight = 10.0
  config.model.dcgan.use_batchnorm = False
  config.train.n_critic = 5
  config.train.g_lr = 1e-4
  config.train.d_lr = 1e-4
  config.train.g_beta2 = 0.9
  config.train.d_beta2 = 0.9
  return config
