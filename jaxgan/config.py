"""Configuration: the default schema, recipe loading, ``--config.a.b=v`` overrides, checks.

Every recipe in ``configs/`` is ``get_config()`` returning :func:`default_config` with a few
fields changed, so a recipe reads as a short diff against the default. The default is the
schema: a key that is not in it is a typo, and fails at once naming the closest valid key.
"""

from __future__ import annotations

import ast
import difflib
import math
import importlib.util
import json
import os
from typing import Any, Iterable

import ml_collections

from jaxgan import data, hostmem, models, regularizers
from jaxgan.errors import ConfigError

# Keys whose change makes an existing workdir's checkpoints unusable (parameter shapes,
# data the parameters were fit to). Everything else (steps, learning rates, logging) may
# change between a run and its resume.
STRUCTURAL_PREFIXES = ("method", "model.", "data.name", "data.resolution", "data.channels",
                       "train.num_seeds", "vae.arch", "vae.hidden", "vae.depth", "vae.width",
                       "vae.likelihood", "pixelcnn.channels", "pixelcnn.layers", "pixelcnn.first_kernel",
                       "pixelcnn.kernel", "pixelcnn.head", "pixelcnn.likelihood", "pixelcnn.conditional")
# Keys where only part of the value is structural, with what they switch (a view of the
# flat config): EMA on or off adds or removes a parameter copy from the state, whatever the
# decay or half-life; ADA on or off its probability, whatever the pipeline.
STRUCTURAL_VIEWS = {
    ("train.ema_decay", "train.ema_kimg"): ("EMA", lambda c: "on" if c["train.ema_decay"] > 0 or c["train.ema_kimg"] > 0
                                            else "off"),
    ("train.ada_pipeline",): ("ADA", lambda c: "on" if c["train.ada_pipeline"].strip() else "off")}
# Keys of earlier versions and where they live now. Workdirs written before a rename are
# read with their keys moved (their checkpoints resume unchanged); a renamed key given on
# the command line or in a recipe is refused naming its new place.
RENAMED_KEYS = {
    "model.mlp_depth": "model.mlp.depth",
    "model.mlp_g_batchnorm": "model.mlp.batchnorm",
    "model.mlp_d_maxout": "model.mlp.maxout",
    "model.mlp_init_std": "model.mlp.init_std",
    "model.d_batchnorm": "model.dcgan.use_batchnorm",
}


