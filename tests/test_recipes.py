"""Every recipe in configs/ builds and takes two train steps on 8 fake CPU devices.

Data files are not needed: image recipes train on ``synthetic_images`` of their own shape,
widths are cut down and ``n_critic`` to 1 (the critic loop is unrolled at trace time, so
compilation grows with it; several critic updates are covered by the step tests) so the
test measures wiring, not speed; everything else (loss, regularizer, conditioning,
attention, unrolling, optimizers, EMA, architecture) is the recipe's own.
"""

import glob
import os

import numpy as np
import pytest

from conftest import REPO
from jaxgan import config as config_lib
from jaxgan import results
from jaxgan.trainer import train_and_evaluate

RECIPES = sorted(p for p in glob.glob(os.path.join(REPO, "configs", "*.py")) if not os.path.basename(p).startswith("_"))


# The recipes behind the README's tables already take their first steps in the drift check
# (tests/test_drift.py, one device); here they run with -m slow.
_IN_DRIFT_CHECK = set(results.fingerprint_recipes())
# The PacGAN paper's recipes differ only in data and pack size (packing itself runs in
# ring8_pacgan / grid25_pacgan); grid25's plain GAN runs by default, the others with -m slow.
_PAPER_VARIANTS = {"ring8_gan_paper", "ring8_pacgan2_paper", "ring8_pacgan3_paper", "ring8_pacgan4_paper",
                   "grid25_pacgan2_paper", "grid25_pacgan3_paper", "grid25_pacgan4_paper",
                   # CPU-sized variants of cifar10_r3gan / cifar10_stylegan2 (other data and widths)
                   "fashion_mnist_r3gan", "fashion_mnist_stylegan2",
                   # ... and of cifar10_stylegan2_ada (2,000 images, with and without ADA)
                   "fashion_mnist_stylegan2_2k", "fashion_mnist_stylegan2_ada",
                   # cifar10_stylegan2_ada is this recipe plus ADA and runs by default
                   "cifar10_stylegan2",
                   # a CPU-sized variant of cifar10_progan (other data, widths and schedule)
                   "fashion_mnist_progan",
                   # image_folder_stylegan2_64 is this recipe at 64 px (and runs by default)
                   "image_folder_stylegan2_256"}
CASES = [pytest.param(p, id=os.path.basename(p)[:-3],
                      marks=pytest.mark.slow if os.path.basename(p)[:-3] in _IN_DRIFT_CHECK | _PAPER_VARIANTS
                      else ())
         for p in RECIPES]


@pytest.mark.parametrize("path", CASES)
def test_recipe_takes_two_steps_on_8_devices(path, tmp_path):
  config = config_lib.load(path)
  if config.data.name not in ("ring8", "grid25"):
    config.data.name, config.data.num_examples, config.data.limit = "synthetic_images", 64, 0
  config.model.g_width = min(config.model.g_width, 8)
  config.model.d_width = min(config.model.d_width, 8)
  if "r3gan" in (config.model.generator, config.model.discriminator):  # widths per stage
    stages = len(config.model.r3gan.widths)
    config.model.r3gan.widths, config.model.r3gan.cardinality = (8,) * stages, (2,) * stages
    config.model.r3gan.blocks = (1,) * stages
  if "stylegan2" in (config.model.generator, config.model.discriminator):
    config.model.stylegan2.max_channels = config.model.stylegan2.w_dim = 8
    config.model.stylegan2.mbstd_group = min(config.model.stylegan2.mbstd_group, 2)
  if "progan" in (config.model.generator, config.model.discriminator):
    config.model.progan.max_channels = 8
    config.model.progan.mbstd_group = min(config.model.progan.mbstd_group, 2)
  config.train.n_critic = 1
  # 2 samples (or PacGAN packs) per device on 8 devices.
  config.train.steps, config.train.num_devices, config.train.steps_per_dispatch = 2, 8, 1
  config.train.batch_size = 16 * config.model.pack
  config.checkpoint.every, config.log.sample_every = 2, 0
  config.eval.num_samples = min(config.eval.num_samples, 16)  # the 64 synthetic images hold that many
  config.log.progress, config.log.tensorboard = False, False
  result = train_and_evaluate(config, str(tmp_path / "run"))
  assert result.step == 2
  assert all(np.isfinite(v) for v in result.metrics.values()), result.metrics
