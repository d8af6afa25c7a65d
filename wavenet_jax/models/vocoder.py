"""The neural vocoder: the WaveNet decoder locally conditioned on log-mel frames (r9y9's).

frames [B, F + 2·margin, M] -> upsampler -> lc [B, F·hop, M] at the sample rate
-> WaveNet(inputs, lc) -> the next sample's distribution (any head, models/heads.py).

As the NSynth decoder does, input j holds sample j - 1 and is paired with the conditioning
of sample j, the one it predicts: generation starts from one zero input with lc[:, 0].

With lpc_order > 0 (LPCNet's linear prediction, input/lpc.py) the decoder models the
excitation e_t = x_t - p_t instead of x_t, p_t = sum_k a_k x_{t-k} with the taps of the
frame's log-mels: its input j is e_{j-1} (mu-law classes), and two channels join the
upsampled log-mels as lc, p_j and x_{j-1} (`LPC_CHANNELS`). Sample j is then p_j + e_j.
"""
import flax.linen as nn
import jax.numpy as jnp

from wavenet_jax.input import audio as audio_lib
from wavenet_jax.input import lpc, mel
from wavenet_jax.models import layers
from wavenet_jax.models.upsample import Upsampler
from wavenet_jax.models.wavenet import WaveNet


class MelConditioned:
  """What both vocoders (this one and models/parallel_wavegan.ParallelVocoder) share: an
  `upsampler` turning log-mel frames (`features`) into conditioning at the sample rate."""

  @property
  def hop(self) -> int:
    return self.features.hop

  @property
  def margin(self) -> int:
    """Frames of context on each side of a stretch of frames for its conditioning to equal the
    whole signal's: the upsampler's lookahead, then its stage convs' halo."""
    return self.upsampler.lookahead + self.upsampler.halo

  def condition(self, frames):  # [B, F + 2·margin, M] -> [B, F·hop, M]
    return self._crop(self.upsampler(frames))

  def projected_condition(self, frames):
    """frames [B, F + 2·margin, M] -> a function of w [M, C] giving condition(frames) @ w
    [B, F·hop, C]. With a channelwise upsampler the product is taken at the frame rate and
    then stretched (the same function, a hop-th of the products); else after the stretch."""
    if not self.upsampler.channelwise:
      lc = self.condition(frames)
      return lambda w: layers.affine(lc, w)
    x = self.upsampler.context(frames)  # [B, F + 2·halo frames, M]
    return lambda w: self._crop(self.upsampler.stretch(layers.affine(x, w)))

  def _crop(self, lc):  # [B, (F + 2·halo frames)·hop, C] -> [B, F·hop, C]
    halo = self.upsampler.halo * self.hop
    return lc[:, halo:lc.shape[1] - halo]


class Vocoder(MelConditioned, nn.Module):
  upsampler: Upsampler  # module fields: flax binds them as the children `upsampler`, `decoder`
  decoder: WaveNet
  features: mel.Settings
  sample_rate: int
  lpc_order: int = 0  # 0: the decoder models the samples; > 0: the excitation (module doc)

  def __call__(self, inputs, frames, gc_ids=None, num_outputs=None, lpc_inputs=None):
    """inputs [B, T] (sample t - 1 for predicting t, or its excitation) and frames
    [B, F + 2·margin, M] whose F·hop >= T samples end with the T predicted ones; lpc_inputs
    [B, T, LPC_CHANNELS] with lpc_order > 0 -> decoder outputs [B, T or num_outputs, C]."""
    lc = self.condition(frames)[:, -inputs.shape[1]:]
    if self.lpc_order:
      lc = jnp.concatenate([lc, lpc_inputs], axis=-1)
    return self.decoder(inputs, gc_ids, lc, num_outputs)


LPC_CHANNELS = 2  # p_t and x_{t-1}, after the log-mels in the decoder's lc


def lpc_teacher_forcing(model: Vocoder, audio, frames, quantization_channels: int, mu_law: str):
  """Audio [B, S] and its frames [B, (S - mel context) / hop, M] (`mel.log_mel(audio,
  padded=True)`) -> (excitation classes [B, S], predictions p [B, S]) at every sample, from the
  true past samples. The samples of the frames' context before the first frame get p = 0
  (no taps): a training crop reads none of them."""
  before, after = mel.context(model.features)
  taps = lpc.per_sample(lpc.filters(frames, model.features, model.sample_rate, model.lpc_order), model.hop)
  p = lpc.predict(audio, jnp.pad(taps, ((0, 0), (before, after), (0, 0))))
  return audio_lib.mu_law_encode(audio - p, quantization_channels, mu_law, xp=jnp), p  # clips to [-1, 1]


def crop_context(model: Vocoder):
  """(samples before, samples after) the predicted ones a training crop carries: the decoder's
  receptive field of history, rounded up to whole frames, plus the margin frames each side,
  plus half an FFT window each side for the frames' own audio (mel.context). Its
  conditioning then equals the whole clip's at every sample the decoder reads. With linear
  prediction one sample more: the first input's excitation needs its frame's taps."""
  history = -(-(model.decoder.receptive_field - 1 + bool(model.lpc_order)) // model.hop)  # frames
  before, after = mel.context(model.features)
  return (history + model.margin) * model.hop + before, model.margin * model.hop + after


def upsampler_from_config(u, num_mels: int) -> Upsampler:
  return Upsampler(num_mels=num_mels, scales=tuple(u.scales), mode=u.mode, lookahead=u.lookahead,
                   freq_kernel=u.freq_kernel)

