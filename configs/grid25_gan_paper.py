"""The plain GAN of the PacGAN paper on ``grid25``, with the paper's networks, optimizer,
batch and budget (Lin, Khetan, Fanti & Oh 2018, "PacGAN: The power of two samples in
generative adversarial networks", arXiv:1712.04086, Sec. 4.1 and Table 1; the settings are
those of their repository, ``synthetic_data_experiments/2DGrid_GAN&PacGAN/config.py`` and
``pacgan_task.py``).

* G: 2-d standard normal latent, 4 hidden layers of 400 ReLU units, each with BatchNorm
  before the ReLU (no bias), linear output.
* D: 3 maxout layers of 200 units with 5 pieces each, linear logit; every weight from
  N(0, 0.02^2), biases 0 (G too).
* Non-saturating loss, Adam(1e-4, beta1 0.8) for both, one D update per G update,
  batch 100 (of packs: PacGANm's D sees 100 packs of m samples, so its batch is 100 m
  samples, ``grid25_pacgan{2,3,4}_paper``).
* 400 epochs of 100,000 points = 400,000 steps. The paper draws the 100,000 points once;
  jaxgan's mixture source draws fresh points every batch (the same distribution).
* 5 seeds trained together (``train.num_seeds``, one vmapped step), as the issue's
  reproduction table reports means over >= 5 seeds (the paper: 10 runs).

Evaluated as the paper does: 2,500 samples, a sample is high quality within 3 standard
deviations of its nearest mode, a mode counts with one high-quality sample
(``modes_captured_any``; jaxgan's stricter 20-sample rule is ``modes_captured``).
"""

from jaxgan.config import default_config

def get_config():
  config = default_config()
  config.data.name = "grid25"
  config.model.generator = "mlp"
  config.model.discriminator = "mlp"
  config.model.latent_dim = 2
  config.model.g_width = 400
  config.model.d_width = 200
  config.model.mlp.depth = 4
  config.model.mlp.d_depth = 3
  config.model.mlp.batchnorm = True
  config.model.mlp.maxout = 5
  config.model.mlp.init_std = 0.02
  config.train.steps = 400_000
  config.train.batch_size = 100
  config.train.g_lr = 1e-4
  config.train.d_lr = 1e-4
  config.train.g_beta1 = 0.8
  config.train.d_beta1 = 0.8
  config.train.num_seeds = 5
  config.train.num_devices = 1
  config.train.steps_per_dispatch = 50
  config.log.every = 1000
  config.log.sample_every = 50_000
  config.checkpoint.every = 10_000
  return config

