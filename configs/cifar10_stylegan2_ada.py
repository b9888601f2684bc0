"""StyleGAN2 + ADA on CIFAR-10 (Karras et al. 2020, "Training Generative Adversarial Networks
with Limited Data", arXiv:2006.06676), the reference implementation's ``--cfg=cifar --aug=ada``
for GPU/TPU: the ``cifar10_stylegan2`` recipe with adaptive discriminator augmentation.

* ADA: the ``bgc`` pipeline (x-flip, 90-degree rotations, integer translation, isotropic and
  anisotropic scaling, rotation, fractional translation, brightness, contrast, luma flip,
  hue, saturation; ``jaxgan.ada``), p from 0, target r_t = 0.6, adjusted every 4 D updates
  at a speed that can take p from 0 to 1 in 500k images (the paper's Sec. 3 and App. C).
* Everything else as ``cifar10_stylegan2``; its stated differences from the reference
  hold here too, and the augmentation is resampled bilinearly at the image's resolution
  (the reference resamples at 2x with a wavelet filter).
"""

import os

from jaxgan.config import load_recipe


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "cifar10_stylegan2.py"))
  config.train.ada_pipeline = "bgc"
  config.train.ada_p = 0.0
  config.train.ada_target = 0.6
  config.train.ada_interval = 4
  config.train.ada_kimg = 500.0
  return config
