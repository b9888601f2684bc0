"""DCGAN on MNIST at its native 28x28 (Radford, Metz & Chintala 2016, arXiv:1511.06434).

G: 100 -> 128x7x7 -> 64x14x14 -> 1x28x28 (4x4 stride-2 transposed convs, BatchNorm,
ReLU); D mirrored with LeakyReLU 0.2; Adam lr 2e-4, beta1 0.5; batch 64.

MNIST is read offline from the original IDX files in ``$JAXGAN_DATA_DIR/mnist`` (or
``--config.data.manual_dir``), prepared once with jaxgan's tfds builder
(``python -m jaxgan.data prepare mnist``; training prepares it too when needed).
"""

from jaxgan.config import default_config


def get_config():
  config = default_config()
  config.data.name = "mnist"
  config.data.resolution = 28
  config.data.channels = 1
  config.model.g_width = 64
  config.model.d_width = 64
  config.model.dcgan.use_batchnorm = False
  config.train.steps = 5000
  config.train.batch_size = 64
  config.train.host_allocator = "reuse"  # measured 8.5 -> 9.6-9.9 steps/s on the 2-core CPU (jaxgan.hostmem)
  return config