def default_config() -> ml_collections.ConfigDict:
  """The full schema with jaxgan's defaults: DCGAN on the embedded ``digits`` data at 16x16."""
  c = ml_collections.ConfigDict()
  c.method = "gan"              # model family, see jaxgan.methods.METHODS
  c.seed = 0
  c.dtype = "float32"           # G and D arithmetic: float32, or bfloat16 (mixed precision)

  c.data = ml_collections.ConfigDict()
  c.data.name = "digits"        # registry name, see jaxgan.data.DATASETS
  c.data.resolution = 16        # image side; ignored by 2D point sets
  c.data.channels = 1           # image channels; ignored by 2D point sets
  c.data.num_examples = 1024    # size of generated sets (synthetic_images)
  c.data.limit = 0              # > 0: train on this many examples of the split (a fixed random subset)
  c.data.split = "train"        # tfds split of real data sets (mnist, fashion_mnist)
  c.data.source = "jaxgan"      # real data sets: 'jaxgan' builders (offline) or 'tfds_catalog'
  c.data.manual_dir = ""        # original files; '' = $JAXGAN_DATA_DIR/<name>
  c.data.path = ""              # image_folder: the directory of images (sub-folders = classes)
  c.data.data_dir = ""          # prepared array_record files; '' = ~/.cache/jaxgan/tensorflow_datasets
  c.data.in_memory_mb = 2048    # real data sets smaller than this are decoded once into memory
  c.data.prefetch = 2           # batches prepared ahead on host threads (real data sets)
  c.data.workers = 1            # host threads preparing those batches

  c.model = ml_collections.ConfigDict()
  c.model.generator = "dcgan"       # see jaxgan.models.GENERATORS
  c.model.discriminator = "dcgan"   # see jaxgan.models.DISCRIMINATORS
  c.model.latent_dim = 100
  c.model.g_width = 64          # DCGAN: channels of G's last hidden layer; MLP: hidden units
  c.model.d_width = 64          # DCGAN: channels of D's first layer; MLP: hidden units
  c.model.d_spectral_norm = False  # spectral normalization of D's weights (Miyato et al. 2018)
  c.model.pack = 1              # PacGAN: D judges packs of this many samples (Lin et al. 2018)
  c.model.g_spectral_norm = False  # spectral normalization of G's weights too (SAGAN)
  c.model.g_conditioning = "none"  # class-conditional G: none, embed, cbn (jaxgan.models.conditioning)
  c.model.d_conditioning = "none"  # class-conditional D: none, concat, projection, acgan
  c.model.attention_res = 0     # SAGAN self-attention on the feature maps of this size; 0: none
  c.model.d_minibatch = "none"  # layer before D's logit: none, stddev, discrimination
  # Each architecture's own options, with the module's defaults (jaxgan.models.Network):
  # model.mlp.{depth, batchnorm, maxout, init_std}, model.dcgan.use_batchnorm, ...
  for section, options in models.option_sections().items():
    c.model[section] = ml_collections.ConfigDict(options)

  c.loss = ml_collections.ConfigDict()
  c.loss.name = "non_saturating"    # see jaxgan.losses.LOSSES
  c.loss.regularizer = "none"       # D penalty, see jaxgan.regularizers.REGULARIZERS
  c.loss.reg_weight = -1.0          # its weight; < 0: the regularizer's paper default (10)
  c.loss.weight_clip = 0.0          # > 0: clip D's parameters to [-c, c] after each update (WGAN)
  c.loss.reg_weight_final = -1.0  # >= 0: the weight anneals from reg_weight to this (cosine over train.anneal_steps)
  c.loss.reg_every = 1              # lazy regularization: the penalty (x k) on every k-th D update
  c.loss.g_regularizer = "none"   # G penalty: none, path_length (StyleGAN2; jaxgan.regularizers)
  c.loss.g_reg_weight = 2.0       # its weight (the paper's pl_weight)
  c.loss.g_reg_every = 4          # lazy: on every k-th G update, weighted x k
  c.loss.pl_batch_shrink = 2      # path length on batch / shrink examples
  c.loss.pl_decay = 0.01          # running mean of the path lengths
  c.loss.aux_weight = 1.0           # AC-GAN: weight of the auxiliary classification loss

  # method 'vae' (jaxgan.vae): its networks, likelihood and optimizer; the latent size is
  # model.latent_dim and the schedule of steps, batches, checkpoints and logs is train.*.
  c.vae = ml_collections.ConfigDict()
  c.vae.arch = "mlp"            # see jaxgan.models.vae.VAE_ARCHS: mlp, conv
  c.vae.hidden = 200            # mlp: units per hidden layer; conv: units of the dense layer
  c.vae.depth = 2               # mlp: hidden layers in the encoder and in the decoder
  c.vae.width = 32              # conv: channels of the first convolution (then 2x)
  c.vae.likelihood = "bernoulli"  # p(x|z), see jaxgan.likelihoods.PIXEL_LIKELIHOODS: bernoulli, logistic
  c.vae.binarize = "dynamic"    # data -> targets, see jaxgan.likelihoods.BINARIZATIONS
  c.vae.beta = 1.0              # weight of the KL term in the training loss (1: the ELBO)
  c.vae.lr = 1e-3               # Adam (Burda et al. 2016: beta1 0.9, beta2 0.999, eps 1e-4)
  c.vae.lr_schedule = "constant"  # over train.steps, see jaxgan.state.LR_SCHEDULES
  c.vae.beta1 = 0.9
  c.vae.beta2 = 0.999
  c.vae.eps = 1e-4
  c.vae.iwae_k = 5000           # importance samples per image of the nll_iwae metric

  # method 'pixelcnn' (jaxgan.pixelcnn): the gated PixelCNN, its pixel likelihood and optimizer.
  c.pixelcnn = ml_collections.ConfigDict()
  c.pixelcnn.channels = 64      # feature maps of each stack
  c.pixelcnn.layers = 6         # gated blocks after the first (mask A) one
  c.pixelcnn.first_kernel = 7   # the first block's kernel (van den Oord et al. 2016: 7x7)
  c.pixelcnn.kernel = 3         # the other blocks' kernel
  c.pixelcnn.head = 256         # units of the 1x1 output layers
  c.pixelcnn.likelihood = "bernoulli"  # see jaxgan.likelihoods.PIXEL_LIKELIHOODS (categorical: 256 levels)
  c.pixelcnn.binarize = "dynamic"      # see jaxgan.likelihoods.BINARIZATIONS
  c.pixelcnn.conditional = False       # class-conditional (an embedding added to every gate)
  c.pixelcnn.lr = 1e-3
  c.pixelcnn.lr_schedule = "constant"  # over train.steps, see jaxgan.state.LR_SCHEDULES
  c.pixelcnn.beta1 = 0.9
  c.pixelcnn.beta2 = 0.999

  c.train = ml_collections.ConfigDict()
  c.train.steps = 1500          # generator updates
  c.train.batch_size = 64       # global batch, split over devices
  c.train.n_critic = 1          # discriminator updates per generator update
  c.train.g_lr = 2e-4
  c.train.d_lr = 2e-4
  c.train.g_beta1 = 0.5
  c.train.g_beta2 = 0.999
  c.train.d_beta1 = 0.5
  c.train.d_beta2 = 0.999
  c.train.lr_schedule = "constant"  # see jaxgan.state.LR_SCHEDULES
  c.train.g_lr_final = 0.0      # lr_schedule="cosine": the learning rates it ends at
  c.train.d_lr_final = 0.0
  c.train.g_beta2_final = -1.0  # >= 0: Adam's beta2 anneals from g_beta2 to this (cosine; R3GAN)
  c.train.d_beta2_final = -1.0
  c.train.anneal_steps = 0      # G updates over which the cosine schedules run; 0: train.steps
  c.train.ema_decay = 0.0       # EMA of G's parameters for sampling; 0 disables
  c.train.ema_kimg = 0.0        # > 0 instead: the EMA's half-life in thousand images (StyleGAN2: 10)
  c.train.ema_rampup = 0.0      # > 0: half-life at most this x the images seen so far (StyleGAN2-ADA: 0.05)
  c.train.unrolled_steps = 0    # unrolled GAN: G's loss against D after k look-ahead updates
  c.train.augment = ""          # DiffAugment policy on D's inputs, e.g. "color,translation,cutout"
  c.train.ada_pipeline = ""     # ADA (jaxgan.ada): "bgc" (the paper's), "bg", "blit", "color" or a comma list; "" off
  c.train.ada_p = 0.0           # ADA's augmentation probability at step 0
  c.train.ada_target = 0.6      # r_t = E[sign(D(real))] that p steers to; 0 keeps p fixed at ada_p
  c.train.ada_interval = 4      # D updates between adjustments of p
  c.train.ada_kimg = 500.0      # thousand images for p to move from 0 to 1
  c.train.grow_from = 0         # progressive growing (jaxgan.growth) from this resolution, e.g. 4; 0 off
  c.train.stable_kimg = 600.0   # ... thousand real images per stable phase (the ProGAN reference's 600)
  c.train.fade_kimg = 600.0     # ... and per fade-in of the next resolution
  c.train.grad_accum = 1        # microbatches per D and G update (gradient accumulation)
  c.train.steps_per_dispatch = 1  # train steps per host dispatch (lax.scan); see jaxgan.step.multi_step
  c.train.num_devices = 0       # 0: all local devices
  c.train.num_seeds = 1         # K > 1: K runs (seeds seed..seed+K-1) in one vmapped step; jaxgan.members
  c.train.parallel = "pmap"     # "pmap" or "shard_map" (same step, same results)
  c.train.host_allocator = "system"  # "reuse": keep freed host memory (large CPU steps); jaxgan.hostmem

  c.distributed = ml_collections.ConfigDict()  # multi-process runs, see jaxgan.distributed
  c.distributed.coordinator = ""  # "HOST:PORT" of process 0, "auto" (cluster detection), "" (one process)
  c.distributed.num_processes = 0  # 0: $JAXGAN_NUM_PROCESSES
  c.distributed.process_id = -1    # -1: $JAXGAN_PROCESS_ID
  c.distributed.timeout_s = 300    # how long to wait for the other processes to join

  c.checkpoint = ml_collections.ConfigDict()
  c.checkpoint.every = 500
  c.checkpoint.keep = 3

  c.eval = ml_collections.ConfigDict()
  c.eval.every = 0              # steps between metric evaluations during training; 0: off
  c.eval.metrics = ""           # comma list of jaxgan.evaluate metric names, e.g. "fd_lenet"
  c.eval.num_samples = 2000     # generated samples per evaluation
  c.eval.best_metric = ""       # keep the best checkpoint by this metric ('' = first of eval.metrics)
  c.eval.best_value = ""        # its value key, e.g. "fd" ('' = the metric's first headline value)
  c.eval.best_mode = "min"      # "min" or "max": which direction is better

  c.log = ml_collections.ConfigDict()
  c.log.every = 50              # metrics to host, progress bar, metrics.jsonl
  c.log.sample_every = 500      # PNG grid (or 2D scatter) from a fixed latent batch
  c.log.num_samples = 64
  c.log.tensorboard = True
  c.log.progress = True
  c.log.report = True           # write WORKDIR/report.html after training (python -m jaxgan.report)
  c.lock()
  return c


