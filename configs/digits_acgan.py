"""AC-GAN on the embedded ``digits`` (Odena, Olah & Shlens 2017, "Conditional Image
Synthesis with Auxiliary Classifier GANs", arXiv:1610.09585).

``digits_dcgan``'s DCGAN at 16x16 in the paper's setting (non-saturating loss, no
normalization in D, Adam 2e-4 with beta1 0.5, 2,500 steps, no EMA) made
class-conditional: the one-hot digit is appended to G's latent and D gets an auxiliary
10-way classifier head whose cross-entropy is added to D's loss (real and generated
labels) and to G's loss (generated labels). Trains on a 2-core CPU in minutes;
``python -m jaxgan.sample --workdir runs/digits_acgan --label 7`` draws sevens.
"""

import os

from jaxgan.config import load_recipe


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "digits_dcgan.py"))
  config.model.g_conditioning = "embed"
  config.model.d_conditioning = "acgan"
  config.model.d_spectral_norm = False
  config.loss.name = "non_saturating"
  config.train.steps = 2500
  config.train.ema_decay = 0.0
  config.checkpoint.every = 500
  config.log.sample_every = 500
  return config
