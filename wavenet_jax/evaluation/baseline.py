"""The classical yardstick beside every classifier evaluation: MFCC statistics + logistic regression.

Features of a stretch of audio: the mean and standard deviation over frames of 20 MFCCs
and of their deltas (librosa defaults: n_fft 2048, hop 512, 128 mel bands), 80 numbers.
The model is scikit-learn's StandardScaler + LogisticRegression (lbfgs, C=1), fitted on
the training split's clips cut into tiles of data.sample_size (clip_scores.tiles), the
same stretches the model sees. It is scored on the evaluation's own crops
(baseline_accuracy) and on whole clips, its log-probabilities averaged over each clip's
tiles as the model's logits are (baseline_clip_accuracy). The result depends only on the
data and those settings, so it is computed once and cached in data.cache_dir.
"""
import hashlib
import json
import os
import warnings

import numpy as np

from wavenet_jax.common import files
from wavenet_jax.evaluation import clip_scores

NUM_MFCC = 20
VERSION = 1  # of the features and fit: part of the cache key


def mfcc_stats(x, rate):
  """Audio [T] -> [80]: mean and std over frames of 20 MFCCs and their deltas."""
  import librosa
  with warnings.catch_warnings():  # a tile shorter than n_fft: librosa warns, and pads
    warnings.simplefilter('ignore')
    mfcc = librosa.feature.mfcc(y=np.asarray(x, np.float32), sr=rate, n_mfcc=NUM_MFCC)  # [20, F]
  delta = librosa.feature.delta(mfcc, mode='nearest')  # [20, F]; 'nearest': any number of frames
  both = np.concatenate([mfcc, delta])  # [40, F]
  return np.concatenate([both.mean(1), both.std(1)])


def tile_features(clips, size, rate):
  """[(label, audio)] -> (features [tiles, 80], labels [tiles], owning clip [tiles])."""
  feats, labels, owners = [], [], []
  for i, (label, x) in enumerate(clips):
    for tile, mask in zip(*clip_scores.tiles(x, size)):
      feats.append(mfcc_stats(tile[mask > 0], rate))
      labels.append(int(label))
      owners.append(i)
  return np.asarray(feats), np.asarray(labels), np.asarray(owners)


def fit(features, labels):
  from sklearn.linear_model import LogisticRegression
  from sklearn.pipeline import make_pipeline
  from sklearn.preprocessing import StandardScaler
  return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(features, labels)


def log_probs(model, features, num_classes):
  """[N, num_classes] log-probabilities; classes the fit never saw get -inf."""
  out = np.full((len(features), num_classes), -np.inf)
  out[:, model.classes_] = model.predict_log_proba(features)
  return out


def evaluate(train_clips, eval_crops, eval_clips, size, rate, num_classes):
  """{baseline_accuracy, baseline_clip_accuracy} of a fit on train_clips' tiles.

  eval_crops: [(label, audio)] the evaluation's crops (padding removed); eval_clips whole.
  """
  x, y, _ = tile_features(train_clips, size, rate)
  model = fit(x, y)
  crop_x = np.asarray([mfcc_stats(a, rate) for _, a in eval_crops])
  crop_y = np.asarray([label for label, _ in eval_crops])
  clip_x, _, owners = tile_features(eval_clips, size, rate)
  clip_y = np.asarray([label for label, _ in eval_clips])
  per_clip = clip_scores.mean_over_clips(log_probs(model, clip_x, num_classes), owners, len(eval_clips))
  return {'baseline_accuracy': float(np.mean(log_probs(model, crop_x, num_classes).argmax(1) == crop_y)),
          'baseline_clip_accuracy': float(np.mean(per_clip.argmax(1) == clip_y))}


def _eval_crops(run, split):
  crops = []
  for batch in run.eval_batches(split, whole=True):
    for audio, mask, label in zip(batch['audio'], batch['mask'], batch['label']):
      if mask.max() > 0:  # not a padding example
        crops.append((int(label), audio[mask > 0]))
  return crops


def score(run, split):
  """The baseline's scores on `split` for this run's data and crops, cached by those."""
  c = run.config
  key = json.dumps([VERSION, run.sources.data_dirs, run.class_names, c.data.train_split, split,
                    c.data.sample_size, c.data.silence_threshold, c.eval.seed, c.eval.crops_per_example,
                    c.data.sample_rate, c.data.augment.to_dict()], default=str, sort_keys=True)
  path = os.path.join(os.path.expanduser(c.data.cache_dir),
                      'baseline-' + hashlib.sha1(key.encode()).hexdigest()[:16] + '.json')
  if os.path.isfile(path):
    with open(path) as f:
      return json.load(f)
  result = evaluate(clip_scores.split_clips(run, c.data.train_split), _eval_crops(run, split),
                    clip_scores.split_clips(run, split), c.data.sample_size, c.data.sample_rate,
                    len(run.class_names))
  os.makedirs(os.path.dirname(path), exist_ok=True)
  files.write_json(path, result)
  return result