def flatten(config: ml_collections.ConfigDict | dict, prefix: str = "") -> dict[str, Any]:
  """``{'train.steps': 1500, ...}``: dotted key -> leaf value."""
  out = {}
  items = config.items() if isinstance(config, dict) else config.to_dict().items()
  for key, value in items:
    if isinstance(value, (dict, ml_collections.ConfigDict)):
      out.update(flatten(value, f"{prefix}{key}."))
    else:
      out[f"{prefix}{key}"] = value
  return out


def _unknown_key_error(key: str, valid: Iterable[str], where: str) -> ConfigError:
  if key in RENAMED_KEYS:
    return ConfigError(f"Config key {key!r} {where} was renamed: it is {RENAMED_KEYS[key]!r} now.")
  valid = sorted(valid)
  close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
  hint = f" Did you mean {close[0]!r}?" if close else ""
  return ConfigError(f"Unknown config key {key!r} {where}.{hint} "
                     f"Valid keys: {', '.join(valid)}.")


def check_keys(config: ml_collections.ConfigDict, where: str = "in the config") -> None:
  """Refuses any key that the default schema does not have."""
  valid = flatten(default_config())
  for key in flatten(config):
    if key not in valid:
      raise _unknown_key_error(key, valid, where)


def _parse_value(text: str, current: Any, key: str) -> Any:
  if isinstance(current, bool):
    low = text.lower()
    if low in ("1", "true", "yes"):
      return True
    if low in ("0", "false", "no"):
      return False
    raise ConfigError(f"--config.{key} expects true/false, got {text!r}")
  if isinstance(current, str):
    return text
  if isinstance(current, float):
    try:
      return float(text)  # also 'nan' and 'inf', which validate() then refuses by name
    except ValueError:
      raise ConfigError(f"--config.{key} expects a number, got {text!r}") from None
  try:
    value = ast.literal_eval(text)
  except (ValueError, SyntaxError):
    value = text  # not a Python literal: treated as a string, refused below unless one is expected
  if isinstance(current, float) and isinstance(value, int):
    value = float(value)
  if isinstance(current, tuple) and isinstance(value, list):
    value = tuple(value)
  if current is not None and not isinstance(value, type(current)):
    raise ConfigError(f"--config.{key} expects a value of type {type(current).__name__}, got {text!r}")
  return value


