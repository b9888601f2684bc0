"""Likelihood metrics: a VAE's held-out estimates through the evaluate command's library,
the refusal of model-based estimates for a GAN, and Parzen windows against brute force."""

import math

import numpy as np
import pytest
from scipy import special

from jaxgan.errors import JaxganError
from jaxgan.metrics import evaluators, parzen
from jaxgan.trainer import train_and_evaluate

from conftest import tiny_dcgan_config
from test_vae import vae_config


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("vae") / "run")
  train_and_evaluate(vae_config(), workdir)
  return workdir


def test_vae_held_out_likelihoods(vae_run):
  # digits has one split: the record name says the estimate is of training images
  results = evaluators.evaluate(vae_run, ["nll_iwae", "nll_elbo"], num_samples=40, say=lambda *a: None)
  iwae, elbo = results["nll_iwae40_train"], results["nll_elbo40_train"]
  assert iwae["protocol"]["k"] == 50 and iwae["protocol"]["images"] == 40
  assert iwae["protocol"]["binarize"] == "dynamic" and iwae["protocol"]["binarization_seed"] == 0
  # the importance-weighted bound is tighter than the ELBO: a lower negative log-likelihood
  assert 0 < iwae["nll"] < elbo["nll"]
  np.testing.assert_allclose(iwae["bits_per_dim"], iwae["nll"] / (256 * math.log(2)))
  again = evaluators.evaluate(vae_run, ["nll_iwae"], num_samples=40, say=lambda *a: None)
  assert again["nll_iwae40_train"]["nll"] == iwae["nll"]  # same seed, same estimate


def test_gan_is_refused_model_likelihoods_naming_parzen(tmp_path):
  workdir = str(tmp_path / "gan")
  train_and_evaluate(tiny_dcgan_config(), workdir)
  with pytest.raises(JaxganError, match=r"method 'gan' has no tractable likelihood.*'parzen'"):
    evaluators.evaluate(workdir, ["nll_iwae"], num_samples=10, say=lambda *a: None)
  with pytest.raises(JaxganError, match=r"first 1,000 of the last 10,000 training images.*train holds 64"):
    evaluators.evaluate(workdir, ["parzen"], num_samples=20, reference_split="test", say=lambda *a: None)


def test_parzen_log_likelihood_equals_brute_force():
  rng = np.random.RandomState(0)
  mu, x = rng.rand(30, 5), rng.rand(7, 5)
  sigma = 0.3
  d = mu.shape[1]
  brute = [special.logsumexp(-np.sum((xi - mu) ** 2, axis=1) / (2 * sigma ** 2)) - math.log(len(mu))
           - d * math.log(sigma) - 0.5 * d * math.log(2 * math.pi) for xi in x]
  np.testing.assert_allclose(parzen.log_likelihoods(x, mu, [sigma])[0], brute, rtol=1e-10)


def test_parzen_picks_sigma_on_validation_and_reports_the_standard_error():
  rng = np.random.RandomState(1)
  samples, validation, test = rng.rand(200, 4), rng.rand(50, 4), rng.rand(80, 4)
  result = parzen.parzen_estimate(samples, validation, test)
  best = int(np.argmax(result["validation_ll"]))
  assert result["sigma"] == parzen.SIGMAS[best]
  ll = parzen.log_likelihoods(test, samples, [result["sigma"]])[0]
  np.testing.assert_allclose([result["ll"], result["ll_se"]], [ll.mean(), ll.std() / math.sqrt(80)])
  with pytest.raises(JaxganError, match="finite numbers > 0"):
    parzen.parzen_estimate(samples, validation, test, sigmas=[0.1, 0.0])


def test_parzen_refuses_validation_test_overlap(vae_run):
  with pytest.raises(JaxganError, match="validation and test images would overlap"):
    evaluators.evaluate(vae_run, ["parzen"], num_samples=20, say=lambda *a: None)  # digits: train only
