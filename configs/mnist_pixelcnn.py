"""Gated PixelCNN on dynamically binarized MNIST, sized for about an hour on a 2-core CPU.

van den Oord et al. 2016 ("Conditional Image Generation with PixelCNN Decoders",
arXiv:1606.05328): vertical and horizontal stacks (no blind spot), gated units, a 7x7
first block (mask A) and 3x3 blocks after it, 1x1 output layers; here a Bernoulli per
pixel, as the PixelCNN numbers on binarized MNIST (81.30 nats, "Pixel Recurrent Neural
Networks", arXiv:1601.06759, Table 4) are reported. Their networks are wider and deeper
and train for far longer on GPUs; this recipe keeps 48 feature maps and 1 + 5 blocks so
that a run fits the hour (measured on the 2-core CPU with XLA:CPU's Eigen convolutions:
32 maps 6.1, 48 maps 4.4 and 64 maps 2.6 steps/s over the first 300-400 steps,
compilation included). The training images are binarized afresh for every batch;
the held-out likelihood (``python -m jaxgan.evaluate --workdir W --metrics nll_exact``) is
of the test split binarized once with seed 0. Its figures, the learning curve and the time
are in the README.
"""

from jaxgan.config import default_config


def get_config():
  config = default_config()
  config.method = "pixelcnn"
  config.data.name = "mnist"
  config.data.resolution = 28
  config.data.channels = 1
  config.pixelcnn.channels = 48
  config.pixelcnn.layers = 5
  config.pixelcnn.first_kernel = 7
  config.pixelcnn.kernel = 3
  config.pixelcnn.head = 128
  config.pixelcnn.likelihood = "bernoulli"
  config.pixelcnn.binarize = "dynamic"
  config.pixelcnn.lr = 1e-3
  config.pixelcnn.lr_schedule = "linear_decay"
  config.train.steps = 15_000  # ~1 h at ~4.5 steps/s on the 2-core CPU
  config.train.batch_size = 32
  config.checkpoint.every = 1_000
  config.log.every = 100
  # the learning curve on held-out data: exact NLL of the first 1,000 test images
  config.eval.every = 1_000
  config.eval.metrics = "nll_exact"
  config.eval.num_samples = 1000
  config.log.sample_every = 0  # ancestral sampling is 784 network passes: see the README's timing
  config.train.host_allocator = "reuse"
  return config
