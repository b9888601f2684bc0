"""DCGAN on the embedded ``digits`` set (1,797 8x8 images served at 16x16); the README's main job.

Radford, Metz & Chintala 2016, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks" (arXiv:1511.06434): the DCGAN generator
(BatchNorm, ReLU, transposed convolutions, tanh) and discriminator (strided convolutions,
LeakyReLU 0.2), Adam with lr 2e-4 and beta1 0.5, batch size 64 (paper: 128).

Departures from the paper, each measured on this data with the classifier check of
``jaxgan.evaluate`` (``digits_classes``, 1,000 samples, mean top-class probability, latent
seeds 1 / 2):

* spectral normalization in D instead of BatchNorm (Miyato et al. 2018,
  arXiv:1802.05957) with the hinge loss (Lim & Ye 2017; as in SNGAN): 0.817 / 0.818 at
  4,000 steps, against 0.784 / 0.783 for the paper's non-saturating loss without BN in D
  (which stays at 0.782 / 0.781 at 5,000 steps) and 0.765 with BN in D;
* 4,000 steps (0.796 / 0.793 at 2,500);
* an EMA of G's weights with decay 0.99 for sampling (0.817 / 0.821; decay 0.999
  averages in too much of the early generator: 0.756 without SN).

Not better on this data: linear learning-rate decay (0.772), two time-scale rates G 1e-4 /
D 4e-4 (0.750), the hinge loss without SN (0.745), batch 128 (0.767 at 1,500 steps).
Under two minutes on a 2-core CPU.
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
  config.model.dcgan.use_batchnorm = False
  config.model.d_spectral_norm = True
  config.loss.name = "hinge"
  config.train.steps = 4000
  config.train.batch_size = 64
  config.train.ema_decay = 0.99
  config.checkpoint.every = 1000
  config.log.sample_every = 1000
  return config
