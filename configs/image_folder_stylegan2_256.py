"""StyleGAN2 on a folder of your images at 256x256 (FFHQ / LSUN style), the ``paper256``
configuration of the StyleGAN2-ADA reference implementation (``train.py --cfg=paper256``,
the settings of the StyleGAN2 paper's 256 px runs), for GPU/TPU.

* G: channel base 16384 (``fmaps`` 0.5: 512 channels up to 32x32, then halving to 64 at
  256x256), 8 mapping layers (lr multiplier 0.01), 512-d z and w, style mixing 0.9.
* D: residual, minibatch standard deviation over groups of 8.
* Non-saturating loss, lazy R1 gamma 1 every 16 D updates, lazy path-length regularization
  (weight 2 every 4 G updates); Adam lr 0.0025 betas (0, 0.99); batch 64; EMA half-life 20k
  images (no ramp); 25,000 kimg (390,625 steps).

Set the folder with ``--config.data.path=DIR`` (sub-folders are classes and ignored: the
networks are unconditional). ADA: ``--config.train.ada_pipeline=bgc``.
"""

from jaxgan.config import default_config


def get_config():
  config = default_config()
  config.data.name = "image_folder"
  config.data.resolution = 256
  config.data.channels = 3
  config.model.generator = config.model.discriminator = "stylegan2"
  config.model.latent_dim = 512
  config.model.stylegan2.width = 512
  config.model.stylegan2.max_channels = 512
  config.model.stylegan2.w_dim = 512
  config.model.stylegan2.mapping_layers = 8
  config.model.stylegan2.mixing_prob = 0.9
  config.model.stylegan2.mbstd_group = 8
  config.loss.name = "non_saturating"
  config.loss.regularizer = "r1"
  config.loss.reg_weight = 1.0
  config.loss.reg_every = 16
  config.loss.g_regularizer = "path_length"
  config.loss.g_reg_weight = 2.0
  config.loss.g_reg_every = 4
  config.train.steps = 390625
  config.train.batch_size = 64
  config.train.g_lr = config.train.d_lr = 0.0025
  config.train.g_beta1 = config.train.d_beta1 = 0.0
  config.train.g_beta2 = config.train.d_beta2 = 0.99
  config.train.ema_kimg = 20.0
  config.checkpoint.every = 5000
  config.log.sample_every = 5000
  return config
