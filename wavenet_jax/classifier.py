"""Audio classification from the NSynth encoder (seed 004): a pooled embedding -> MLP -> class logits.

Two models, both starting from a pretrained autoencoder (ours or magenta's, importers.py):
  Classifier             encoder + head: "fine-tuned encoder", trained on cross entropy;
  AutoencoderClassifier  the whole autoencoder + a head on its encoder: "fine-tuned
                         autoencoder", two outputs, trained on reconstruction CE + w · class CE.
Their params keep the autoencoder's module names (`encoder`, `decoder`) beside `head`, so
an autoencoder checkpoint initialises them module by module (train.init_from).

Pooling turns the variable number of embedding frames into one vector, ignoring frames
that are padding (a clip shorter than the crop): mean, max, or attention (a learnt score
per frame, softmax over the clip's frames, the weighted mean).
"""
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from wavenet_jax import audio, config_checks, layers, nsynth

POOLINGS = ('mean', 'max', 'attention')
KINDS = config_checks.CLASSIFIER_KINDS


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
    if self.pooling == 'mean':
      pooled = jnp.sum(jnp.where(valid, frames, 0.0), 1) / jnp.maximum(jnp.sum(valid, 1), 1)
    elif self.pooling == 'max':
      pooled = jnp.max(jnp.where(valid, frames, -jnp.inf), 1)
      pooled = jnp.where(jnp.any(valid, 1), pooled, 0.0)  # an all-padding example pools to 0
    else:
      h = jnp.tanh(layers.Dense(self.in_features, self.attention_channels, name='attention')(frames))
      scores = layers.Dense(self.attention_channels, 1, name='score')(h)  # [B, F, 1]
      weights = jax.nn.softmax(jnp.where(valid, scores, -1e30), axis=1) * valid
      pooled = jnp.sum(weights * frames, 1)  # [B, E]
    x, width = pooled, self.in_features
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

  audio [B, T], mask [B, T] -> (reconstruction logits [B, T, Q], mu-law targets [B, T],
  embedding [B, F, E], class logits [B, K]).
  """
  head: Head = None
  freeze_encoder: bool = False  # the decoder and head still train

  def __call__(self, audio_f, mask):
    q = self.decoder.quantization_channels
    classes = audio.mu_law_encode(audio_f, q, 'nsynth', xp=jnp)
    scaled = audio.nsynth_scalar(classes, q, xp=jnp)
    embedding = self.encoder(scaled)
    if self.freeze_encoder:
      embedding = jax.lax.stop_gradient(embedding)
    logits = self.decode(scaled, embedding)
    return logits, classes, embedding, self.head(embedding, frame_mask(mask, self.hop))


def from_config(m: ml_collections.ConfigDict, num_classes: int, freeze_encoder: bool = False):
  """config.model (an autoencoder config + kind + `classifier` sub-dict) -> the classifier model."""
  c = m.classifier
  head = Head(in_features=m.encoder.bottleneck, num_classes=num_classes, pooling=c.pooling,
              hidden=tuple(c.hidden), attention_channels=c.attention_channels)
  ae = nsynth.from_config(m)
  if m.kind == 'nsynth_classifier':
    return Classifier(encoder=ae.encoder, head=head, quantization_channels=m.quantization_channels,
                      freeze_encoder=freeze_encoder)
  return AutoencoderClassifier(encoder=ae.encoder, decoder=ae.decoder, head=head,
                               freeze_encoder=freeze_encoder)


# ----------------------------------------------------------------------------- losses

def cross_entropy(logits, labels, weights):
  """Mean class cross entropy over the examples with weight 1 (padding examples have 0)."""
  ce = optax.softmax_cross_entropy_with_integer_labels(logits, labels)  # [B]
  return jnp.sum(ce * weights) / jnp.maximum(jnp.sum(weights), 1.0)


def example_weights(mask):
  """[B, T] sample mask -> [B]: 1 for a real crop, 0 for an evaluation padding example."""
  return (jnp.max(mask, axis=1) > 0).astype(jnp.float32)


def _forward(model, params, batch):
  """-> (class logits [B, K], reconstruction nll [B, T] in nats or None without a decoder)."""
  if isinstance(model, AutoencoderClassifier):
    logits, targets, _, class_logits = model.apply(params, batch['audio'], batch['mask'])
    return class_logits, optax.softmax_cross_entropy_with_integer_labels(logits, targets)
  return model.apply(params, batch['audio'], batch['mask']), None


def losses(model, params, batch, classification_weight=1.0):
  """-> (loss, metrics): cross entropy, and for the two-head model recon + w · class CE."""
  weights = example_weights(batch['mask'])
  class_logits, nll = _forward(model, params, batch)
  ce = cross_entropy(class_logits, batch['label'], weights)
  accuracy = jnp.sum((jnp.argmax(class_logits, -1) == batch['label']) * weights) / jnp.maximum(
      jnp.sum(weights), 1.0)
  metrics = {'classification_loss': ce, 'accuracy': accuracy}
  if nll is None:
    return ce, dict(metrics, loss=ce)
  recon = jnp.sum(nll * batch['mask']) / jnp.maximum(jnp.sum(batch['mask']), 1.0)
  total = recon + classification_weight * ce
  return total, dict(metrics, loss=total, reconstruction_loss=recon)


def eval_sums(model, params, batch, num_classes):
  """Sufficient statistics of one batch, summed over its real examples.

  confusion [K, K] (true, predicted), top5 [K] hits, cross_entropy [K] sums; the two-head
  model adds reconstruction nll [K] sums and target counts [K].
  """
  weights = example_weights(batch['mask'])
  labels = batch['label']
  class_logits, nll = _forward(model, params, batch)
  predicted = jnp.argmax(class_logits, -1)
  k = min(5, num_classes)
  top = jax.lax.top_k(class_logits, k)[1]  # [B, k]
  in_top = jnp.any(top == labels[:, None], axis=1).astype(jnp.float32)
  per_class = lambda v: jax.ops.segment_sum(v * weights, labels, num_classes)
  sums = {
      'confusion': jnp.zeros((num_classes, num_classes)).at[labels, predicted].add(weights),
      'top5': per_class(in_top),
      'cross_entropy': per_class(optax.softmax_cross_entropy_with_integer_labels(class_logits, labels)),
  }
  if nll is not None:
    sums['recon_nll'] = per_class(jnp.sum(nll * batch['mask'], 1))
    sums['recon_targets'] = per_class(jnp.sum(batch['mask'], 1))
  return sums


def summarize(sums, class_names, split):
  """Summed eval statistics (numpy, float64) -> the metrics a user reads (and eval_<split>.json).

  accuracy and top-5 over every evaluated crop; per-class accuracy = recall of each class
  (NaN for a class with no crop in the split); mean per-class accuracy over the classes present.
  """
  import numpy as np
  confusion = np.asarray(sums['confusion'], np.float64)
  counts = confusion.sum(1)  # [K] crops per true class
  total = counts.sum()
  ratio = lambda a, b: float(a / b) if b else float('nan')
  per_class = {k: ratio(confusion[i, i], counts[i]) for i, k in enumerate(class_names)}
  present = [v for i, v in enumerate(per_class.values()) if counts[i]]
  metrics = {
      'split': split, 'examples': int(total),
      'accuracy': ratio(np.trace(confusion), total),
      'top5_accuracy': ratio(np.sum(sums['top5']), total),
      'mean_per_class_accuracy': float(np.mean(present)) if present else float('nan'),
      'cross_entropy': ratio(np.sum(sums['cross_entropy']), total),
      'per_class_accuracy': per_class,
      'confusion': confusion.astype(int).tolist(),  # rows: true class, columns: predicted
  }
  if 'recon_nll' in sums:
    nll, n = np.asarray(sums['recon_nll']), np.asarray(sums['recon_targets'])
    metrics['bits_per_sample'] = ratio(nll.sum(), n.sum() * np.log(2))
    metrics['bits_per_sample_per_class'] = {k: ratio(a, b * np.log(2)) for k, a, b in zip(class_names, nll, n)}
  return metrics


def format_table(metrics) -> str:
  """The eval metrics as a text table: the headline numbers, then one row per class."""
  lines = [f"{metrics['split']}: {metrics['examples']} crops  accuracy {metrics['accuracy']:.4f}  "
           f"top-5 {metrics['top5_accuracy']:.4f}  mean per-class {metrics['mean_per_class_accuracy']:.4f}  "
           f"cross entropy {metrics['cross_entropy']:.4f}"
           + (f"  reconstruction {metrics['bits_per_sample']:.4f} bits/sample" if 'bits_per_sample' in metrics else '')]
  names = list(metrics['per_class_accuracy'])
  width = max([len(n) for n in names] + [5])
  counts = [sum(row) for row in metrics['confusion']]
  lines.append(f"  {'class'.ljust(width)}  crops  accuracy")
  for name, n in zip(names, counts):
    lines.append(f"  {name.ljust(width)}  {n:5d}  {metrics['per_class_accuracy'][name]:.4f}")
  return '\n'.join(lines)