def apply_overrides(config: ml_collections.ConfigDict, overrides: dict[str, str]) -> None:
  """Sets ``{'train.steps': '200'}`` on ``config``, parsing each value as the field's type."""
  valid = flatten(config)
  for key, text in overrides.items():
    if key not in valid:
      raise _unknown_key_error(key, valid, "given on the command line")
    *parents, leaf = key.split(".")
    node = config
    for p in parents:
      node = node[p]
    with node.unlocked():
      node[leaf] = _parse_value(text, valid[key], key)


def load_recipe(path: str) -> ml_collections.ConfigDict:
  """Imports a config file and returns its ``get_config()``, checked against the schema."""
  if not os.path.isfile(path):
    raise ConfigError(f"Config file {path!r} does not exist. Recipes live in configs/, "
                      "e.g. --config configs/digits_dcgan.py")
  spec = importlib.util.spec_from_file_location("jaxgan_recipe", path)
  module = importlib.util.module_from_spec(spec)
  try:
    spec.loader.exec_module(module)  # a recipe is Python: jaxgan runs it
  except SyntaxError as e:
    raise ConfigError(f"Config file {path!r} is not valid Python: {e.msg} (line {e.lineno}).") from None
  except Exception as e:
    raise ConfigError(f"Config file {path!r} failed while loading: {type(e).__name__}: {e}") from None
  if not callable(getattr(module, "get_config", None)):
    raise ConfigError(f"Config file {path!r} defines no get_config(); a recipe is a Python file with "
                      "def get_config(): returning jaxgan.config.default_config() with fields changed.")
  try:
    config = module.get_config()
  except AttributeError as e:  # ml_collections refuses new keys on the locked schema
    raise ConfigError(f"Config file {path!r} sets a key the schema does not have: {e}") from None
  except Exception as e:
    raise ConfigError(f"Config file {path!r}: get_config() raised {type(e).__name__}: {e}") from None
  check_keys(config, where=f"in {path}")
  return config


