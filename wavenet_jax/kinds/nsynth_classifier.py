"""The two classifier kinds on the NSynth encoder: their losses, metrics and checks.

  nsynth_classifier              encoder + head ("fine-tuned encoder"), trained on class cross entropy;
  nsynth_autoencoder_classifier  the whole autoencoder + a head on its encoder ("fine-tuned
                                 autoencoder"), trained on reconstruction CE + w · class CE.
Evaluation sums a confusion matrix, top-5 hits and cross entropy per class over every crop.
"""
import jax
import jax.numpy as jnp
import numpy as np
import optax

from wavenet_jax.common import config_checks
from wavenet_jax.common.config_checks import ConfigError
from wavenet_jax.kinds import likelihood, nsynth_autoencoder, wavenet
from wavenet_jax.kinds.registry import Kind
from wavenet_jax.models import classifier
from wavenet_jax.models.classifier import AutoencoderClassifier

METRICS = ('accuracy', 'top5_accuracy', 'mean_per_class_accuracy', 'cross_entropy', 'examples',
           'per_class_accuracy/', 'clip_accuracy', 'clip_top5_accuracy', 'clips', 'per_class_clip_accuracy/',
           'baseline_accuracy', 'baseline_clip_accuracy')  # the last two with eval.baseline


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
    outputs, targets, _, class_logits = model.apply(params, batch['audio'], batch['mask'])
    return class_logits.astype(jnp.float32), wavenet.target_nll(model.decoder, outputs, targets)
  return model.apply(params, batch['audio'], batch['mask']).astype(jnp.float32), None


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
  if 'clip_accuracy' in metrics:
    lines.append(f"  by clip: {metrics['clips']} clips  accuracy {metrics['clip_accuracy']:.4f}  "
                 f"top-5 {metrics['clip_top5_accuracy']:.4f}")
  if 'baseline_accuracy' in metrics:
    lines.append(f"  baseline (MFCC statistics + logistic regression): accuracy {metrics['baseline_accuracy']:.4f}"
                 f"  by clip {metrics['baseline_clip_accuracy']:.4f}")
  names = list(metrics['per_class_accuracy'])
  width = max([len(n) for n in names] + [5])
  counts = [sum(row) for row in metrics['confusion']]
  by_clip = metrics.get('per_class_clip_accuracy')
  lines.append(f"  {'class'.ljust(width)}  crops  accuracy" + ('  clips  clip accuracy' if by_clip else ''))
  for i, (name, n) in enumerate(zip(names, counts)):
    line = f"  {name.ljust(width)}  {n:5d}  {metrics['per_class_accuracy'][name]:.4f}"
    if by_clip:
      line += f"    {sum(metrics['clip_confusion'][i]):5d}  {by_clip[name]:.4f}"
    lines.append(line)
  return '\n'.join(lines)


def num_classes(config, dataset_classes: int) -> int:
  """A classifier's output count: the dataset's classes (model.classifier.num_classes -1 or equal)."""
  n = config.model.classifier.num_classes
  if n != -1 and n != dataset_classes:
    raise ConfigError(f'model.classifier.num_classes={n}: the dataset has {dataset_classes} classes '
                      f'(set -1 to take the dataset\'s count)')
  return dataset_classes


def check(config):
  nsynth_autoencoder.check(config)
  c, t = config.model.classifier, config.train
  if c.pooling not in classifier.POOLINGS:
    raise ConfigError(f'model.classifier.pooling={c.pooling!r}: must be one of {classifier.POOLINGS}')
  if not isinstance(c.hidden, (tuple, list)) or not all(config_checks.positive_int(h) for h in c.hidden):
    raise ConfigError(f'model.classifier.hidden={c.hidden!r}: must be a list of positive integers')
  if not config_checks.positive_int(c.attention_channels):
    raise ConfigError(f'model.classifier.attention_channels={c.attention_channels!r}: must be a positive integer')
  if not t.classification_weight >= 0:
    raise ConfigError(f'train.classification_weight={t.classification_weight!r}: must be >= 0')


def _build(two_heads):
  def build(config, num_classes):
    return classifier.from_config(config.model, num_classes, two_heads=two_heads,
                                  freeze_encoder=config.train.encoder_training == 'frozen')
  return build


def _init_inputs(model, model_config):
  hop = model.encoder.hop
  return jnp.zeros((1, hop), jnp.float32), jnp.ones((1, hop), jnp.float32)


def _describe(model):
  if isinstance(model, AutoencoderClassifier):
    return f'{nsynth_autoencoder.describe(model)} + {model.head.pooling}-pooling head'
  return f'encoder hop {model.encoder.hop} + {model.head.pooling}-pooling head'


_COMMON = dict(
    num_classes=num_classes, context=lambda model: 0,
    init_inputs=_init_inputs,
    objective=lambda model, config, params, batch, gc_ids=None: losses(
        model, params, batch, config.train.classification_weight),
    eval_sums=lambda model, config, params, batch, num_classes: eval_sums(model, params, batch, num_classes),
    summarize=summarize, headline='accuracy', describe=_describe, check=check,
    clip_logits=lambda model, params, audio, mask: _forward(model, params, {'audio': audio, 'mask': mask})[0])

KINDS = (
    Kind(name='nsynth_classifier',
         description='the NSynth encoder + a pooling head classifying clips (the fine-tuned encoder)',
         build=_build(False), metrics=METRICS,
         modes=frozenset({'train', 'eval', 'encode', 'embeddings'}), **_COMMON),
    Kind(name='nsynth_autoencoder_classifier',
         description='the NSynth autoencoder + a classifier head on its encoder (the fine-tuned autoencoder)',
         build=_build(True), metrics=METRICS + likelihood.METRICS[::2],
         modes=frozenset({'train', 'eval', 'encode', 'synthesize', 'embeddings'}), **_COMMON),
)
