"""The neural vocoder: the WaveNet decoder locally conditioned on log-mel frames (r9y9's).

frames [B, F + 2·margin, M] -> upsampler -> lc [B, F·hop, M] at the sample rate
-> WaveNet(inputs, lc) -> the next sample's distribution (any head, models/heads.py).

As the NSynth decoder does, input j holds sample j - 1 and is paired with the conditioning
of sample j, the one it predicts: generation starts from one zero input with lc[:, 0].
"""
import flax.linen as nn

from wavenet_jax.input import mel
from wavenet_jax.models.upsample import Upsampler
from wavenet_jax.models.wavenet import WaveNet


class Vocoder(nn.Module):
  upsampler: Upsampler  # module fields: flax binds them as the children `upsampler`, `decoder`
  decoder: WaveNet
  features: mel.Settings
  sample_rate: int

  @property
  def hop(self) -> int:
    return self.features.hop

  @property
  def margin(self) -> int:
    """Frames of context on each side of a stretch of frames for its conditioning to equal the
    whole signal's: the upsampler's lookahead, then its stage convs' halo."""
    return self.upsampler.lookahead + self.upsampler.halo

  def condition(self, frames):  # [B, F + 2·margin, M] -> [B, F·hop, M]
    halo = self.upsampler.halo * self.hop
    lc = self.upsampler(frames)  # [B, (F + 2·halo frames)·hop, M]
    return lc[:, halo:lc.shape[1] - halo]

  def __call__(self, inputs, frames, gc_ids=None, num_outputs=None):
    """inputs [B, T] (sample t - 1 for predicting t) and frames [B, F + 2·margin, M] whose F·hop
    >= T samples end with the T predicted ones -> decoder outputs [B, T or num_outputs, C]."""
    lc = self.condition(frames)[:, -inputs.shape[1]:]
    return self.decoder(inputs, gc_ids, lc, num_outputs)


def crop_context(model: Vocoder):
  """(samples before, samples after) the predicted ones a training crop carries: the decoder's
  receptive field of history, rounded up to whole frames, plus the margin frames each side,
  plus half an FFT window each side for the frames' own audio (mel.context). Its
  conditioning then equals the whole clip's at every sample the decoder reads."""
  history = -(-(model.decoder.receptive_field - 1) // model.hop)  # frames
  before, after = mel.context(model.features)
  return (history + model.margin) * model.hop + before, model.margin * model.hop + after


def upsampler_from_config(u, num_mels: int) -> Upsampler:
  return Upsampler(num_mels=num_mels, scales=tuple(u.scales), mode=u.mode, lookahead=u.lookahead,
                   freq_kernel=u.freq_kernel)

