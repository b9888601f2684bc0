"""ProGAN sized for a CPU: Fashion-MNIST resized to 32x32 (bilinear), the ``cifar10_progan``
recipe with 64 feature maps at every resolution, a 64-d latent and a batch of 32.

Growing from 4x4 with 16k real images (500 steps) per stable phase and per fade-in:
4x4, fade 8x8, 8x8, fade 16x16, 16x16, fade 32x32 take steps 0-2,999; the last 3,000
steps train at 32x32. WGAN-GP (lambda 10) + drift 0.001, Adam lr 0.001 betas (0, 0.99),
EMA 0.999, as the paper's recipe.
"""

import os

from jaxgan.config import load_recipe


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "cifar10_progan.py"))
  config.data.name = "fashion_mnist"
  config.data.resolution = 32
  config.data.channels = 1
  config.model.latent_dim = 64
  config.model.progan.width = 512
  config.model.progan.max_channels = 64
  config.train.batch_size = 32
  config.train.stable_kimg = config.train.fade_kimg = 16.0
  config.train.steps = 6000
  config.checkpoint.every = 500
  config.log.sample_every = 500
  return config
