"""StyleGAN2 on 2,000 Fashion-MNIST training images (a fixed random subset, ``data.limit``),
without augmentation: the limited-data baseline that ``fashion_mnist_stylegan2_ada`` is
measured against (ADA's central claim, Karras et al. 2020, arXiv:2006.06676, Fig. 1 and
Sec. 4: with few images D overfits and FID degrades; ADA prevents it).

The ``fashion_mnist_stylegan2`` recipe otherwise (64 channels, 32x32, batch 32, 3,000 steps:
48 epochs of the subset). FID is taken against the full 10,000-image test split.
"""

import os

from jaxgan.config import load_recipe


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "fashion_mnist_stylegan2.py"))
  config.data.limit = 2000
  return config
