"""DCGAN on the embedded ``digits`` set (1,797 8x8 images served at 16x16); the README's main job.

Radford, Metz & Chintala 2016, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks" (arXiv:1511.06434): Adam with lr 2e-4 and
beta1 0.5, batch size 64 (paper: 128), BatchNorm in G and D, LeakyReLU 0.2 in D.
Sized to finish in about a minute on a 2-core CPU.
"""

from jaxgan.config import default_config


def get_config():
  config = default_config()
  config.data.name = "digits"
  config.data.resolution = 16
  config.model.generator = "dcgan"
  config.model.discriminator = "dcgan"
  config.model.g_width = 64
  config.model.d_width = 64
  config.train.steps = 1500
  config.train.batch_size = 64
  return config
