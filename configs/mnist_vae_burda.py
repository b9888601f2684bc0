"""The one-stochastic-layer VAE of Burda et al. 2016 on their budget: 3,280 passes.

Burda, Grosse & Salakhutdinov 2016 ("Importance Weighted Autoencoders", arXiv:1509.00519,
Sec. 5): the networks of ``mnist_vae`` (784-200-200-(2x50), tanh, Bernoulli decoder,
dynamically binarized MNIST, Adam beta1 0.9, beta2 0.999, eps 1e-4) trained for
sum_{i=0..7} 3^i = 3,280 passes with the learning rate 1e-3 * 10^(-i/7) in stage i
(``vae.lr_schedule = 'burda_stages'``). They used batches of 20; this recipe keeps batch 100
(5x fewer updates, ~190 steps/s on the 2-core CPU, so ~2.9 h in all: run it in chunks, every
run resumes from its workdir, e.g. ``timeout -s TERM 3600 python -m jaxgan.train --config
configs/mnist_vae_burda.py --workdir W``). Their test NLL for this model is 86.76 nats
(Table 1, VAE, k = 1, one stochastic layer), estimated with k = 5,000 importance samples:
``python -m jaxgan.evaluate --workdir W --metrics nll_iwae,nll_elbo``.
"""

import os

from jaxgan.config import load_recipe


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "mnist_vae.py"))
  config.vae.lr_schedule = "burda_stages"
  config.train.steps = 3_280 * 600  # passes x steps per pass of 60,000 images at batch 100
  config.checkpoint.every = 20_000
  config.log.every = 5_000
  config.log.sample_every = 196_800
  # the held-out ELBO of the first 1,000 test images, ten times over the run
  config.eval.every = 196_800
  config.eval.metrics = "nll_elbo"
  config.eval.num_samples = 1000
  return config
