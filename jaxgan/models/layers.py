"""Layers shared by the generators and discriminators.

One module of ~440 lines on purpose: the convolutions, their CPU matmul formulations and
their custom VJPs share the padding and layout helpers, and are tested as one unit
against ``lax.conv_general_dilated`` / ``jax.grad`` of the plain ops.

``conv_transpose`` is :func:`jax.lax.conv_transpose` with a custom VJP. On XLA:CPU the
plain weight gradient of a strided transposed convolution is lowered to a convolution
with ``lhs_dilation`` and the batch as contracted dimension, which takes a slow path
(~20x slower than every other conv op; see ``PERFORMANCE.md`` in the shared docs).

The fix uses bilinearity. For ``y = T(x, w)`` (the transposed conv) and upstream
gradient ``g``, ``<g, T(x, w)> = <D(g, w), x>``, where ``D(., w)`` is the VJP of ``T`` in
``x`` -- an ordinary *strided* convolution of ``g``. Hence

    dL/dx = D(g, w)                      (what JAX computes anyway)
    dL/dw = d/dw <D(g, w), x>             (the weight gradient of that strided conv)

and both are ordinary-convolution gradients that take XLA's fast paths. All padding and
kernel-layout conventions are inherited from JAX's own transpose rules, so the result is
the same function with the same gradients (tested to 1e-5 against ``jax.grad`` of the
plain version for strides 1 and 2, kernels 3 and 4, SAME and VALID, odd and even sizes).
Other backends compute both with XLA's convolutions (:func:`plain_conv_transpose_grads`);
on CPU, :func:`im2col_conv_transpose_grads` computes ``D(g, w)`` as :func:`im2col_conv2d`
of ``g`` with the flipped, in/out-swapped kernel, and ``dw`` as that product's weight
gradient, so both are matmuls sharing one patch matrix of ``g``. With :func:`patch_matmul`'s
weight gradient transposing the smaller operand, this made the whole DCGAN-32 step 7.4%
faster on the 2-core CPU (1.66 -> 1.80 steps/s, old and new step alternating in one
process), although each gradient alone had not measured faster than XLA's strided
convolutions: timed alone, ops miss how XLA:CPU overlaps the step's independent work.

Its forward pass is, on CPU and for layers with at least ``PHASE_MIN_FEATURES`` output
channels, :func:`phase_conv_transpose`: the transposed conv split into its ``sh * sw``
output phases ("sub-pixel" convolution: Shi et al. 2016, arXiv:1609.05158; Odena et al.
2016, "Deconvolution and Checkerboard Artifacts"), each a stride-1 convolution of the
undilated input computed as one matmul, so no multiply touches an inserted zero.
XLA:CPU's input-dilated convolution (what ``lax.conv_transpose`` lowers to) took 52.9 ms
for the DCGAN-32 G layer 4x4x512 -> 8x8x256 at batch 64 and the phases 29.8 ms (97.9 vs
58.6 ms at batch 128, 203.7 vs 117.7 ms for 8x8x512 -> 16x16x256); with 128 output
channels they were even (38.0 vs 36.8 ms for 8x8x256 -> 16x16x128) and with 64 or fewer
the dilated conv was faster (2.3 vs 22.8 ms with 3), hence the threshold.

``conv2d`` is :func:`jax.lax.conv_general_dilated` (NHWC/HWIO); on CPU only it is chosen
by the layer's shape (:func:`cpu_conv2d`). Strided, 1x1 and few-channel layers are patch
extraction plus one matrix multiplication (im2col), so that the forward pass and both
gradients are large matmuls: measured in the DCGAN-32 step on the 2-core CPU this was
~20% faster than XLA:CPU's convolutions (whose weight gradient with 3 input channels ran
at ~8 GFLOP/s); the same formulation for the *forward* pass of the generator's transposed
convolutions (one matmul, then shifted adds) was slower, so that keeps the phases. The
ResNets' 3x3 stride-1 layers with 32 or more input channels are XLA's own convolution:
for them im2col writes a 9x patch matrix (600 MB for SNGAN G's 64x32x32x256 map; 180 ms
per call for its RGB layer's alone), and XLA:CPU's Eigen convolution, which
:mod:`jaxgan.xlaflags` selects over its YNNPACK one, ran forward, input and weight
gradient at 361 / 348 / 322 GFLOP/s there (PyTorch's oneDNN: 332 / 282 / 330; im2col: 134
/ 185 / 132; ``benchmarks/sngan_ops.py``). Tried on the YNNPACK convolution and dropped
with the switch: its weight gradient (60-70 GFLOP/s) as one matmul per kernel tap, batch
chunks of ~16k pixels, Winograd F(2x2, 3x3), spatial tiling. Other backends use XLA's
convolution unchanged (:func:`jax.lax.platform_dependent`).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

DIMENSION_NUMBERS = ("NHWC", "HWIO", "NHWC")


def plain_conv_transpose(x: jax.Array, kernel: jax.Array, strides: tuple[int, int],
                         padding: str) -> jax.Array:
  """``lax.conv_transpose`` as ``flax.linen.ConvTranspose`` calls it.

  Args:
    x: ``[B, H, W, C_in]``.
    kernel: ``[kh, kw, C_in, C_out]``.
    strides: ``(sh, sw)``.
    padding: ``'SAME'`` (output ``H * sh``) or ``'VALID'``.

  Returns:
    ``[B, H', W', C_out]``.
  """
  return lax.conv_transpose(x, kernel, strides, padding, dimension_numbers=DIMENSION_NUMBERS)


PHASE_MIN_FEATURES = 256  # output channels from which the CPU forward uses the phases


def transpose_padding(x_shape: tuple[int, ...], kernel_shape: tuple[int, ...], strides: tuple[int, int],
                      padding) -> tuple[tuple[int, int], ...]:
  """Spatial ``(lo, hi)`` padding of the input-dilated convolution that
  :func:`plain_conv_transpose` lowers to, read from its jaxpr (so JAX's own conventions
  for ``'SAME'``, ``'VALID'`` and explicit pads are followed, not restated)."""
  return _transpose_padding(tuple(x_shape), tuple(kernel_shape), tuple(strides),
                            padding if isinstance(padding, str) else tuple(map(tuple, padding)))


@functools.lru_cache(maxsize=None)
def _transpose_padding(x_shape, kernel_shape, strides, padding):
  """:func:`transpose_padding` on hashable arguments, traced once per layer shape."""
  jaxpr = jax.make_jaxpr(lambda x, k: plain_conv_transpose(x, k, strides, padding))(
      jax.ShapeDtypeStruct(x_shape, jnp.float32), jax.ShapeDtypeStruct(kernel_shape, jnp.float32))
  (eqn,) = [e for e in jaxpr.jaxpr.eqns if e.primitive.name == "conv_general_dilated"]
  assert tuple(eqn.params["lhs_dilation"]) == tuple(strides), eqn.params
  return tuple(tuple(p) for p in eqn.params["padding"])


def _phase_taps(phase: int, size: int, stride: int, pad_lo: int) -> list[tuple[int, int]]:
  """``(tap, offset)`` pairs with ``y[stride * q + phase] += x[q + offset] * kernel[tap]`` on one
  spatial axis: the taps that land on input samples rather than inserted zeros."""
  return [(t, (phase + t - pad_lo) // stride) for t in range(size) if (phase + t - pad_lo) % stride == 0]


def phase_conv_transpose(x: jax.Array, kernel: jax.Array, strides: tuple[int, int],
                         padding) -> jax.Array:
  """:func:`plain_conv_transpose` computed per output phase, without the inserted zeros.

  Output row ``sh * q + p`` (column likewise) only meets the kernel taps ``t`` with
  ``p + t - pad_lo`` divisible by ``sh``; they read input row ``q + (p + t - pad_lo) // sh``.
  So each of the ``sh * sw`` phases is a stride-1 correlation of the (zero-padded) input
  with a sub-kernel, computed as ``patches [B, H'/sh, W'/sw, taps * C_in] @ sub-kernel
  [taps * C_in, C_out]``; the phases are then interleaved. Falls back to the plain op
  when the output size is not a multiple of the stride (phases of unequal length).

  Args:
    x: ``[B, H, W, C_in]``.
    kernel: ``[kh, kw, C_in, C_out]``.
    strides: ``(sh, sw)``.
    padding: as for :func:`plain_conv_transpose`.

  Returns:
    ``[B, H', W', C_out]``, equal to :func:`plain_conv_transpose` up to float rounding.
  """
  b, h, w, c_in = x.shape
  kh, kw, _, c_out = kernel.shape
  sh, sw = strides
  pads = transpose_padding(x.shape, kernel.shape, strides, padding)
  out = [(n - 1) * s + 1 + lo + hi - k + 1 for n, s, k, (lo, hi) in zip((h, w), strides, (kh, kw), pads)]
  if out[0] % sh or out[1] % sw:
    return plain_conv_transpose(x, kernel, strides, padding)
  qh, qw = out[0] // sh, out[1] // sw
  taps_h = [_phase_taps(p, kh, sh, pads[0][0]) for p in range(sh)]
  taps_w = [_phase_taps(p, kw, sw, pads[1][0]) for p in range(sw)]
  offsets_h = [d for taps in taps_h for _, d in taps]
  offsets_w = [d for taps in taps_w for _, d in taps]
  lo_h, lo_w = max(0, -min(offsets_h)), max(0, -min(offsets_w))
  x = jnp.pad(x, ((0, 0), (lo_h, max(0, qh - h + max(offsets_h))), (lo_w, max(0, qw - w + max(offsets_w))), (0, 0)))
  rows = []
  for th in taps_h:
    cols = []
    for tw in taps_w:
      pieces = [lax.slice(x, (0, dh + lo_h, dw + lo_w, 0), (b, dh + lo_h + qh, dw + lo_w + qw, c_in))
                for _, dh in th for _, dw in tw]
      sub = jnp.stack([kernel[i, j] for i, _ in th for j, _ in tw]).reshape(-1, c_out)
      patches = pieces[0] if len(pieces) == 1 else jnp.concatenate(pieces, axis=-1)
      cols.append(lax.dot_general(patches, sub, (((3,), (0,)), ((), ()))))
    rows.append(jnp.stack(cols, axis=3))  # [B, qh, qw, sw, C_out]
  return jnp.stack(rows, axis=2).reshape(b, out[0], out[1], c_out)  # from [B, qh, sh, qw, sw, C_out]


def _conv_transpose_forward(x, kernel, strides, padding):
  """The primal: :func:`phase_conv_transpose` on CPU for wide layers, the plain op otherwise."""
  if kernel.shape[-1] < PHASE_MIN_FEATURES or tuple(strides) == (1, 1):
    return plain_conv_transpose(x, kernel, strides, padding)
  return lax.platform_dependent(x, kernel, cpu=lambda x, k: phase_conv_transpose(x, k, strides, padding),
                                default=lambda x, k: plain_conv_transpose(x, k, strides, padding))


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def conv_transpose(x: jax.Array, kernel: jax.Array, strides: tuple[int, int],
                   padding: str) -> jax.Array:
  """Same function as :func:`plain_conv_transpose`, with gradients that avoid the CPU slow path."""
  return _conv_transpose_forward(x, kernel, strides, padding)


def _conv_transpose_fwd(x, kernel, strides, padding):
  return _conv_transpose_forward(x, kernel, strides, padding), (x, kernel)


def transpose_grad_padding(x_shape: tuple[int, ...], kernel_shape: tuple[int, ...], g_shape: tuple[int, ...],
                           strides: tuple[int, int], padding) -> tuple[tuple[int, int], ...]:
  """Spatial pads of the strided correlation ``D(g, w)`` that is the transposed conv's VJP in x.

  The transposed conv is ``y[o] = sum_t x_dilated[o + t - lo] w[t]`` (``lo`` from
  :func:`transpose_padding`), so ``dx[i] = sum_t g[s * i + lo - t] w[t]``: a stride-``s``
  correlation of ``g`` with the spatially flipped kernel, padded by ``k - 1 - lo`` below
  and by whatever makes its output ``x``'s size above (negative means cropped).
  """
  pads = transpose_padding(x_shape, kernel_shape, strides, padding)
  out = []
  for n, n_out, k, s, (lo, _) in zip(x_shape[1:3], g_shape[1:3], kernel_shape[:2], strides, pads):
    below = k - 1 - lo
    out.append((below, s * (n - 1) + k - below - n_out))
  return tuple(out)


def _swap_and_flip(kernel: jax.Array) -> jax.Array:
  """``[kh, kw, A, B] -> [kh, kw, B, A]`` flipped in both spatial axes (its own inverse)."""
  return jnp.flip(kernel, (0, 1)).transpose(0, 1, 3, 2)


def im2col_conv_transpose_grads(x: jax.Array, kernel: jax.Array, g: jax.Array, strides: tuple[int, int],
                                padding) -> tuple[jax.Array, jax.Array]:
  """Both gradients of :func:`plain_conv_transpose` from one patch matrix of ``g``.

  ``dx = D(g, w)`` (see :func:`transpose_grad_padding`) is computed by :func:`im2col_conv2d`
  with the flipped, in/out-swapped kernel, and ``dw`` is that convolution's weight gradient
  for the cotangent ``x`` -- the same patches of ``g``, transposed against ``x``.

  Args:
    x: the layer input ``[B, H, W, C_in]``.
    kernel: ``[kh, kw, C_in, C_out]``.
    g: the output cotangent ``[B, H', W', C_out]``.
    strides, padding: as for :func:`plain_conv_transpose`.

  Returns:
    ``(dx [B, H, W, C_in], dkernel [kh, kw, C_in, C_out])``.
  """
  pads = transpose_grad_padding(x.shape, kernel.shape, g.shape, strides, padding)
  dx, vjp = jax.vjp(lambda k: im2col_conv2d(g, k, strides, pads), _swap_and_flip(kernel))
  (dk,) = vjp(x)
  return dx, _swap_and_flip(dk)


def plain_conv_transpose_grads(x: jax.Array, kernel: jax.Array, g: jax.Array, strides: tuple[int, int],
                               padding) -> tuple[jax.Array, jax.Array]:
  """Both gradients as XLA convolutions: ``dx = D(g, w)`` and ``dw`` = the weight gradient
  of that strided convolution (not of the input-dilated one: see the module docstring)."""

  def input_grad(k):
    # The VJP in x of the transposed conv: an ordinary strided convolution of g.
    # linear_transpose (not vjp) so no dead forward pass is traced.
    return jax.linear_transpose(lambda xx: plain_conv_transpose(xx, k, strides, padding), x)(g)[0]

  # input_grad is linear in the kernel too; its transpose applied to x is dL/dkernel.
  (dkernel,) = jax.linear_transpose(input_grad, kernel)(x)
  return input_grad(kernel), dkernel


def _conv_transpose_bwd(strides, padding, residuals, g):
  x, kernel = residuals
  return lax.platform_dependent(x, kernel, g,
                                cpu=lambda x, k, g: im2col_conv_transpose_grads(x, k, g, strides, padding),
                                default=lambda x, k, g: plain_conv_transpose_grads(x, k, g, strides, padding))


conv_transpose.defvjp(_conv_transpose_fwd, _conv_transpose_bwd)


class _KernelLayer(nn.Module):
  """Shared shell of :class:`Conv` and :class:`ConvTranspose`: a square ``[k, k, C_in,
  features]`` kernel and an optional bias, with flax's parameter names and layout;
  subclasses supply the operation in ``_op``."""
  features: int
  kernel_size: int = 3
  strides: int = 1
  padding: Any = "SAME"
  use_bias: bool = True
  kernel_init: Callable[..., Any] = nn.initializers.lecun_normal()
  bias_init: Callable[..., Any] = nn.initializers.zeros

  def _op(self, x: jax.Array, kernel: jax.Array) -> jax.Array:
    raise NotImplementedError

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    kernel = self.param("kernel", self.kernel_init,
                        (self.kernel_size, self.kernel_size, x.shape[-1], self.features))
    y = self._op(x, kernel.astype(x.dtype))
    if self.use_bias:
      y = y + self.param("bias", self.bias_init, (self.features,)).astype(x.dtype)
    return y


class ConvTranspose(_KernelLayer):
  """Transposed convolution (NHWC) using :func:`conv_transpose`; parameters as ``nn.ConvTranspose``.

  Attributes:
    features: output channels.
    kernel_size: square kernel side.
    strides: upsampling factor per spatial axis.
    padding: ``'SAME'`` or ``'VALID'``.
  """
  kernel_size: int = 4
  strides: int = 2

  def _op(self, x: jax.Array, kernel: jax.Array) -> jax.Array:
    return conv_transpose(x, kernel, (self.strides, self.strides), self.padding)


def conv_padding(x_shape: tuple[int, ...], kernel_shape: tuple[int, ...],
                 strides: tuple[int, int], padding) -> tuple[tuple[int, int], ...]:
  """``'SAME'``/``'VALID'`` or explicit ``((lo, hi), (lo, hi))`` -> explicit spatial pads."""
  if isinstance(padding, str):
    return tuple(lax.padtype_to_pads(x_shape[1:3], kernel_shape[:2], strides, padding))
  return tuple((int(lo), int(hi)) for lo, hi in padding)


def plain_conv2d(x: jax.Array, kernel: jax.Array, strides: tuple[int, int], padding) -> jax.Array:
  """``lax.conv_general_dilated`` as ``flax.linen.Conv`` calls it.

  Args:
    x: ``[B, H, W, C_in]``.
    kernel: ``[kh, kw, C_in, C_out]``.
    strides: ``(sh, sw)``.
    padding: ``'SAME'``, ``'VALID'`` or ``((top, bottom), (left, right))``.

  Returns:
    ``[B, H', W', C_out]``.
  """
  return lax.conv_general_dilated(x, kernel, strides, conv_padding(x.shape, kernel.shape, strides, padding),
                                  dimension_numbers=DIMENSION_NUMBERS)


def im2col_conv2d(x: jax.Array, kernel: jax.Array, strides: tuple[int, int], padding) -> jax.Array:
  """:func:`plain_conv2d` as ``patches [B, H', W', kh*kw*C_in] @ kernel [kh*kw*C_in, C_out]``.

  The patches are ``kh * kw`` strided slices of the padded input, concatenated on the
  channel axis in the kernel's row-major ``(i, j, c)`` order, so the kernel is only
  reshaped. Autodiff turns the slices into pads and adds, and the product into two
  more products, so no convolution primitive remains in forward or backward.
  """
  pads = conv_padding(x.shape, kernel.shape, strides, padding)
  if any(lo < 0 or hi < 0 for lo, hi in pads):
    return plain_conv2d(x, kernel, strides, pads)
  kh, kw, c_in, c_out = kernel.shape
  sh, sw = strides
  x = jnp.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
  b, h, w, _ = x.shape
  ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
  cols = [lax.slice(x, (0, i, j, 0), (b, i + (ho - 1) * sh + 1, j + (wo - 1) * sw + 1, c_in), (1, sh, sw, 1))
          for i in range(kh) for j in range(kw)]
  patches = cols[0] if len(cols) == 1 else jnp.concatenate(cols, axis=-1)
  return patch_matmul(patches, kernel.reshape(kh * kw * c_in, c_out))


@jax.custom_vjp
def patch_matmul(patches: jax.Array, kmat: jax.Array) -> jax.Array:
  """``patches [B, H, W, K] @ kmat [K, N] -> [B, H, W, N]``, whose weight gradient
  transposes the smaller of ``patches`` and the cotangent ``g`` into its own buffer first.

  The autodiff weight gradient ``patches^T @ g`` (``M = B*H*W`` rows) contracts the
  leading axis, which XLA:CPU runs as a transposed-operand Eigen dot. Instead, when
  ``N < K`` it computes ``(g^T @ patches)^T`` with ``g^T [N, M]`` materialized (8x less
  to move than the patches in DCGAN-32's D) and the small ``[N, K]`` result transposed
  after; otherwise ``patches^T`` is materialized. ``optimization_barrier`` keeps XLA from
  folding the transposes back into the dot. Alone, for DCGAN-32's D at batch 64:
  ``[4096, 2048]^T @ [4096, 256]`` took 21.8 ms this way, 38.9 with the patches
  transposed and 33.1 as the plain dot; ``[1024, 4096]^T @ [1024, 512]`` 21.9 / 23.3 / 26.2.
  """
  return lax.dot_general(patches, kmat, (((3,), (0,)), ((), ())))


def _patch_matmul_fwd(patches, kmat):
  return patch_matmul(patches, kmat), (patches, kmat)


def _patch_matmul_bwd(residuals, g):
  patches, kmat = residuals
  dpatches = lax.dot_general(g, kmat, (((3,), (1,)), ((), ())))
  flat_p = patches.reshape(-1, patches.shape[-1])  # [M, K]
  flat_g = g.reshape(-1, g.shape[-1])  # [M, N]
  if flat_g.shape[1] < flat_p.shape[1]:  # transpose the smaller operand: dW^T = g^T @ patches
    return dpatches, lax.optimization_barrier(lax.optimization_barrier(flat_g.T) @ flat_p).T
  return dpatches, lax.optimization_barrier(flat_p.T) @ flat_g


patch_matmul.defvjp(_patch_matmul_fwd, _patch_matmul_bwd)


NATIVE_MIN_FEATURES = 32  # input channels from which a CPU 3x3 stride-1 conv is XLA's own


def cpu_conv2d(x: jax.Array, kernel: jax.Array, strides: tuple[int, int], padding) -> jax.Array:
  """:func:`plain_conv2d` as the CPU computes it best, by the layer's shape: stride-1 3x3
  layers with at least :data:`NATIVE_MIN_FEATURES` input channels (the ResNets'
  convolutions, their RGB output layer included) are XLA's own convolution (with the
  Eigen kernels :mod:`jaxgan.xlaflags` selects; their weight gradient too); the rest
  (strided, 1x1, the 3-channel first layer, other kernels: measured only for DCGAN's 4x4
  and LeNet's 5x5) :func:`im2col_conv2d`."""
  pads = conv_padding(x.shape, kernel.shape, strides, padding)
  if tuple(strides) == (1, 1) and tuple(kernel.shape[:2]) == (3, 3) and kernel.shape[2] >= NATIVE_MIN_FEATURES:
    return plain_conv2d(x, kernel, strides, pads)
  return im2col_conv2d(x, kernel, strides, pads)


def conv2d(x: jax.Array, kernel: jax.Array, strides: tuple[int, int], padding) -> jax.Array:
  """Same function as :func:`plain_conv2d`: :func:`cpu_conv2d` on CPU, XLA's conv elsewhere."""
  return lax.platform_dependent(x, kernel, cpu=lambda x, k: cpu_conv2d(x, k, strides, padding),
                                default=lambda x, k: plain_conv2d(x, k, strides, padding))


class Conv(_KernelLayer):
  """2D convolution (NHWC) using :func:`conv2d`; parameters as ``nn.Conv``.

  Attributes:
    features: output channels.
    kernel_size: square kernel side.
    strides: stride per spatial axis.
    padding: ``'SAME'``, ``'VALID'`` or explicit pairs.
  """

  def _op(self, x: jax.Array, kernel: jax.Array) -> jax.Array:
    return conv2d(x, kernel, (self.strides, self.strides), self.padding)


def batch_norm(train: bool, axis_name: str | None, momentum: float = 0.9) -> nn.BatchNorm:
  """BatchNorm whose training-mode statistics are averaged over ``axis_name`` (all devices)."""
  return nn.BatchNorm(use_running_average=not train, momentum=momentum, epsilon=1e-5,
                      axis_name=axis_name if train else None)


def dcgan_init(stddev: float = 0.02) -> Callable[..., Any]:
  """N(0, 0.02) weights, as in Radford et al. 2016 (DCGAN)."""
  return nn.initializers.normal(stddev)


def leaky_relu(x: jax.Array) -> jax.Array:
  """LeakyReLU with slope 0.2 (DCGAN discriminators)."""
  return jnp.where(x >= 0, x, 0.2 * x)


def spectral(layer: nn.Module, enabled: bool, train: bool) -> Callable[[jax.Array], jax.Array]:
  """``layer`` with spectral normalization of its weights when ``enabled`` (Miyato et al. 2018,
  "Spectral Normalization for GANs", arXiv:1802.05957).

  Uses ``flax.linen.SpectralNorm``: each kernel (reshaped to ``[-1, C_out]``) is divided by
  its largest singular value, estimated by one power-iteration step per call; the
  iteration vector ``u`` and the estimate live in the ``batch_stats`` collection of the
  state and advance only in training (``train=True``). ``u`` depends only on the (replicated)
  parameters, so it stays identical on every device without communication.
  """
  if not enabled:
    return layer
  normalized = nn.SpectralNorm(layer)
  return lambda x: normalized(x, update_stats=train)