def load(path: str, overrides: dict[str, str] | None = None) -> ml_collections.ConfigDict:
  """Recipe file + command-line overrides -> validated config."""
  config = load_recipe(path)
  apply_overrides(config, overrides or {})
  validate(config)
  return config


def _check_annealing(config: ml_collections.ConfigDict) -> None:
  """The cosine schedules' final values: in range, and set only where something anneals."""
  t = config.train
  if t.anneal_steps < 0:
    raise ConfigError(f"train.anneal_steps must be >= 0 (0: train.steps), got {t.anneal_steps}")
  for side in ("g", "d"):
    final = t[f"{side}_lr_final"]
    if final < 0:
      raise ConfigError(f"train.{side}_lr_final must be >= 0, got {final}")
    if final != 0 and t.lr_schedule != "cosine":
      raise ConfigError(f"train.{side}_lr_final={final} is the end of the cosine schedule, but "
                        f"train.lr_schedule={t.lr_schedule!r}; set train.lr_schedule='cosine' or leave it at 0.")
    b2 = t[f"{side}_beta2_final"]
    if b2 >= 1 or (b2 < 0 and b2 != -1):
      raise ConfigError(f"train.{side}_beta2_final must be in [0, 1) (or -1: constant beta2), got {b2}")
  w = config.loss.reg_weight_final
  if w < 0 and w != -1:
    raise ConfigError(f"loss.reg_weight_final must be >= 0 (or -1: constant weight), got {w}")
  if w >= 0 and config.loss.reg_weight < 0:
    raise ConfigError(f"loss.reg_weight_final={w} anneals from loss.reg_weight, which is unset "
                      "(< 0: the regularizer's default); set loss.reg_weight to the start value.")
  annealed = (t.lr_schedule == "cosine" or w >= 0 or t.g_beta2_final >= 0 or t.d_beta2_final >= 0)
  if t.anneal_steps and not annealed:
    raise ConfigError(f"train.anneal_steps={t.anneal_steps} sets the length of the cosine schedules, "
                      "and none is on (train.lr_schedule='cosine', loss.reg_weight_final, "
                      "train.g_beta2_final / d_beta2_final); leave it at 0.")


