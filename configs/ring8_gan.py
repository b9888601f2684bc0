"""Non-saturating MLP GAN on ``ring8`` (8 Gaussians on the unit circle, std 0.01).

The mode-collapse test bed of Metz et al. 2017, "Unrolled Generative Adversarial
Networks" (arXiv:1611.02163): fully connected G and D, Adam(1e-3, beta1 0.5) for both,
10,000 steps of batch 256 (about a minute on a 2-core CPU).
"""

from jaxgan.config import default_config


def get_config():
  config = default_config()
  config.data.name = "ring8"
  config.model.generator = "mlp"
  config.model.discriminator = "mlp"
  config.model.latent_dim = 64
  config.model.g_width = 128
  config.model.d_width = 128
  config.model.mlp.depth = 3
  config.train.steps = 10000
  config.train.batch_size = 256
  config.train.g_lr = 1e-3
  config.train.d_lr = 1e-3
  config.checkpoint.every = 2500
  config.log.sample_every = 2500
  return config
