"""R3GAN sized for a CPU: Fashion-MNIST at its native 28x28, the networks and schedules of
``cifar10_r3gan`` scaled down.

3 stages of width 64 (7x7 -> 28x28, so the bases are 7x7), one block per stage (expansion 2,
16 groups of 8 channels), 64-d latent; RpGAN + gamma/2 (R1 + R2) with gamma 0.05 -> 0.005,
lr 2e-4 -> 5e-5, beta2 0.9 -> 0.99 (cosine over the run), beta1 0, batch 64, EMA 0.99.
One change for the CPU budget: the penalties are lazy, every 4th D update with weight x4
(``loss.reg_every = 4``, the scheme of StyleGAN2; R3GAN itself regularizes every update):
the double backward pass of R1 + R2 is most of the step's cost.

1,200 steps of 64 (76,800 images, 1.3 epochs): 4.4 s per step on 2 cores, about 90 minutes
(``python -m jaxgan.benchmark --suite``, case ``r3gan_fashion28_batch64``).
"""

import os

from jaxgan.config import load_recipe


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "cifar10_r3gan.py"))
  config.data.name = "fashion_mnist"
  config.data.resolution = 28
  config.data.channels = 1
  config.model.r3gan.widths = (64, 64, 64)
  config.model.r3gan.cardinality = (16, 16, 16)
  config.model.r3gan.blocks = (1, 1, 1)
  config.loss.reg_every = 4
  config.train.steps = 1200
  config.train.anneal_steps = 0  # the whole run
  config.train.batch_size = 64
  config.train.ema_decay = 0.99  # half-life ~70 steps: a 1,200-step run must not sample its init
  config.checkpoint.every = 200
  config.log.sample_every = 200
  return config