def validate(config: ml_collections.ConfigDict) -> None:
  """Value checks that need no devices or data (device-count checks live in the trainer)."""
  t = config.train
  for key in ("steps", "batch_size", "n_critic"):
    if t[key] < 1:
      raise ConfigError(f"train.{key} must be >= 1, got {t[key]}")
  for key in ("g_lr", "d_lr"):
    if not (t[key] > 0 and math.isfinite(t[key])):
      raise ConfigError(f"train.{key} must be a finite number > 0, got {t[key]}")
  floats = [(k, v) for k, v in flatten(config).items() if isinstance(v, float) and not math.isfinite(v)]
  if floats:
    raise ConfigError(f"{floats[0][0]}={floats[0][1]}: config values must be finite numbers.")
  if config.data.limit < 0:
    raise ConfigError(f"data.limit must be >= 0 (0: every example), got {config.data.limit}")
  if config.model.pack < 1:
    raise ConfigError(f"model.pack must be >= 1 (1: no packing), got {config.model.pack}")
  models.check_options(config.model)  # the architectures' own options (config.model.<section>)
  if config.loss.reg_every < 1:
    raise ConfigError(f"loss.reg_every must be >= 1 (1: every D update), got {config.loss.reg_every}")
  if config.train.unrolled_steps < 0:
    raise ConfigError(f"train.unrolled_steps must be >= 0 (0: no unrolling), got {config.train.unrolled_steps}")
  k = t.steps_per_dispatch
  if k < 1:
    raise ConfigError(f"train.steps_per_dispatch must be >= 1, got {k}")
  if k > 1:
    every = {"train.steps": t.steps, "log.every": config.log.every,
             "checkpoint.every": config.checkpoint.every, "log.sample_every": config.log.sample_every,
             "eval.every": config.eval.every}
    bad = [f"{key}={value}" for key, value in every.items() if value % k]
    if bad:
      raise ConfigError(f"train.steps_per_dispatch={k} runs {k} steps per call, so logs, "
                        f"checkpoints, pictures and evaluations fall on multiples of {k}; "
                        f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} not. Make them "
                        f"multiples of {k} or lower train.steps_per_dispatch.")
  if t.num_seeds < 1:
    raise ConfigError(f"train.num_seeds must be >= 1 (1: one run; K: K seeds trained together), got {t.num_seeds}")
  if t.num_seeds > 1 and config.eval.every:
    raise ConfigError(f"eval.every={config.eval.every} evaluates one run during training; with "
                      f"train.num_seeds={t.num_seeds} set eval.every=0 and evaluate every member after "
                      "training: python -m jaxgan.evaluate --workdir WORKDIR (all members, mean +- std) "
                      "or --member i.")
  hostmem.HOST_ALLOCATORS.get(t.host_allocator)  # unknown names fail here, listing the valid ones
  if t.grad_accum < 1:
    raise ConfigError(f"train.grad_accum must be >= 1 (1: no accumulation), got {t.grad_accum}")
  if config.loss.weight_clip < 0:
    raise ConfigError(f"loss.weight_clip must be >= 0 (0 disables), got {config.loss.weight_clip}")
  _check_annealing(config)
  regularizers.G_REGULARIZERS.get(config.loss.g_regularizer)
  if config.loss.g_reg_every < 1 or config.loss.pl_batch_shrink < 1 or not 0 < config.loss.pl_decay <= 1:
    raise ConfigError("loss.g_reg_every and loss.pl_batch_shrink must be >= 1 and loss.pl_decay in (0, 1], got "
                      f"{config.loss.g_reg_every}, {config.loss.pl_batch_shrink}, {config.loss.pl_decay}")
  if not 0.0 <= t.ema_decay < 1.0:
    raise ConfigError(f"train.ema_decay must be in [0, 1), got {t.ema_decay}")
  if not (math.isfinite(t.ema_kimg) and t.ema_kimg >= 0 and math.isfinite(t.ema_rampup) and t.ema_rampup >= 0):
    raise ConfigError(f"train.ema_kimg and train.ema_rampup must be finite and >= 0, got {t.ema_kimg} and "
                      f"{t.ema_rampup}")
  if t.ema_kimg > 0 and t.ema_decay > 0:
    raise ConfigError(f"train.ema_decay={t.ema_decay} and train.ema_kimg={t.ema_kimg} both set the EMA's speed; "
                      "set one (ema_kimg: a half-life in images, ema_decay: a decay per step) and the other to 0.")
  if t.ema_rampup > 0 and t.ema_kimg == 0:
    raise ConfigError("train.ema_rampup ramps the half-life of train.ema_kimg; set train.ema_kimg > 0 too.")
  for key in ("every", "keep"):
    if config.checkpoint[key] < 1:
      raise ConfigError(f"checkpoint.{key} must be >= 1, got {config.checkpoint[key]}")
  data.DATASETS.get(config.data.name)  # unknown names fail here, listing the valid ones
  if config.data.source not in ("jaxgan", "tfds_catalog"):
    raise ConfigError(f"data.source must be 'jaxgan' or 'tfds_catalog', got {config.data.source!r}")
  if config.data.prefetch < 0:
    raise ConfigError(f"data.prefetch must be >= 0, got {config.data.prefetch}")
  if config.data.workers < 1:
    raise ConfigError(f"data.workers must be >= 1, got {config.data.workers}")
  e = config.eval
  if e.every < 0 or (e.every and not e.metrics.strip()):
    raise ConfigError(f"eval.every={e.every} needs eval.metrics (e.g. 'fd_lenet'); set "
                      "eval.every=0 to evaluate only after training.")
  if e.every and e.num_samples < 2:
    raise ConfigError(f"eval.num_samples must be >= 2, got {e.num_samples}")
  if e.best_mode not in ("min", "max"):
    raise ConfigError(f"eval.best_mode must be 'min' or 'max', got {e.best_mode!r}")
  if config.log.every < 1:
    raise ConfigError(f"log.every must be >= 1, got {config.log.every}")


