"""Dilated convolutions and the gated residual block, each with a one-step form.

Every layer has two entry points over the same parameters:
  `__call__` — the whole sequence at once (training, teacher forcing, prefill);
  `step`     — one time step from its `filter_width` taps (fast generation's queues).
Both go through `_from_taps`, so the two paths cannot drift apart. A tap j of a
dilated causal conv at time t reads x[t - (k-1-j)·d]; positions before the start read
zeros, which is exactly a generation queue that starts zero-filled. With causal=False
(Parallel WaveGAN's non-causal WaveNet, odd k) tap j reads x[t + (j - (k-1)/2)·d] instead,
zeros past both ends; such a layer has no step. The convs and 1x1s multiply through
`affine`, whose gradients are written out for XLA:CPU's sake.
"""
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

glorot = nn.initializers.glorot_uniform()  # ibab initialises every kernel with Xavier.
zeros = nn.initializers.zeros


def affine(x, w, b=None):
  """x [..., K] @ w [K, F] (+ b [F]) -> [..., F], with hand-written gradients.

  JAX's own transpose rule writes dw as a dot followed by a transpose, which XLA:CPU
  materialises as a transposed copy of the [N, F] cotangent per layer; contracting the
  rows of both 2-D operands needs no copy (docs/performance.md#hand-written-matmul-gradients).
  Same maths as `x @ w + b`, in w's dtype: a bfloat16 train step (training/steps.py casts the
  weights) multiplies in bfloat16, accumulating in float32.
  """
  return _affine(x.astype(w.dtype), w, b)


def _rows(a):  # [..., C] -> [N, C]
  return a.reshape(-1, a.shape[-1])


@jax.custom_vjp
def _affine(x, w, b):  # b: [F] or None (a pytree without leaves)
  y = jnp.matmul(x, w, preferred_element_type=jnp.float32).astype(w.dtype)
  return y if b is None else y + b


def _affine_fwd(x, w, b):
  return _affine(x, w, b), (x, w, b)


def _affine_bwd(residuals, g):
  x, w, b = residuals
  g2 = _rows(g)
  dw = jax.lax.dot_general(_rows(x), g2, (((0,), (0,)), ((), ())),  # contracting the rows of both
                           preferred_element_type=jnp.float32)
  db = None if b is None else g2.astype(jnp.float32).sum(axis=0).astype(b.dtype)
  dx = jnp.matmul(g, w.T, preferred_element_type=jnp.float32).astype(x.dtype)
  return dx, dw.astype(w.dtype), db


_affine.defvjp(_affine_fwd, _affine_bwd)


