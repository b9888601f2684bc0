"""SNGAN on CIFAR-10 (Miyato, Kataoka, Koyama & Yoshida 2018, "Spectral Normalization for
Generative Adversarial Networks", arXiv:1802.05957), the ResNet setting of its Table 3.

ResNet G (128-d latent, 256 channels, 3 up blocks from 4x4) and ResNet D (128 channels,
optimized block, down, two plain blocks, global sum pooling) with spectral normalization
in every D layer, hinge loss, Adam lr 2e-4, betas (0, 0.9), 5 D updates per G update,
batch 64, 50,000 G updates with the learning rate decayed linearly to 0.
"""

from jaxgan.config import default_config


def get_config():
  config = default_config()
  config.data.name = "cifar10"
  config.data.resolution = 32
  config.data.channels = 3
  config.model.generator = "resnet"
  config.model.discriminator = "resnet"
  config.model.latent_dim = 128
  config.model.g_width = 256
  config.model.d_width = 128
  config.model.d_spectral_norm = True
  config.loss.name = "hinge"
  config.train.steps = 50000
  config.train.batch_size = 64
  config.train.n_critic = 5
  config.train.g_lr = 2e-4
  config.train.d_lr = 2e-4
  config.train.g_beta1 = 0.0
  config.train.d_beta1 = 0.0
  config.train.g_beta2 = 0.9
  config.train.d_beta2 = 0.9
  config.train.lr_schedule = "linear_decay"
  config.checkpoint.every = 5000
  config.log.sample_every = 2500
  return config