def parse_cli_overrides(argv: list[str]) -> tuple[list[str], dict[str, str]]:
  """Splits ``--config.a.b=v`` / ``--config.a.b v`` from the other arguments."""
  rest, overrides, i = [], {}, 0
  while i < len(argv):
    arg = argv[i]
    if arg.startswith("--config."):
      key = arg[len("--config."):]
      if "=" in key:
        key, value = key.split("=", 1)
      elif i + 1 < len(argv):
        i += 1
        value = argv[i]
      else:
        raise ConfigError(f"{arg} needs a value, e.g. {arg}=VALUE")
      overrides[key] = value
    else:
      rest.append(arg)
    i += 1
  return rest, overrides


def for_dataset(name: str, overrides: dict[str, str] | None = None, manual_dir: str = "",
                data_dir: str = "") -> ml_collections.ConfigDict:
  """The default config with ``data.name = name`` at the data set's native resolution
  and channels (as its registry entry declares), then ``overrides``."""
  config = default_config()
  config.data.name = name
  native = data.DATASETS.get(name).native
  if native is not None:
    config.data.resolution, config.data.channels = native
  apply_overrides(config, overrides or {})
  if manual_dir:
    config.data.manual_dir = manual_dir
  if data_dir:
    config.data.data_dir = data_dir
  return config


def to_json(config: ml_collections.ConfigDict) -> str:
  return json.dumps(config.to_dict(), indent=2, sort_keys=True, default=list)


def from_json(text: str) -> ml_collections.ConfigDict:
  """Rebuilds a config saved in a workdir on top of the current schema."""
  config = default_config()
  saved = migrate(json.loads(text))
  check_keys(ml_collections.ConfigDict(saved), where="in the workdir's config.json")
  overrides = flatten(saved)
  with config.unlocked():
    for key, value in overrides.items():
      *parents, leaf = key.split(".")
      node = config
      for p in parents:
        node = node[p]
      current = node[leaf]
      node[leaf] = tuple(value) if isinstance(current, tuple) else value
  return config


def migrate(saved: dict) -> dict:
  """A config dict of an earlier version with its renamed keys (:data:`RENAMED_KEYS`) moved."""
  flat = flatten(saved)
  for old, new in RENAMED_KEYS.items():
    if old in flat:
      flat[new] = flat.pop(old)
  if "model.generator" in flat and "model.discriminator" in flat:
    # Values of architectures the run does not use had no effect (they were flat keys
    # once, set by recipes for any network); they fall back to the defaults.
    unused = tuple(f"model.{s}." for s in _unused_sections(flat))
    flat = {k: v for k, v in flat.items() if not k.startswith(unused)}
  out: dict = {}
  for key, value in flat.items():
    *parents, leaf = key.split(".")
    node = out
    for p in parents:
      node = node.setdefault(p, {})
    node[leaf] = value
  return out


def _unused_sections(config: dict[str, Any]) -> set[str]:
  """``model.<section>`` sub-sections that neither of the config's networks reads."""
  used = {models.GENERATORS.get(config["model.generator"]).section,
          models.DISCRIMINATORS.get(config["model.discriminator"]).section}
  return set(models.option_sections()) - used


def structural_differences(old: ml_collections.ConfigDict, new: ml_collections.ConfigDict) -> list[str]:
  """Dotted keys that differ between two configs and make checkpoints incompatible."""
  a, b = flatten(old), flatten(new)
  # Options of an architecture that neither run uses do not shape any parameter.
  unused = {f"model.{s}." for s in _unused_sections(a) & _unused_sections(b)}
  diffs = [f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in sorted(set(a) | set(b))
           if k.startswith(STRUCTURAL_PREFIXES) and not k.startswith(tuple(unused)) and a.get(k) != b.get(k)]
  for keys, (what, view) in STRUCTURAL_VIEWS.items():
    if view(a) != view(b):
      changed = ", ".join(f"{k}: {a[k]!r} -> {b[k]!r}" for k in keys if a[k] != b[k])
      diffs.append(f"{changed} ({what} {view(a)} -> {view(b)})")
  return diffs
