"""Training jaxgan's LeNet feature extractor on a data set's real split.

Trains :class:`jaxgan.metrics.lenet.LeNet` on the real training split of a data set (at
``data.resolution``, as the GAN sees it), measures its accuracy on the test split (data
sets without one, like ``digits``, hold out every 5th image instead), and saves it where
the LeNet metrics look for it: ``<data_dir>/jaxgan_classifiers/lenet_<name>_<resolution>.npz``.

Defaults follow the data set's size: >= 10,000 training images (MNIST, Fashion-MNIST):
width 32, 128 features, 4 epochs; smaller sets (``digits``): width 16, 64 features,
15 epochs, which trains in about 15 seconds.
"""

from __future__ import annotations

from jaxgan import data as data_lib
from jaxgan.errors import DataError
from jaxgan.metrics import extractors, lenet
from jaxgan.reporting import say

HOLDOUT_EVERY = 5


def train_classifier(data_config, epochs: int | None = None, out: str = "", seed: int = 0,
                     progress: bool = True) -> dict:
  """Trains, evaluates and saves the classifier; returns its metadata (with ``path``)."""
  x, y = data_lib.load_arrays(data_config, "train")
  try:
    x_test, y_test = data_lib.load_arrays(data_config, "test")
    test_split = "test"
  except DataError:
    held = (slice(None, None, HOLDOUT_EVERY))
    keep = [i for i in range(len(x)) if i % HOLDOUT_EVERY]
    x_test, y_test, x, y = x[held], y[held], x[keep], y[keep]
    test_split = f"every {HOLDOUT_EVERY}th train image, held out"
  small = len(x) < 10_000
  settings = dict(width=16, feature_dim=64, epochs=15, batch_size=64) if small else \
      dict(width=32, feature_dim=128, epochs=4, batch_size=128)
  if epochs:
    settings["epochs"] = epochs
  every = max(1, settings["epochs"] // 5)

  def report(epoch, acc):
    if progress and (epoch % every == 0 or epoch == settings["epochs"]):
      say(f"epoch {epoch}/{settings['epochs']}: test accuracy {acc:.4f}")
  say(f"Training LeNet on {data_config.name} train ({len(x)} images {x.shape[1:]}), "
      f"testing on {test_split} ({len(x_test)})")
  params, meta = lenet.train(x, y, x_test, y_test, num_classes=int(max(y.max(), y_test.max()) + 1),
                             seed=seed, progress=report, **settings)
  meta.update({"data": data_config.name, "split": "train", "test_split": test_split})
  path = out or extractors.lenet_default_path(data_config)
  lenet.save(path, params, meta)
  return {"path": path, **meta}
