"""The analytic FLOP counter on cases with known answers."""

import jax
import jax.numpy as jnp

from jaxgan.flops import count_flops
from jaxgan.models import layers


def test_matmul_and_batched_matmul():
  assert count_flops(lambda a, b: a @ b, jnp.zeros((3, 4)), jnp.zeros((4, 5))) == 2 * 3 * 4 * 5
  assert count_flops(lambda a, b: jnp.einsum("bij,bjk->bik", a, b),
                     jnp.zeros((7, 3, 4)), jnp.zeros((7, 4, 5))) == 7 * 2 * 3 * 4 * 5


def test_strided_and_transposed_convolutions_count_useful_work_only():
  x = jnp.zeros((2, 8, 8, 6))
  w = jnp.zeros((4, 4, 6, 5))
  per_conv = 2 * 2 * 4 * 4 * (4 * 4 * 6) * 5  # outputs x taps x in-channels x out-channels
  assert count_flops(lambda x, w: layers.plain_conv2d(x, w, (2, 2), "SAME"), x, w) == per_conv
  assert count_flops(lambda x, w: layers.conv2d(x, w, (2, 2), "SAME"), x, w) == per_conv
  # The transposed conv 4x4 -> 8x8 does the same multiply-adds as the conv 8x8 -> 4x4.
  y = jnp.zeros((2, 4, 4, 5))
  wt = jnp.zeros((4, 4, 5, 6))
  assert count_flops(lambda y, w: layers.plain_conv_transpose(y, w, (2, 2), "SAME"), y, wt) == per_conv


def test_gradients_cost_twice_the_forward_and_dead_code_is_not_traced():
  y = jnp.zeros((2, 4, 4, 5))
  wt = jnp.zeros((4, 4, 5, 6))
  fwd = count_flops(lambda y, w: layers.conv_transpose(y, w, (2, 2), "SAME"), y, wt)
  grad = jax.grad(lambda y, w: jnp.sum(layers.conv_transpose(y, w, (2, 2), "SAME") ** 2), (0, 1))
  assert count_flops(grad, y, wt) == 3 * fwd


def test_unused_results_of_custom_backward_rules_are_not_counted():
  # conv2d's and conv_transpose's custom VJPs return the kernel gradient even when only
  # the input gradient is taken; XLA drops it, and so must the count.
  x = jnp.zeros((2, 8, 8, 6))
  w = jnp.zeros((4, 4, 6, 5))
  for fn in (layers.conv2d, layers.conv_transpose):
    loss = lambda x, w: jnp.sum(fn(x, w, (2, 2), "SAME") ** 2)
    fwd = count_flops(lambda x, w: fn(x, w, (2, 2), "SAME"), x, w)
    assert count_flops(jax.grad(loss), x, w) == 2 * fwd
    assert count_flops(jax.grad(loss, (0, 1)), x, w) == 3 * fwd
  assert count_flops(lambda a: (a @ a, (a @ a) @ a)[0], jnp.zeros((4, 4))) == 2 * 4 ** 3


def test_scan_multiplies_and_cond_takes_one_branch():
  a = jnp.zeros((4, 4))
  one = 2 * 4 ** 3

  def scanned(a):
    return jax.lax.scan(lambda c, _: (c @ a, None), a, None, length=5)[0]

  assert count_flops(scanned, a) == 5 * one
  branchy = lambda p, a: jax.lax.cond(p, lambda a: a @ a, lambda a: (a @ a) @ a, a)
  assert count_flops(branchy, True, a) == 2 * one
