"""VAE on dynamically binarized MNIST, the one-stochastic-layer model of Burda et al. 2016.

Burda, Grosse & Salakhutdinov 2016 ("Importance Weighted Autoencoders", arXiv:1509.00519,
Sec. 5 and Appendix): encoder 784-200-200-(2x50) and decoder 50-200-200-784, tanh units,
a diagonal Gaussian posterior and a Bernoulli decoder; MNIST binarized by drawing each
pixel from Bernoulli(intensity) afresh for every batch; Adam with beta1 0.9, beta2 0.999,
eps 1e-4. Their test log-likelihood is measured with k = 5,000 importance samples
(``python -m jaxgan.evaluate --workdir W --metrics nll_iwae``; ``vae.iwae_k``).

They train for 3,280 passes over the data (batch 20, the learning rate 1e-3 lowered by
10^(1/7) in 8 stages of 3^i passes); this CPU recipe trains for about half an hour instead:
360,000 steps of batch 100 (600 passes, ~190 steps/s on the 2-core CPU) with Adam at 1e-3
decayed linearly to zero over the run. The figures it reaches, and the time, are in the
README.
"""

from jaxgan.config import default_config


def get_config():
  config = default_config()
  config.method = "vae"
  config.data.name = "mnist"
  config.data.resolution = 28
  config.data.channels = 1
  config.model.latent_dim = 50
  config.vae.arch = "mlp"
  config.vae.hidden = 200
  config.vae.depth = 2
  config.vae.likelihood = "bernoulli"
  config.vae.binarize = "dynamic"
  config.vae.lr = 1e-3
  config.vae.lr_schedule = "linear_decay"
  config.train.steps = 360_000
  config.train.batch_size = 100
  config.train.steps_per_dispatch = 50
  config.checkpoint.every = 10_000
  config.log.every = 1_000
  config.log.sample_every = 40_000
  return config
