"""ProGAN on CIFAR-10 (Karras et al. 2018, "Progressive Growing of GANs", arXiv:1710.10196).

The paper's networks (Table 2) at 32x32: 512 feature maps at every resolution up to 32x32,
pixel normalization, equalized learning rate, minibatch standard deviation (group 4);
progressive growing from 4x4, 600k real images per stable phase and 600k per fade-in
(the reference implementation's ``lod_training_kimg`` / ``lod_transition_kimg``; App. A.1
of the paper says 800k); WGAN-GP (lambda 10) with the drift term 0.001 E[D(x)^2], one D
update per G update, Adam lr 0.001 and betas (0, 0.99), G's EMA with beta 0.999, batch 64.
The reference lowers the batch at high resolutions; at 32x32 it keeps one batch here.
12M images: 7 phases (4x4, then fade and stable for 8, 16, 32) of 600k, and 7.8M images
at 32x32.
"""

from jaxgan.config import default_config


def get_config():
  config = default_config()
  config.data.name = "cifar10"
  config.model.generator = config.model.discriminator = "progan"
  config.model.latent_dim = 512
  config.model.progan.width = 512
  config.model.progan.max_channels = 512
  config.model.progan.mbstd_group = 4
  config.loss.name = "wasserstein_drift"
  config.loss.regularizer = "gradient_penalty"
  config.loss.reg_weight = 10.0
  config.train.grow_from = 4
  config.train.stable_kimg = 600.0
  config.train.fade_kimg = 600.0
  config.train.batch_size = 64
  config.train.steps = 187500  # 12M images
  config.train.n_critic = 1
  config.train.g_lr = config.train.d_lr = 1e-3
  config.train.g_beta1 = config.train.d_beta1 = 0.0
  config.train.g_beta2 = config.train.d_beta2 = 0.99
  config.train.ema_decay = 0.999
  config.checkpoint.every = 5000
  config.log.sample_every = 5000
  return config
