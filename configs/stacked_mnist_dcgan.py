"""DCGAN on Stacked MNIST: three MNIST digits as RGB channels, 1,000 modes.

The mode-coverage benchmark of Metz et al. 2017 (Unrolled GANs, arXiv:1611.02163) and
Lin et al. 2018 (PacGAN, arXiv:1712.04086): the DCGAN of ``mnist_dcgan`` with 3 output
channels. Judge it with ``python -m jaxgan.evaluate --workdir W --metrics stacked_modes``
(26,000 samples, each channel classified by the MNIST LeNet from
``python -m jaxgan.classifier --data mnist``).
"""

import os

from jaxgan.config import load_recipe


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "mnist_dcgan.py"))
  config.data.name = "stacked_mnist"
  config.data.channels = 3
  return config
