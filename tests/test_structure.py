"""The seams: the method registry, run assembly, facts carried by registry entries, the
architectures' option sub-sections (and old workdirs' keys), and the step in parts."""

import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import config as config_lib
from jaxgan import data, models, run as run_lib, step as step_lib
from jaxgan.errors import ConfigError
from jaxgan.methods import METHODS
from jaxgan.metrics import evaluators
from jaxgan.parallel import AXIS

from conftest import tiny_dcgan_config, toy_config


def test_gan_is_a_registered_method_and_unknown_methods_name_the_closest():
  assert "gan" in METHODS
  c = toy_config()
  c.method = "gn"
  with pytest.raises(ConfigError, match="Unknown method 'gn'.*Did you mean 'gan'"):
    run_lib.build_model(c)


def test_run_assembly_builds_the_step_the_trainer_runs():
  c = toy_config()
  model = run_lib.build_model(c)
  assert model.method is METHODS.get("gan") and model.spec.name == "ring8"
  setup = run_lib.build_step(c)
  state, metrics = setup.step_fn(setup.state, setup.batch)
  assert int(np.asarray(state.step)[0]) == 1 and {"d_loss", "g_loss"} <= set(metrics)
  assert isinstance(setup.per_device_step, functools.partial)
  assert setup.per_device_step.func is step_lib.train_step


def test_architecture_options_live_in_their_sub_section():
  c = config_lib.default_config()
  assert dict(c.model.mlp) == {"depth": 3, "d_depth": 0, "batchnorm": False, "maxout": 0, "init_std": 0.0}
  assert dict(c.model.dcgan) == {"use_batchnorm": True}
  # The defaults are the modules' own.
  assert c.model.mlp.depth == models.MLPGenerator.depth == models.MLPDiscriminator.depth
  with pytest.raises(ConfigError, match="Unknown config key 'model.mlp.dept'.*Did you mean 'model.mlp.depth'"):
    config_lib.apply_overrides(c, {"model.mlp.dept": "2"})
  with pytest.raises(ConfigError, match="'model.mlp_depth'.*renamed.*'model.mlp.depth'"):
    config_lib.apply_overrides(c, {"model.mlp_depth": "2"})
  c = toy_config()
  c.model.mlp.depth, c.model.mlp.maxout = 4, 3
  d = models.build_discriminator(c.model, data.spec(c.data))
  assert (d.depth, d.maxout) == (4, 3)


def test_a_workdir_config_with_the_earlier_flat_keys_is_read_with_them_moved():
  saved = json.loads(config_lib.to_json(toy_config()))
  for section, keys in (("mlp", {"depth": "mlp_depth", "batchnorm": "mlp_g_batchnorm",
                                 "maxout": "mlp_d_maxout", "init_std": "mlp_init_std"}),
                        ("dcgan", {"use_batchnorm": "d_batchnorm"})):
    values = saved["model"].pop(section)
    for new, old in keys.items():
      saved["model"][old] = values[new]
  del saved["method"]
  saved["model"]["mlp_depth"], saved["model"]["mlp_d_maxout"] = 2, 5
  saved["model"]["d_batchnorm"] = False  # set by old recipes for any network: no effect on MLPs
  config = config_lib.from_json(json.dumps(saved))
  assert config.method == "gan" and config.model.mlp.depth == 2 and config.model.mlp.maxout == 5
  assert config.model.dcgan.use_batchnorm is True  # unused section: back to its default
  config_lib.validate(config)
  assert config_lib.structural_differences(config, config_lib.from_json(config_lib.to_json(config))) == []


def test_options_of_unused_networks_are_not_structural():
  a, b = toy_config(), toy_config()
  b.model.dcgan.use_batchnorm = False  # neither run uses a DCGAN
  assert config_lib.structural_differences(a, b) == []
  b.model.mlp.depth = 3
  assert config_lib.structural_differences(a, b) == ["model.mlp.depth: 2 -> 3"]


