"""Checks of a config and workdir that must fail in one line, before anything compiles."""
import os

import jax

from wavenet_jax import audio


class ConfigError(ValueError):
  """A config value or path that cannot work; the message names the key or path."""


CLASSIFIER_KINDS = ('nsynth_classifier', 'nsynth_autoencoder_classifier')
KINDS = ('wavenet', 'nsynth_autoencoder') + CLASSIFIER_KINDS


def _positive_int(value):
  return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def check_config(config) -> None:
  m, d, t = config.model, config.data, config.train
  if not isinstance(m.dilations, (tuple, list)) or not m.dilations or not all(
      _positive_int(x) for x in m.dilations):
    raise ConfigError(f'model.dilations={m.dilations!r}: must be a non-empty list of positive integers')
  for key in ('filter_width', 'residual_channels', 'dilation_channels', 'skip_channels',
              'initial_filter_width', 'gc_channels'):
    if not _positive_int(m[key]):
      raise ConfigError(f'model.{key}={m[key]!r}: must be a positive integer')
  if not _positive_int(m.quantization_channels) or m.quantization_channels < 2:
    raise ConfigError(f'model.quantization_channels={m.quantization_channels!r}: must be an integer >= 2')
  if m.mu_law not in audio.MU_LAW_KINDS:
    raise ConfigError(f'model.mu_law={m.mu_law!r}: must be one of {audio.MU_LAW_KINDS}')
  if not isinstance(m.gc_cardinality, int) or m.gc_cardinality < -1:
    raise ConfigError(f'model.gc_cardinality={m.gc_cardinality!r}: 0 (off), -1 (from the dataset) or a count')
  if m.get('input_bias') and not m.scalar_input:
    raise ConfigError('model.input_bias: only the scalar-input first conv has a bias (set model.scalar_input)')
  if not 0 <= t.class_dropout < 1:
    raise ConfigError(f'train.class_dropout={t.class_dropout!r}: must be in [0, 1)')
  if (t.class_dropout > 0 or m.gc_null_class) and m.gc_cardinality == 0:
    raise ConfigError('model.gc_null_class / train.class_dropout: need a conditioned model '
                      '(model.gc_cardinality != 0)')
  guidance = config.get('generate', {}).get('guidance', 1.0)
  if guidance < 0:
    raise ConfigError(f'generate.guidance={guidance!r}: must be >= 0 (1 = off)')
  if guidance != 1 and not m.gc_null_class:
    raise ConfigError(f'generate.guidance={guidance!r}: guidance needs a null class to guide against '
                      '(model.gc_null_class=True, trained with train.class_dropout > 0), or set 1')
  if t.class_dropout > 0 and not m.gc_null_class:
    raise ConfigError(f'train.class_dropout={t.class_dropout}: set model.gc_null_class=True to give '
                      f'dropped classes their own embedding row')
  if d.corpus != 'demo' and not d.source:
    raise ConfigError(f'data.source is empty: set --config.data.source to the raw {d.corpus} tree or '
                      f'to a directory made by `python data/prepare.py {d.corpus} --src=RAW --out=DIR`')
  if not _positive_int(d.sample_size):
    raise ConfigError(f'data.sample_size={d.sample_size!r}: must be an integer >= 1')
  if not _positive_int(d.sample_rate):
    raise ConfigError(f'data.sample_rate={d.sample_rate!r}: must be a positive integer')
  if d.silence_threshold < 0:
    raise ConfigError(f'data.silence_threshold={d.silence_threshold!r}: must be >= 0')
  if not _positive_int(t.batch_size) or t.batch_size % jax.device_count():
    raise ConfigError(f'train.batch_size={t.batch_size!r}: must be a positive multiple of the '
                      f'{jax.device_count()} devices')
  if not _positive_int(config.eval.batch_size) or config.eval.batch_size % jax.device_count():
    raise ConfigError(f'eval.batch_size={config.eval.batch_size!r}: must be a positive multiple of '
                      f'the {jax.device_count()} devices')
  if not isinstance(t.num_train_steps, int) or t.num_train_steps < 0:
    raise ConfigError(f'train.num_train_steps={t.num_train_steps!r}: must be an integer >= 0')
  if t.optimizer not in ('adam', 'sgd', 'rmsprop'):
    raise ConfigError(f'train.optimizer={t.optimizer!r}: must be adam, sgd or rmsprop')
  if t.lr_schedule not in ('constant', 'cosine', 'warmup_cosine', 'piecewise'):
    raise ConfigError(f'train.lr_schedule={t.lr_schedule!r}: must be constant, cosine, warmup_cosine '
                      f'or piecewise')
  if t.lr_schedule == 'piecewise' and (len(t.lr_values) != len(t.lr_boundaries) + 1
                                       or not all(v > 0 for v in t.lr_values)):
    raise ConfigError(f'train.lr_values={tuple(t.lr_values)}: piecewise needs one positive rate more '
                      f'than train.lr_boundaries={tuple(t.lr_boundaries)}')
  kind = m.get('kind', 'wavenet')
  if kind not in KINDS:
    raise ConfigError(f'model.kind={kind!r}: must be one of {", ".join(KINDS)}')
  if kind != 'wavenet':
    if 'encoder' not in m:
      raise ConfigError(f'model.encoder: model.kind={kind!r} needs the NSynth encoder settings '
                        f'(start from configs/nsynth_autoencoder.py, configs/speaker_id.py or configs/esc50.py)')
    if m.gc_cardinality:
      raise ConfigError('model.gc_cardinality: the NSynth autoencoder is not class conditioned (set 0)')
    if d.sample_size % m.encoder.hop:
      raise ConfigError(f'data.sample_size={d.sample_size}: the NSynth models\' crops must be a multiple '
                        f'of model.encoder.hop={m.encoder.hop}')
  mode = t.get('encoder_training', 'fine_tune')
  if mode not in ('fine_tune', 'frozen', 'lower_lr'):
    raise ConfigError(f'train.encoder_training={mode!r}: must be fine_tune, frozen or lower_lr')
  if mode != 'fine_tune' and kind == 'wavenet':
    raise ConfigError(f'train.encoder_training={mode!r}: a WaveNet has no encoder (keep fine_tune)')
  if mode == 'lower_lr' and not 0 < t.encoder_lr_scale:
    raise ConfigError(f'train.encoder_lr_scale={t.encoder_lr_scale!r}: must be > 0')
  if kind in CLASSIFIER_KINDS:
    c = m.classifier
    if c.pooling not in ('mean', 'max', 'attention'):
      raise ConfigError(f'model.classifier.pooling={c.pooling!r}: must be mean, max or attention')
    if not isinstance(c.hidden, (tuple, list)) or not all(_positive_int(h) for h in c.hidden):
      raise ConfigError(f'model.classifier.hidden={c.hidden!r}: must be a list of positive integers')
    if not _positive_int(c.attention_channels):
      raise ConfigError(f'model.classifier.attention_channels={c.attention_channels!r}: must be a positive integer')
    if not t.classification_weight >= 0:
      raise ConfigError(f'train.classification_weight={t.classification_weight!r}: must be >= 0')
  if not 0 <= t.ema_decay < 1:
    raise ConfigError(f'train.ema_decay={t.ema_decay!r}: must be in [0, 1)')
  for key in ('log_every_steps', 'checkpoint_every_steps'):
    if not _positive_int(t[key]):
      raise ConfigError(f'train.{key}={t[key]!r}: must be a positive integer')


def check_classifier_classes(config, num_classes: int) -> int:
  """A classifier's output count: the dataset's classes (model.classifier.num_classes -1 or equal)."""
  n = config.model.classifier.num_classes
  if n != -1 and n != num_classes:
    raise ConfigError(f'model.classifier.num_classes={n}: the dataset has {num_classes} classes '
                      f'(set -1 to take the dataset\'s count)')
  return num_classes


def check_class_count(config, num_classes: int) -> int:
  """The model's gc_cardinality once the dataset's class count is known (+1: the null class)."""
  gc, null = config.model.gc_cardinality, int(bool(config.model.gc_null_class))
  if gc == -1:
    return num_classes + null
  if 0 < gc < num_classes + null:
    raise ConfigError(f'model.gc_cardinality={gc}: the dataset has {num_classes} classes'
                      + (' and the null class needs a row' if null else '')
                      + f', so class ids go up to {num_classes + null - 1}')
  return gc


def check_workdir(workdir: str) -> str:
  if not workdir:
    raise ConfigError('--workdir is required')
  path = os.path.abspath(os.path.expanduser(workdir))
  if os.path.exists(path) and not os.path.isdir(path):
    raise ConfigError(f'--workdir={workdir}: is a file, not a directory')
  return path
