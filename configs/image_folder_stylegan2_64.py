"""StyleGAN2 on a folder of your images at 64x64, with the StyleGAN2-ADA reference's
``--cfg=auto`` settings for 64 px on 8 accelerators (``jaxgan.models.stylegan2.auto_settings``):
batch 64, minibatch-stddev groups of 4, channel base 16384 (512 channels up to 32x32, 256
at 64x64), lr 0.0025, R1 gamma 0.0002 x 64^2 / 64 = 0.0128
every 16 D updates, EMA half-life 20k images ramped up at 0.05, 2 mapping layers, style
mixing 0.9, path-length regularization; 25,000 kimg. For GPU/TPU.

Set the folder with ``--config.data.path=DIR``; ADA: ``--config.train.ada_pipeline=bgc``.
"""

import os

from jaxgan.config import load_recipe
from jaxgan.models.stylegan2 import auto_settings

RESOLUTION = 64


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "image_folder_stylegan2_256.py"))
  auto = auto_settings(RESOLUTION, devices=8)
  config.data.resolution = RESOLUTION
  config.model.stylegan2.width = auto["width"]
  config.model.stylegan2.mbstd_group = auto["mbstd_group"]
  config.model.stylegan2.mapping_layers = auto["mapping_layers"]
  config.loss.reg_weight = auto["r1_gamma"]
  config.train.batch_size = auto["batch_size"]
  config.train.g_lr = config.train.d_lr = auto["lr"]
  config.train.ema_kimg = auto["ema_kimg"]
  config.train.ema_rampup = auto["ema_rampup"]
  config.train.steps = 25_000_000 // auto["batch_size"]
  return config
