"""The fully connected GAN of Goodfellow et al. 2014 on MNIST, judged on their Parzen protocol.

Goodfellow et al. 2014 ("Generative Adversarial Nets", arXiv:1406.2661, Sec. 5 and their
``mnist.yaml``): G 100 -> 1200 -> 1200 -> 784 ReLU units; D two layers of 240 maxout units
of 5 pieces; batch 100. Their Parzen-window log-likelihood on MNIST (Table 1): 225 +- 2
(``python -m jaxgan.evaluate --workdir W --metrics parzen``). Differences: Adam (2e-4,
beta1 0.5) instead of SGD with momentum and no dropout in D, a tanh output on jaxgan's
[-1, 1] images (their sigmoid on [0, 1]), Gaussian latents, and an EMA of G's weights for
sampling. The figure this recipe reaches, and its time, are in the README.
"""

from jaxgan.config import default_config


def get_config():
  config = default_config()
  config.data.name = "mnist"
  config.data.resolution = 28
  config.data.channels = 1
  config.model.generator = "mlp"
  config.model.discriminator = "mlp"
  config.model.latent_dim = 100
  config.model.g_width = 1200
  config.model.d_width = 240
  config.model.mlp.depth = 2
  config.model.mlp.maxout = 5
  config.train.batch_size = 100
  config.train.steps = 10_000
  config.train.ema_decay = 0.999
  config.checkpoint.every = 2_000
  config.log.every = 200
  config.log.sample_every = 2_000
  return config