def causal_taps(x, filter_width, dilation, fill=0, causal=True):
  """[B, T, ...] -> [B, T, k, ...]: tap j at time t is x[t - (k-1-j)·dilation], `fill` before 0;
  causal=False: x[t + (j - (k-1)/2)·dilation], centred, `fill` past both ends."""
  t = x.shape[1]
  pad = (filter_width - 1) * dilation
  widths = [(0, 0)] * x.ndim
  widths[1] = (pad, 0) if causal else (pad // 2, pad - pad // 2)
  padded = jnp.pad(x, widths, constant_values=fill)
  return jnp.stack([padded[:, j * dilation:j * dilation + t] for j in range(filter_width)], axis=2)


class CausalConv(nn.Module):
  """Dilated causal conv, kernel [k, C_in, C_out] (ibab's layout: oldest tap first);
  causal=False: centred taps (module doc), computed by XLA's convolution unless xla_conv=False
  (the same function: the stacked taps times the kernel)."""
  in_features: int
  features: int
  filter_width: int
  dilation: int = 1
  use_bias: bool = False
  causal: bool = True
  xla_conv: bool = True

  def setup(self):
    self.kernel = self.param('kernel', glorot, (self.filter_width, self.in_features, self.features))
    if self.use_bias:
      self.bias = self.param('bias', zeros, (self.features,))

  def _from_taps(self, taps):  # [..., k, C_in] -> [..., C_out]
    flat = taps.reshape(taps.shape[:-2] + (self.filter_width * self.in_features,))
    kernel = self.kernel.reshape(self.filter_width * self.in_features, self.features)
    return affine(flat, kernel, self.bias if self.use_bias else None)

  def __call__(self, x):  # [B, T, C_in] -> [B, T, C_out]
    if self.causal or not self.xla_conv:
      return self._from_taps(causal_taps(x, self.filter_width, self.dilation, causal=self.causal))
    # XLA's convolution: on a CPU Parallel WaveGAN's generator runs ~1.4x faster than with the
    # taps stacked for one matmul (docs/performance.md).
    pad = (self.filter_width - 1) * self.dilation
    y = jax.lax.conv_general_dilated(x.astype(self.kernel.dtype), self.kernel, (1,), [(pad // 2, pad - pad // 2)],
                                     rhs_dilation=(self.dilation,), dimension_numbers=('NWC', 'WIO', 'NWC'))
    return y + self.bias if self.use_bias else y

  def step(self, taps):  # [B, k, C_in] -> [B, C_out]
    return self._from_taps(taps)


class CausalEmbed(nn.Module):
  """CausalConv over one-hot input, computed as row lookups (exactly the one-hot matmul).

  Inputs are class ids; id `num_classes` stands for "before the start" and contributes
  zero (not -1: jnp.take wraps negative ids before its fill mode applies).
  """
  num_classes: int
  features: int
  filter_width: int

  def setup(self):
    self.kernel = self.param('kernel', glorot, (self.filter_width, self.num_classes, self.features))

  def _from_taps(self, taps):  # [..., k] int -> [..., C_out]
    out = 0.0
    for j in range(self.filter_width):
      out = out + jnp.take(self.kernel[j], taps[..., j], axis=0, mode='fill', fill_value=0.0)
    return out

  def __call__(self, ids):  # [B, T] -> [B, T, C_out]
    return self._from_taps(causal_taps(ids, self.filter_width, 1, fill=self.num_classes))

  def step(self, taps):  # [B, k] -> [B, C_out]
    return self._from_taps(taps)


class ResidualBlock(nn.Module):
  """ibab's gated unit: z = tanh(W_f*x + V_f·c) ⊙ σ(W_g*x + V_g·c); x' = x + W_d z.

  The filter and gate convs share one kernel [k, R, 2D] (filter first), so one matmul
  serves both. Conditioning (global and local) arrives already projected to [.., 2D].
  The skip projection is not here: the WaveNet does all layers' skips in one matmul.
  causal=False: the conv's taps are centred (Parallel WaveGAN's), and x' = (x + W_d z)·scale
  with residual_scale √½ there.
  """
  residual_channels: int
  dilation_channels: int
  filter_width: int
  dilation: int
  use_bias: bool
  causal: bool = True
  residual_scale: float = 1.0

  def setup(self):
    self.conv = CausalConv(self.residual_channels, 2 * self.dilation_channels, self.filter_width,
                           self.dilation, self.use_bias, self.causal, name='filter_gate')
    self.dense = Dense(self.dilation_channels, self.residual_channels, self.use_bias, name='dense')

  def _gate(self, fg, cond):  # [..., 2D] -> [..., D]
    if cond is not None:
      fg = fg + cond
    f, g = jnp.split(fg, 2, axis=-1)
    return jnp.tanh(f) * nn.sigmoid(g)

  def _residual(self, x, z):  # x' = (x + W_d z)·residual_scale
    if not self.causal:
      # One matmul, [z, x] @ [W_d; I]·scale: as adds, XLA:CPU fused each layer's residual with
      # every one before it and re-derived the whole chain in each layer (quadratic): Parallel
      # WaveGAN's train step 2.5x slower, its vocoding 1.1x (docs/performance.md).
      return self.dense.plus(z, x, self.residual_scale)
    out = x + self.dense(z)
    return out if self.residual_scale == 1.0 else out * self.residual_scale

  def __call__(self, x, cond=None):  # [B, T, R], [B, T or 1, 2D] -> z [B, T, D], x' [B, T, R]
    z = self._gate(self.conv(x), cond)
    return z, self._residual(x, z)

  def step(self, taps, cond=None):  # [B, k, R], [B, 2D] -> z [B, D], x' [B, R]
    z = self._gate(self.conv.step(taps), cond)
    return z, self._residual(taps[:, -1], z)


class Dense(nn.Module):
  """1x1 conv: kernel [C_in, C_out]. Works on any leading shape, so it is its own step."""
  in_features: int
  features: int
  use_bias: bool = True

  def setup(self):
    self.kernel = self.param('kernel', glorot, (self.in_features, self.features))
    if self.use_bias:
      self.bias = self.param('bias', zeros, (self.features,))

  def __call__(self, x):  # [..., C_in] -> [..., C_out]
    return affine(x, self.kernel, self.bias if self.use_bias else None)

  def plus(self, x, y, scale=1.0):  # [..., C_in], [..., C_out] -> (y + W x + b)·scale [..., C_out]
    """The layer's output added to y, scaled, as one matmul of [x, y] with [W; I]·scale."""
    eye = jnp.eye(self.features, dtype=self.kernel.dtype)
    kernel = jnp.concatenate([self.kernel, eye], axis=0) * scale
    return affine(jnp.concatenate([x, y.astype(self.kernel.dtype)], axis=-1), kernel,
                  self.bias * scale if self.use_bias else None)


# --------------------------------------------------------------- generation queues
# A layer with filter k and dilation d reads its inputs at t, t - d, ..., t - (k-1)·d: a
# ring buffer of the last (k-1)·d + 1 inputs, slot s holding time s (mod size). Each step
# writes x_t first and then reads all k taps from the updated ring: the old ring then has
# no reader besides the write, so XLA updates it in place instead of copying every queue
# every sample (which made batched generation memory-bound). O(1) in d per step.

def queue_size(filter_width, dilation):
  return (filter_width - 1) * dilation + 1


def queue_slots(t, filter_width, dilations):
  """Ring slot of every tap at step t >= 0 for layers of these dilations: [L, k], oldest first.

  One small kernel for all layers: computed per layer beside each ring access, XLA gives
  every distinct (size, lag) its own scalar kernel. The slots are plain remainders of
  non-negative numbers (every lag is < M): Python's floor modulo costs XLA more.
  Evidence: docs/performance.md#queue-kernels.
  """
  k = filter_width
  sizes = np.array([[queue_size(k, d)] * k for d in dilations], np.int32)
  lags = np.array([[(k - 1 - j) * d for j in range(k)] for d in dilations], np.int32)
  return jax.lax.rem(t + sizes - lags, sizes)


def queue_step(queue, slots, x_t):
  """Ring [B, M, ...], its taps' slots [k] (queue_slots; the last is now's), x_t [B, ...]
  -> (taps [B, k, ...] oldest first, ring).

  The taps are k slices of the ring joined along the tap axis, which XLA emits as one
  kernel; a gather of the k slots would write them tap-major ([k, B, ...]) and need a
  transposing copy per layer (docs/performance.md#queue-kernels).
  """
  k = slots.shape[0]
  start = (0, slots[k - 1]) + (0,) * (queue.ndim - 2)
  queue = jax.lax.dynamic_update_slice(queue, x_t[:, None].astype(queue.dtype), start)
  taps = [jax.lax.dynamic_slice_in_dim(queue, slots[j], 1, axis=1) for j in range(k)]
  return jnp.concatenate(taps, axis=1), queue
