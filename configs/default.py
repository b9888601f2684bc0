"""The default recipe: DCGAN (Radford et al. 2016) on the embedded scikit-learn ``digits``
set at 16x16, non-saturating loss, Adam(2e-4, beta1=0.5) for G and D.

Every other recipe starts from the same schema, ``jaxgan.config.default_config()``, and
changes a few fields.
"""

from jaxgan.config import default_config


def get_config():
  return default_config()
