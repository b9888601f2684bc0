"""DCGAN on Fashion-MNIST at its native 28x28: ``mnist_dcgan`` with the data set swapped.

Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) is read offline from the original IDX files in
``$JAXGAN_DATA_DIR/fashion_mnist`` (or ``--config.data.manual_dir``), prepared once with
jaxgan's tfds builder (``python -m jaxgan.data prepare fashion_mnist``).
"""

import os

from jaxgan.config import load_recipe


def get_config():
  config = load_recipe(os.path.join(os.path.dirname(__file__), "mnist_dcgan.py"))
  config.data.name = "fashion_mnist"
  return config
