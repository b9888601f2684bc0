"""StyleGAN2 sized for a CPU: Fashion-MNIST resized to 32x32 (bilinear), the ``cifar10_stylegan2``
recipe with 64 channels at every resolution, 64-d z and w, style mixing (probability 0.9)
and a batch of 32.

Lazy R1 (gamma 0.01 every 16 D updates), non-saturating loss, Adam lr 0.0025 betas (0, 0.99),
EMA 0.995. Path-length regularization is off, as in the ``cifar`` configuration
(``--config.loss.g_regularizer=path_length`` turns it on); no ADA (``fashion_mnist_stylegan2_ada``
adds it, on 2,000 images).
"""

import os

from jaxgan.config import load_recipe


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "cifar10_stylegan2.py"))
  config.data.name = "fashion_mnist"
  config.data.resolution = 32
  config.data.channels = 1
  config.model.latent_dim = 64
  config.model.stylegan2.width = 512
  config.model.stylegan2.max_channels = 64
  config.model.stylegan2.w_dim = 64
  config.model.stylegan2.mixing_prob = 0.9
  config.model.stylegan2.mbstd_group = 4
  config.train.steps = 3000
  config.train.batch_size = 32
  config.train.ema_kimg = config.train.ema_rampup = 0.0
  config.train.ema_decay = 0.995  # a constant decay: half-life ~140 steps of 3,000
  config.checkpoint.every = 250
  config.log.sample_every = 250
  return config
