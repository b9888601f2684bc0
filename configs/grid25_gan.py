"""Non-saturating MLP GAN on ``grid25`` (25 Gaussians on {-4,-2,0,2,4}^2, std 0.05).

The 2D-grid benchmark of Srivastava et al. 2017 (VEEGAN, arXiv:1705.07761) and Lin et al.
2018 (PacGAN, arXiv:1712.04086): fully connected G and D, Adam with beta1 0.5.
"""

from jaxgan.config import default_config


def get_config():
  config = default_config()
  config.data.name = "grid25"
  config.model.generator = "mlp"
  config.model.discriminator = "mlp"
  config.model.latent_dim = 64
  config.model.g_width = 256
  config.model.d_width = 256
  config.model.mlp_depth = 3
  config.train.steps = 10000
  config.train.batch_size = 256
  config.train.g_lr = 1e-3
  config.train.d_lr = 1e-3
  config.checkpoint.every = 2500
  config.log.sample_every = 2500
  return config
