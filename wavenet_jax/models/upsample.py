"""The vocoder's conditioning network: mel frames [B, F, M] -> features at the sample rate.

Frame i stands for samples [i·hop, (i+1)·hop). Modes:
  stretch_conv  r9y9/wavenet_vocoder's: per stage (scales multiplying to the hop) each step is
                repeated `scale` times, then a 2-D conv over (time, mel) of kernel
                (2·scale + 1, freq_kernel) smooths it, initialised to the average (both
                computed at once at the stage's input rate)
  transposed    per stage a transposed conv of kernel 2·scale, stride scale, its taps shared
                over the mel bands, centred on each step's block (initialised to linear
                interpolation between block centres)
  repeat        each frame held for hop samples, nothing learned
Before them a conv of 2·lookahead + 1 frames (r9y9's cin_pad: without padding, so the input
carries `lookahead` frames of context on each side of the F it stands for) lets a frame see
its neighbours; lookahead 0 skips it.
"""
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

MODES = ('stretch_conv', 'transposed', 'repeat')


class Upsampler(nn.Module):
  num_mels: int = 80
  scales: Sequence[int] = (4, 4, 4, 4)
  mode: str = 'stretch_conv'
  lookahead: int = 2  # frames of context each side (the conv-in sees 2·lookahead + 1)
  freq_kernel: int = 1

  @property
  def hop(self) -> int:
    return int(np.prod(self.scales))

  @property
  def halo(self) -> int:
    """Frames beyond a stretch whose features reach its output through the stage convs: give
    them (past the lookahead) and the stretch's output equals the whole signal's there."""
    if self.mode == 'repeat':
      return 0
    # Each stage reads one step of its input beyond the stretch (stretch_conv: its kernel's
    # 2s + 1 taps over s copies; transposed: the neighbour on each side), and a step at
    # stage i's input is scales[i] · ... · scales[-1] output samples.
    reach = sum(int(np.prod(self.scales[i:])) for i in range(len(self.scales)))
    return -(-reach // self.hop)

  @property
  def channelwise(self) -> bool:
    """Whether everything after the conv-in treats each mel channel alone, the same linear
    map of time for all: then W·stretch(x) = stretch(W·x) for any channel mix W, so a
    projection of the output can be taken at the frame rate (models/parallel_wavegan)."""
    return self.mode != 'stretch_conv' or self.freq_kernel == 1

  def setup(self):
    if self.lookahead:
      k = 2 * self.lookahead + 1
      self.conv_in = self.param('conv_in', nn.initializers.lecun_normal(), (k, self.num_mels, self.num_mels))
    if self.mode == 'stretch_conv':
      self.stages = [self.param(f'stage_{i}', nn.initializers.constant(1.0 / ((2 * s + 1) * self.freq_kernel)),
                                (2 * s + 1, self.freq_kernel, 1, 1)) for i, s in enumerate(self.scales)]
    elif self.mode == 'transposed':  # kernel 2s, stride s, one tap per time offset shared over the mels
      self.stages = [self.param(f'stage_{i}', _bilinear(s), (2 * s,)) for i, s in enumerate(self.scales)]

  def __call__(self, frames):  # [B, F + 2·lookahead, M] -> [B, F·hop, M]
    return self.stretch(self.context(frames))

  def context(self, frames):  # [B, F + 2·lookahead, M] -> [B, F, M]: the conv-in
    if not self.lookahead:
      return frames
    return jax.lax.conv_general_dilated(frames.astype(self.conv_in.dtype), self.conv_in, (1,), 'VALID',
                                        dimension_numbers=('NWC', 'WIO', 'NWC'))

  def stretch(self, x):  # [B, F, C] -> [B, F·hop, C]: the stages (any C when channelwise, else M)
    if self.mode == 'repeat':
      return jnp.repeat(x, self.hop, axis=1)
    for kernel, s in zip(self.stages, self.scales):
      if self.mode == 'stretch_conv':
        x = _stretch_conv_stage(x.astype(kernel.dtype), kernel[:, :, 0, 0], s)
      else:
        x = _transposed_stage(x, kernel, s)
    return x


def _stretch_conv_stage(x, kernel, s):
  """x [B, T, M] -> [B, T·s, M]: x repeated s times along time, then correlated over (time, mel)
  with kernel [2s + 1, fk] (odd fk), zeros beyond the ends: r9y9's stretch and 2-D conv.

  Computed at x's rate (polyphase): output j·s + r reads repeated samples j·s + r - s ..
  j·s + r + s, copies of x[j - 1], x[j], x[j + 1] only, so the taps reading the same copy are
  summed first and each output costs 3·fk products, not (2s + 1)·fk, with no repeated copy.
  """
  b, t, m = x.shape
  fk = kernel.shape[1]
  c = (fk - 1) // 2
  r, k = np.arange(s)[:, None], np.arange(2 * s + 1)[None, :]
  neighbour = (r + k - s) // s  # [s, 2s + 1]: which of x[j - 1], x[j], x[j + 1] tap k reads at phase r
  select = jnp.asarray(np.stack([neighbour == d for d in (-1, 0, 1)], axis=1), kernel.dtype)  # [s, 3, 2s + 1]
  weights = jnp.einsum('rdk,kf->rdf', select, kernel).reshape(s, 3 * fk)  # [s, (d, f)]
  padded = jnp.pad(x, ((0, 0), (1, 1), (c, c)))  # [B, T + 2, M + 2c]
  views = [padded[:, d:d + t, f:f + m] for d in range(3) for f in range(fk)]  # 3fk x [B, T, M]
  # A sum of broadcast products, not a contraction over the 3fk views: XLA fuses it into one
  # pass writing [B, T, s, M] (as a dot it wrote a [s, B·T·M] product and transposed it).
  out = sum(view[:, :, None, :] * weights[None, None, :, q, None] for q, view in enumerate(views))
  return out.reshape(b, t * s, m)


def _transposed_stage(x, taps, s):
  """x [B, T, M] -> [B, T·s, M]: a transposed conv of stride s and kernel 2s (taps shared over
  the mels) cropped by s // 2, so output j·s + r takes input j (tap r + s//2) and the
  neighbour on its side, j - 1 or j + 1; zeros beyond the ends."""
  b, t, m = x.shape
  c, r = s // 2, np.arange(s)
  before = r < s - c
  side_tap = taps[np.where(before, s + r + c, r + c - s)]  # [s]
  previous = jnp.pad(x, ((0, 0), (1, 0), (0, 0)))[:, :-1]  # x[j - 1]
  following = jnp.pad(x, ((0, 0), (0, 1), (0, 0)))[:, 1:]  # x[j + 1]
  side = jnp.where(before[None, None, :, None], previous[:, :, None], following[:, :, None])  # [B, T, s, M]
  out = taps[r + c][None, None, :, None] * x[:, :, None] + side_tap[None, None, :, None] * side
  return out.reshape(b, t * s, m)


def _bilinear(s):
  """Taps of linear interpolation between block centres: 1 - |k - s + 1/2| / s."""
  def init(key, shape, dtype=jnp.float32):
    del key
    return jnp.asarray(1 - np.abs(np.arange(shape[0]) - s + 0.5) / s, dtype)
  return init
