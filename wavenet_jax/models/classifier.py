"""Audio classification from the NSynth encoder: a pooled embedding -> MLP -> class logits.

Two models, both starting from a pretrained autoencoder (ours or magenta's, checkpoints/magenta.py):
  Classifier             encoder + head: "fine-tuned encoder", trained on cross entropy;
  AutoencoderClassifier  the whole autoencoder + a head on its encoder: "fine-tuned
                         autoencoder", two outputs, trained on reconstruction CE + w · class CE.
Their params keep the autoencoder's module names (`encoder`, `decoder`) beside `head`, so
an autoencoder checkpoint initialises them module by module (train.init_from).

Pooling turns the variable number of embedding frames into one vector, ignoring frames
that are padding (a clip shorter than the crop): mean, max, stats (mean and standard
deviation side by side: the x-vector's statistics pooling, 2·E wide; speaker identity lives
in how the frames vary as much as in their average), or attention (a learnt score per
frame, softmax over the clip's frames, the weighted mean).
"""
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from wavenet_jax.models import layers, nsynth

POOLINGS = ('mean', 'max', 'stats', 'attention')
STATS_EPSILON = 1e-6  # under the stats pooling's square root: a finite gradient at zero variance


def frame_mask(mask, hop):
  """Sample mask [B, T] -> frame mask [B, T / hop]: a frame counts if any of its samples is audio."""
  b, t = mask.shape
  return mask.reshape(b, t // hop, hop).max(axis=-1)


class Head(nn.Module):
  """Embedding frames [B, F, E] (+ frame mask [B, F]) -> class logits [B, K]."""
  in_features: int
  num_classes: int
  pooling: str = 'mean'
  hidden: Sequence[int] = (256,)
  attention_channels: int = 64

  @nn.compact
  def __call__(self, frames, mask):
    valid = mask[..., None] > 0  # [B, F, 1]
    width = self.in_features
    if self.pooling in ('mean', 'stats'):
      count = jnp.maximum(jnp.sum(valid, 1), 1)  # [B, 1]
      pooled = jnp.sum(jnp.where(valid, frames, 0.0), 1) / count  # [B, E]
      if self.pooling == 'stats':
        variance = jnp.sum(jnp.where(valid, frames - pooled[:, None], 0.0)**2, 1) / count
        pooled = jnp.concatenate([pooled, jnp.sqrt(variance + STATS_EPSILON)], -1)  # [B, 2E]
        width = 2 * self.in_features
    elif self.pooling == 'max':
      pooled = jnp.max(jnp.where(valid, frames, -jnp.inf), 1)
      pooled = jnp.where(jnp.any(valid, 1), pooled, 0.0)  # an all-padding example pools to 0
    else:
      h = jnp.tanh(layers.Dense(self.in_features, self.attention_channels, name='attention')(frames))
      scores = layers.Dense(self.attention_channels, 1, name='score')(h)  # [B, F, 1]
      weights = jax.nn.softmax(jnp.where(valid, scores, -1e30), axis=1) * valid
      pooled = jnp.sum(weights * frames, 1)  # [B, E]
    x = pooled
    for i, n in enumerate(self.hidden):
      x = nn.relu(layers.Dense(width, n, name=f'hidden_{i}')(x))
      width = n
    return layers.Dense(width, self.num_classes, name='logits')(x)  # [B, K]


class Classifier(nn.Module):
  """The NSynth encoder and a classification head. audio [B, T], mask [B, T] -> logits [B, K]."""
  encoder: nsynth.Encoder
  head: Head
  quantization_channels: int = 256
  freeze_encoder: bool = False  # no gradient flows into the encoder (and none is computed)

  def embed(self, audio_f):  # -> [B, T / hop, E]
    embedding = self.encoder(nsynth.scaled_input(audio_f, self.quantization_channels))
    return jax.lax.stop_gradient(embedding) if self.freeze_encoder else embedding

  def __call__(self, audio_f, mask):
    return self.head(self.embed(audio_f), frame_mask(mask, self.encoder.hop))


class AutoencoderClassifier(nsynth.Autoencoder):
  """The autoencoder with a second, classification head on its encoder.

  audio [B, T], mask [B, T] -> (decoder outputs [B, T, C], targets [B, T] (Autoencoder.inputs),
  embedding [B, F, E], class logits [B, K]).
  """
  head: Head = None
  freeze_encoder: bool = False  # the decoder and head still train

  def __call__(self, audio_f, mask):
    encoder_input, decoder_input, targets = self.inputs(audio_f)
    embedding = self.encoder(encoder_input)
    if self.freeze_encoder:
      embedding = jax.lax.stop_gradient(embedding)
    outputs = self.decode(decoder_input, embedding)
    return outputs, targets, embedding, self.head(embedding, frame_mask(mask, self.hop))


def from_config(m: ml_collections.ConfigDict, num_classes: int, freeze_encoder: bool = False,
                two_heads: bool = False):
  """config.model (an autoencoder config + `classifier` sub-dict) -> the classifier model;
  two_heads: the whole autoencoder with the head on its encoder."""
  c = m.classifier
  head = Head(in_features=m.encoder.bottleneck, num_classes=num_classes, pooling=c.pooling,
              hidden=tuple(c.hidden), attention_channels=c.attention_channels)
  ae = nsynth.from_config(m)
  if not two_heads:
    return Classifier(encoder=ae.encoder, head=head, quantization_channels=m.quantization_channels,
                      freeze_encoder=freeze_encoder)
  return AutoencoderClassifier(encoder=ae.encoder, decoder=ae.decoder, head=head,
                               freeze_encoder=freeze_encoder)
