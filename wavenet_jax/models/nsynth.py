"""The NSynth WaveNet autoencoder (Engel et al. 2017) as magenta's h512_bo16 defines it.

encoder: 8-bit mu-law audio scaled to [-1, 1) -> non-causal conv -> N residual blocks
         (ReLU, dilated non-causal conv, ReLU, 1x1, added back) -> 1x1 bottleneck to E
         channels -> average pooling over `hop` samples: [B, T] -> [B, T / hop, E].
decoder: the project's WaveNet (wavenet.py) with NSynth's settings — scalar input through a
         biased first conv that also feeds the skip sum, filter 3, 30 layers of width 512,
         skips 256 — locally conditioned on the embedding repeated to the sample rate, in
         every layer and the output head.

magenta predicts sample t from samples < t (its input is shifted right by one, a zero
first) with the embedding at t. Our decoder pairs input position j with lc[j] and
predicts sample j + 1, so the decoder sees inputs [0, x_0 .. x_{T-2}] with lc = the
embedding at each predicted sample: the same model, and fast generation (generate.py)
runs it from a single zero input with lc = the upsampled embedding.
"""
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from wavenet_jax.input import audio
from wavenet_jax.models import heads, layers
from wavenet_jax.models.wavenet import WaveNet

H512_DILATIONS = tuple(2**(i % 10) for i in range(30))


class Conv(nn.Module):
  """Non-causal ('SAME') dilated conv with bias: kernel [k, C_in, C_out], as magenta's encoder."""
  in_features: int
  features: int
  filter_width: int
  dilation: int = 1

  @nn.compact
  def __call__(self, x):  # [B, T, C_in] -> [B, T, C_out]
    kernel = self.param('kernel', layers.glorot, (self.filter_width, self.in_features, self.features))
    bias = self.param('bias', layers.zeros, (self.features,))
    y = jax.lax.conv_general_dilated(x.astype(kernel.dtype), kernel, window_strides=(1,), padding='SAME',
                                     rhs_dilation=(self.dilation,),
                                     dimension_numbers=('NWC', 'WIO', 'NWC'))
    return y + bias


class Encoder(nn.Module):
  width: int = 128
  filter_width: int = 3
  dilations: Sequence[int] = H512_DILATIONS
  bottleneck: int = 16
  hop: int = 512

  @nn.compact
  def __call__(self, scaled):  # [B, T] in [-1, 1) -> [B, T / hop, E]
    b, t = scaled.shape
    if t % self.hop:
      raise ValueError(f'the encoder pools over {self.hop} samples: audio length {t} is not a '
                       f'multiple of it')
    en = Conv(1, self.width, self.filter_width, name='start')(scaled[..., None])
    for i, d in enumerate(self.dilations):
      h = Conv(self.width, self.width, self.filter_width, d, name=f'dilated_{i}')(nn.relu(en))
      en = en + layers.Dense(self.width, self.width, name=f'res_{i}')(nn.relu(h))
    en = layers.Dense(self.width, self.bottleneck, name='bottleneck')(en)  # [B, T, E]
    return en.reshape(b, t // self.hop, self.hop, self.bottleneck).mean(axis=2)


def upsample(embedding, hop):
  """[B, F, E] -> [B, F·hop, E]: each frame held for its hop samples (magenta's _condition)."""
  return jnp.repeat(embedding, hop, axis=1)


def decoder_inputs(scaled):
  """[B, T] -> [B, T]: the shift right by one (a zero first) that makes the decoder causal."""
  return jnp.pad(scaled[:, :-1], ((0, 0), (1, 0)))


class Autoencoder(nn.Module):
  encoder: Encoder  # module fields: flax binds them as the children `encoder` and `decoder`
  decoder: WaveNet

  @property
  def hop(self) -> int:
    return self.encoder.hop

  def encode(self, audio_f):  # float audio [B, T] -> [B, T / hop, E]
    return self.encoder(scaled_input(audio_f, self.decoder.quantization_channels))

  def decode(self, scaled, embedding):  # -> decoder outputs [B, T, C] for every sample
    lc = upsample(embedding, self.hop)
    return self.decoder(decoder_inputs(scaled), None, lc)

  def inputs(self, audio_f):
    """float audio [B, T] -> (encoder input, decoder input before its shift, targets), [B, T]
    each. The encoder always reads NSynth's scaled 8-bit mu-law; the decoder reads and predicts
    it too (targets: its classes), or with a continuous head the 16-bit levels."""
    q = self.decoder.quantization_channels
    classes = audio.mu_law_encode(audio_f, q, 'nsynth', xp=jnp)
    scaled = audio.nsynth_scalar(classes, q, xp=jnp)
    if heads.continuous(self.decoder.output):
      levels = heads.quantize(audio_f)
      return scaled, levels, levels
    return scaled, scaled, classes

  def __call__(self, audio_f):
    """float audio [B, T] -> (decoder outputs [B, T, C], targets [B, T], embedding [B, F, E])."""
    encoder_input, decoder_input, targets = self.inputs(audio_f)
    embedding = self.encoder(encoder_input)
    return self.decode(decoder_input, embedding), targets, embedding


def scaled_input(audio_f, q=256):
  """float audio -> NSynth's network input: its 8-bit mu-law class scaled to [-1, 1)."""
  return audio.nsynth_scalar(audio.mu_law_encode(audio_f, q, 'nsynth', xp=jnp), q, xp=jnp)


def encoder_from_config(e: ml_collections.ConfigDict) -> Encoder:
  """config.model.encoder -> the encoder."""
  return Encoder(width=e.width, filter_width=e.filter_width, dilations=tuple(e.dilations),
                 bottleneck=e.bottleneck, hop=e.hop)


def from_config(m: ml_collections.ConfigDict) -> Autoencoder:
  """config.model (with an `encoder` sub-dict) -> the autoencoder."""
  e = m.encoder
  encoder = encoder_from_config(e)
  decoder = WaveNet.from_config(m)
  if decoder.lc_channels != e.bottleneck or not decoder.scalar_input or m.mu_law != 'nsynth':
    raise ValueError('model: the NSynth decoder takes scalar input (scalar_input=True), mu_law '
                     f"'nsynth' and lc_channels = encoder.bottleneck ({e.bottleneck})")
  return Autoencoder(encoder=encoder, decoder=decoder)


def h512_bo16_config() -> ml_collections.ConfigDict:
  """magenta's h512_bo16 as model config fields (decoder fields + an `encoder` sub-dict)."""
  return ml_collections.ConfigDict(dict(
      filter_width=3, dilations=H512_DILATIONS, residual_channels=512, dilation_channels=512,
      skip_channels=256, quantization_channels=256, mu_law='nsynth', use_biases=True,
      scalar_input=True, initial_filter_width=3, gc_cardinality=0, gc_channels=32,
      lc_channels=16, input_bias=True, input_skip=True,
      output='categorical', num_mixtures=10, log_scale_min=-7.0,
      encoder=dict(width=128, filter_width=3, dilations=H512_DILATIONS, bottleneck=16, hop=512)))


def tiny_config() -> ml_collections.ConfigDict:
  """A CPU-sized autoencoder of the same shape (for tests, demos and tiny configs)."""
  c = h512_bo16_config()
  c.dilations = (1, 2, 4, 8, 1, 2, 4, 8)
  c.residual_channels = c.dilation_channels = 16
  c.skip_channels = 16
  c.encoder.width = 16
  c.encoder.dilations = (1, 2, 4, 8, 1, 2, 4, 8)
  c.encoder.bottleneck = c.lc_channels = 4
  c.encoder.hop = 64
  return c
