"""A classifier's evaluation by whole clips, beside its per-crop one.

Every clip of the split (trimmed as crops are) is cut into consecutive tiles of
`data.sample_size` samples, the last one zero-padded with mask 0; the kind's clip logits
(kinds/nsynth_classifier.Classifier.clip_logits) of each tile are averaged over the clip's
tiles, and the clip is predicted by the mean. Reported: clip_accuracy, clip_top5_accuracy,
per-class clip accuracy (recall; NaN for a class without clips), the confusion matrix by clips.
"""
import jax
import numpy as np


# Compiled once per kind and model, not at every evaluation of a training run.
_logits = jax.jit(lambda clip_logits, model, params, audio, mask: clip_logits(model, params, audio, mask),
                  static_argnames=('clip_logits', 'model'))


def tiles(x, size):
  """A clip [T] -> (audio [n, size], mask [n, size]): consecutive tiles, the last padded."""
  n = max(1, -(-len(x) // size))
  audio, mask = np.zeros((n * size,), np.float32), np.zeros((n * size,), np.float32)
  audio[:len(x)], mask[:len(x)] = x, 1
  return audio.reshape(n, size), mask.reshape(n, size)


def mean_over_clips(tile_values, owners, num_clips):
  """[tiles, K] values, the clip each tile belongs to -> [clips, K] means."""
  sums = np.zeros((num_clips, tile_values.shape[1]))
  np.add.at(sums, owners, tile_values)
  return sums / np.bincount(owners, minlength=num_clips)[:, None]


def summarize(logits, labels, class_names):
  """Clip logits [N, K] and true labels [N] -> the clip metrics."""
  logits, labels = np.asarray(logits, np.float64), np.asarray(labels)
  k = len(class_names)
  predicted = logits.argmax(1)
  confusion = np.zeros((k, k), int)
  np.add.at(confusion, (labels, predicted), 1)
  top5 = np.argsort(-logits, axis=1)[:, :min(5, k)]
  counts = confusion.sum(1)
  return {
      'clips': int(len(labels)),
      'clip_accuracy': float(np.mean(predicted == labels)) if len(labels) else float('nan'),
      'clip_top5_accuracy': float(np.mean(np.any(top5 == labels[:, None], 1))) if len(labels) else float('nan'),
      'per_class_clip_accuracy': {n: float(confusion[i, i] / counts[i]) if counts[i] else float('nan')
                                  for i, n in enumerate(class_names)},
      'clip_confusion': confusion.tolist(),  # rows: true class, columns: predicted
  }


def split_clips(run, split):
  """[(label, audio [T])] of every clip of `split`, trimmed as crops are."""
  from wavenet_jax.input import pipeline  # TensorFlow: only when clips are read, not with the kinds
  return pipeline.clips(run.sources, which=run.which(split), count=-1,
                        silence_threshold=run.config.data.silence_threshold)


def score(run, params, split, clip_logits):
  """The clip metrics of `split`; clip_logits(model, params, audio [B, S], mask [B, S]) -> [B, K]."""
  size, batch_size = run.config.data.sample_size, run.config.eval.batch_size
  clips = split_clips(run, split)
  audio, mask, owners = [], [], []
  for i, (_, x) in enumerate(clips):
    a, m = tiles(x, size)
    audio.append(a)
    mask.append(m)
    owners += [i] * len(a)
  audio, mask, owners = np.concatenate(audio), np.concatenate(mask), np.asarray(owners)
  logits = []
  for b in range(0, len(audio), batch_size):  # the last batch padded to the batch size: one compile
    a, m = audio[b:b + batch_size], mask[b:b + batch_size]
    pad = ((0, batch_size - len(a)), (0, 0))
    logits.append(np.asarray(_logits(clip_logits, run.model, params, np.pad(a, pad), np.pad(m, pad)))[:len(a)])
  clip_logits = mean_over_clips(np.concatenate(logits), owners, len(clips))
  return summarize(clip_logits, [label for label, _ in clips], run.class_names)
