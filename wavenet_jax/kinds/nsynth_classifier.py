"""The two classifier kinds on the NSynth encoder: their losses, metrics, checks and report.

  nsynth_classifier              encoder + head ("fine-tuned encoder"), trained on class cross entropy;
  nsynth_autoencoder_classifier  the whole autoencoder + a head on its encoder ("fine-tuned
                                 autoencoder"), trained on reconstruction CE + w · class CE.
Evaluation sums a confusion matrix, top-5 hits and cross entropy per class over every crop,
then scores whole clips and the MFCC baseline (evaluation/); the report is a table per class
and the confusion matrices. train.encoder_training sets the encoder's optimizer group.
"""
import jax
import jax.numpy as jnp
import numpy as np
import optax

from wavenet_jax.common import config_checks, plots
from wavenet_jax.common.config_checks import ConfigError
from wavenet_jax.evaluation import baseline, clip_scores
from wavenet_jax.kinds import likelihood, nsynth_autoencoder, registry, wavenet
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


def check_classes(config, sources):
  """A classifier needs two classes, each with clips in both splits: one line otherwise."""
  d = config.data
  counts = {which: sources.class_counts(which) for which in ('train', 'eval')}
  if None in counts.values():
    return  # no build report to count with
  present = sorted(set(counts['train']) | set(counts['eval']))
  present = [n for n in present if counts['train'].get(n, 0) + counts['eval'].get(n, 0)]
  where = ', '.join(sources.data_dirs)
  if len(present) < 2:
    raise ConfigError(f'data.source: a classifier needs at least 2 classes with clips; {where} '
                      f'has {len(present)} ({", ".join(present) or "none"})')
  for which, split in (('train', d.train_split), ('eval', d.eval_split)):
    missing = [n for n in present if not counts[which].get(n, 0)]
    if missing:
      others = f' (and {len(missing) - 1} more)' if len(missing) > 1 else ''
      total = counts['train'].get(missing[0], 0) + counts['eval'].get(missing[0], 0)
      raise ConfigError(
          f'data.{which}_split={split!r}: class {missing[0]!r}{others} has no clip there, {total} in all in '
          f'{where}: too few to split; give it more files or leave it out (data.exclude)')


_EVAL_SCALARS = ('accuracy', 'top5_accuracy', 'mean_per_class_accuracy', 'cross_entropy', 'clip_accuracy',
                 'clip_top5_accuracy', 'baseline_accuracy', 'baseline_clip_accuracy')


class Classifier(registry.Kind):
  """The NSynth encoder (two_heads: the whole autoencoder) + a pooling head."""
  headline = 'accuracy'
  two_heads = False

  def check(self, config):
    check(config)

  def check_data(self, config, sources):
    check_classes(config, sources)

  def num_classes(self, config, dataset_classes):
    return num_classes(config, dataset_classes)

  def build(self, config, num_classes):
    return classifier.from_config(config.model, num_classes, two_heads=self.two_heads,
                                  freeze_encoder=config.train.encoder_training == 'frozen')

  def init_inputs(self, model, model_config):
    hop = model.encoder.hop
    return jnp.zeros((1, hop), jnp.float32), jnp.ones((1, hop), jnp.float32)

  def describe(self, model):
    if isinstance(model, AutoencoderClassifier):
      return f'{nsynth_autoencoder.describe(model)} + {model.head.pooling}-pooling head'
    return f'encoder hop {model.encoder.hop} + {model.head.pooling}-pooling head'

  def context(self, model):
    return 0

  def objective(self, model, config, params, batch, gc_ids=None, step=0, key=None):
    return losses(model, params, batch, config.train.classification_weight)

  def param_groups(self, config):
    return nsynth_autoencoder.encoder_groups(config)

  def train_scalars(self, mean):
    scalars = super().train_scalars(mean)
    if 'reconstruction_loss' in mean:
      scalars['train/reconstruction_bits_per_sample'] = likelihood.bits(mean['reconstruction_loss'])
    return scalars

  def format_train(self, mean):
    line = f'loss {mean["loss"]:.4f}  accuracy {mean["accuracy"]:.3f}'
    if 'reconstruction_loss' in mean:  # the two heads' parts
      line += (f'  (classification {mean["classification_loss"]:.4f}, reconstruction '
               f'{likelihood.bits(mean["reconstruction_loss"]):.3f} bits/sample)')
    return line

  def eval_sums(self, model, config, params, batch, num_classes):
    return eval_sums(model, params, batch, num_classes)

  def summarize(self, sums, class_names, split):
    return summarize(sums, class_names, split)

  def clip_logits(self, model, params, audio, mask):
    """audio [B, S], mask [B, S] -> class logits [B, K]: what whole clips are scored by."""
    return _forward(model, params, {'audio': audio, 'mask': mask})[0]

  def extra_evaluations(self, run, params, split, writer=None, step=0):
    """Whole clips (their tiles' logits averaged) and, with eval.baseline, the MFCC baseline."""
    metrics = clip_scores.score(run, params, split, self.clip_logits)
    if run.config.eval.baseline:
      metrics.update(baseline.score(run, split))
    return metrics

  def format_eval(self, metrics):
    return format_table(metrics)

  def eval_scalars(self, metrics):
    scalars = likelihood.scalars(metrics) if 'bits_per_sample' in metrics else {}
    scalars.update({f'eval/{key}': metrics[key] for key in _EVAL_SCALARS if key in metrics})
    scalars.update({f'eval/accuracy/{k}': v for k, v in metrics['per_class_accuracy'].items()})
    return scalars

  def eval_images(self, metrics, step):
    names, split = list(metrics['per_class_accuracy']), metrics['split']
    images = {'confusion': plots.confusion_image(metrics['confusion'], names, f'{split} step {step}')}
    if 'clip_confusion' in metrics:
      images['clip_confusion'] = plots.confusion_image(metrics['clip_confusion'], names, f'{split} clips, step {step}')
    return images


class EncoderClassifier(Classifier):
  name = 'nsynth_classifier'
  description = 'the NSynth encoder + a pooling head classifying clips (the fine-tuned encoder)'
  metrics = METRICS
  modes = frozenset({'train', 'eval', 'encode', 'embeddings'})


class AutoencoderClassifierKind(Classifier):
  name = 'nsynth_autoencoder_classifier'
  description = 'the NSynth autoencoder + a classifier head on its encoder (the fine-tuned autoencoder)'
  metrics = METRICS + likelihood.METRICS[::2]
  modes = frozenset({'train', 'eval', 'encode', 'synthesize', 'embeddings'})
  two_heads = True


KINDS = (EncoderClassifier(), AutoencoderClassifierKind())