def test_network_entries_declare_batch_norm():
  c = tiny_dcgan_config()
  assert models.discriminator_has_batch_norm(c.model)
  c.model.dcgan.use_batchnorm = False
  assert not models.discriminator_has_batch_norm(c.model)
  assert models.GENERATORS.get("dcgan").conditional_norm and not models.GENERATORS.get("mlp").conditional_norm


LIKELIHOODS = {"nll_iwae", "nll_elbo", "nll_exact", "parzen"}  # stored images: held-out likelihoods apply


@pytest.mark.parametrize("name, expected", [
    ("ring8", {"modes"}), ("grid25", {"modes"}),
    ("digits", {"digits_classes", "fd_lenet", "kid_lenet", "prd_lenet", "dc_lenet", "classes_lenet",
                "fid", "is", "kid_inception", "prd_inception", "dc_inception"} | LIKELIHOODS),
    ("synthetic_images", {"fid", "is", "kid_inception", "prd_inception", "dc_inception"} | LIKELIHOODS),
])
def test_which_metrics_apply_follows_the_data_sets_facts(name, expected):
  c = config_lib.for_dataset(name)
  spec, entry = data.spec(c.data), data.dataset(c.data)
  applies = {m for m in evaluators.EVALUATORS if evaluators.EVALUATORS.get(m).applies(spec, entry)}
  assert applies == expected
  assert evaluators.resolve_name("kid", spec, entry) == ("kid_lenet" if name == "digits" else "kid_inception")


def test_data_set_entries_carry_reference_split_native_size_and_preparation():
  assert data.DATASETS.get("mnist").reference_split == "test" and data.DATASETS.get("digits").reference_split == "train"
  c = config_lib.for_dataset("cifar10")
  assert (c.data.resolution, c.data.channels) == (32, 3)
  assert data.DATASETS.get("stacked_mnist").metrics == ("stacked_modes",)
  assert data.DATASETS.get("digits").prepare is None and data.DATASETS.get("mnist").prepare is not None
  centres, std = data.DATASETS.get("ring8").modes()
  assert centres.shape == (8, 2) and std == 0.01


def test_d_step_alone_updates_only_d_and_train_step_is_d_steps_then_g_step():
  """The pieces compose: train_step == n_critic d_steps then g_step, run by hand."""
  c = toy_config(n_critic=2, batch_size=8)
  model = run_lib.build_model(c)
  gan, state = model.model, run_lib.fresh_state(model)
  source = data.build(c.data, 8, c.seed)
  batch = jax.tree.map(lambda x: x[0], data.split_for_devices([source.next() for _ in range(2)], 1))

  def by_hand(state, batch):
    step_key = jax.random.fold_in(state.rng, state.step)
    d_keys = jax.random.split(jax.random.fold_in(step_key, 1), 2)
    inputs = step_lib.StepInputs(batch["x"], [None, None], d_keys, jax.random.fold_in(step_key, 2),
                                 step_lib.global_rows(8))
    after_d, _, _ = step_lib.d_step(gan, 8, state, inputs, 0, keep_generated=False)
    state, _, generated = step_lib.d_step(gan, 8, after_d, inputs, 1, keep_generated=True)
    state, _ = step_lib.g_step(gan, 8, state, inputs, generated)
    return after_d, state

  run = lambda f: jax.vmap(f, axis_name=AXIS)(*jax.tree.map(lambda x: jnp.asarray(x)[None], (state, batch)))
  after_d, manual = run(by_hand)
  whole, _ = run(step_lib.make_train_step(gan, 8))
  for a, b in zip(jax.tree.leaves(after_d.g_params), jax.tree.leaves(state.g_params)):
    np.testing.assert_array_equal(np.asarray(a)[0], b)  # a D update leaves G alone
  assert not np.array_equal(jax.tree.leaves(after_d.d_params)[0][0], jax.tree.leaves(state.d_params)[0])
  for a, b in zip(jax.tree.leaves(manual.g_params) + jax.tree.leaves(manual.d_params),
                  jax.tree.leaves(whole.g_params) + jax.tree.leaves(whole.d_params)):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)
