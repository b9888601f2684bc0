"""R3GAN on CIFAR-10 (Huang, Gokaslan, Kuleshov & Tompkin 2024, "The GAN is dead; long live
the GAN! A Modern GAN Baseline", arXiv:2501.05441), the settings of the reference
implementation's ``train.py --preset=CIFAR10`` (github.com/brownvc/R3GAN), for GPU/TPU.

* Networks (``jaxgan.models.r3gan``): 4 stages of width 768 (4x4 -> 32x32), 2 inverted-
  bottleneck blocks per stage (expansion 2, 96 groups of 16 channels), no normalization,
  fix-up initialisation, 64-d latent.
* Loss: relativistic pairing (RpGAN) with gamma/2 (R1 + R2) on every D update.
* Schedules over the first 2e7 images (39,063 steps of 512), cosine: learning rates
  2e-4 -> 5e-5, gamma 0.05 -> 0.005, Adam beta2 0.9 -> 0.99; beta1 = 0.
* Batch 512, one D update per G update. Training runs for the annealing horizon (the
  reference trains until stopped).

Differences from the reference, stated: the reference trains class-conditionally (``--cond=1``)
with ADA-style augmentation (p ramped 0 -> 0.55) and an EMA whose half-life ramps 0 -> 5M
images; here the networks are unconditional, D sees no augmentation (jaxgan's adaptive
augmentation is not built yet) and the EMA has a constant decay (0.5^(512 / 5e6) = 0.99993).
"""

from jaxgan.config import default_config


def get_config():
  config = default_config()
  config.data.name = "cifar10"
  config.data.resolution = 32
  config.data.channels = 3
  config.model.generator = config.model.discriminator = "r3gan"
  config.model.latent_dim = 64
  config.model.r3gan.widths = (768, 768, 768, 768)
  config.model.r3gan.cardinality = (96, 96, 96, 96)
  config.model.r3gan.blocks = (2, 2, 2, 2)
  config.model.r3gan.expansion = 2
  config.loss.name = "relativistic_pairing"
  config.loss.regularizer = "r1_r2"
  config.loss.reg_weight, config.loss.reg_weight_final = 0.05, 0.005
  config.train.steps = 39063
  config.train.batch_size = 512
  config.train.g_lr = config.train.d_lr = 2e-4
  config.train.lr_schedule = "cosine"
  config.train.g_lr_final = config.train.d_lr_final = 5e-5
  config.train.g_beta1 = config.train.d_beta1 = 0.0
  config.train.g_beta2 = config.train.d_beta2 = 0.9
  config.train.g_beta2_final = config.train.d_beta2_final = 0.99
  config.train.ema_decay = 0.99993
  config.checkpoint.every = 2000
  config.log.sample_every = 2000
  return config
