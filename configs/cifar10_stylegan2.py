"""StyleGAN2 on CIFAR-10 (Karras et al. 2020, arXiv:1912.04958), the ``cifar`` configuration
of the StyleGAN2-ADA reference implementation (Karras et al. 2020, "Training Generative
Adversarial Networks with Limited Data", arXiv:2006.06676; ``train.py --cfg=cifar``), for GPU/TPU.

* G: 512 channels at every resolution (channel base 32768, max 512), 2 mapping layers
  (lr multiplier 0.01), 512-d z and w, skip architecture, noise inputs; no style mixing
  and no path-length regularization (both off in that configuration).
* D: residual, minibatch standard deviation over groups of 32.
* Non-saturating loss, lazy R1 with gamma 0.01 every 16 D updates; Adam lr 0.0025,
  betas (0, 0.99); batch 64; EMA half-life 500k images, ramped up as min(500k, 0.05 x images
  seen) (the reference's ``ema_kimg = 500``, ``ema_rampup = 0.05``).
* 100,000 kimg in the reference (1,562,500 steps of 64); this recipe stops at 10,000 kimg
  (156,250 steps), where the paper's CIFAR-10 curves have flattened; change ``train.steps``.

Differences from the reference, stated: no ADA (the ``cifar`` configuration uses it:
``cifar10_stylegan2_ada`` adds it), the networks are unconditional, and the
up/down-sampling convolutions are a [1, 3, 3, 1] resample followed by a 3x3 conv instead
of the fused transposed/strided conv with the same filter.
"""

from jaxgan.config import default_config


def get_config():
  config = default_config()
  config.data.name = "cifar10"
  config.data.resolution = 32
  config.data.channels = 3
  config.model.generator = config.model.discriminator = "stylegan2"
  config.model.latent_dim = 512
  config.model.stylegan2.width = 1024
  config.model.stylegan2.max_channels = 512
  config.model.stylegan2.w_dim = 512
  config.model.stylegan2.mapping_layers = 2
  config.model.stylegan2.mixing_prob = 0.0
  config.model.stylegan2.mbstd_group = 32
  config.loss.name = "non_saturating"
  config.loss.regularizer = "r1"
  config.loss.reg_weight = 0.01
  config.loss.reg_every = 16
  config.train.steps = 156250
  config.train.batch_size = 64
  config.train.g_lr = config.train.d_lr = 0.0025
  config.train.g_beta1 = config.train.d_beta1 = 0.0
  config.train.g_beta2 = config.train.d_beta2 = 0.99
  config.train.ema_kimg = 500.0
  config.train.ema_rampup = 0.05
  config.checkpoint.every = 5000
  config.log.sample_every = 5000
  return config
