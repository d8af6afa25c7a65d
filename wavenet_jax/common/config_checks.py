"""Checks of a config and workdir that must fail in one line, before anything compiles.

These are the checks every model kind shares; `training.run.check_config` adds the optimizer's
and the model kind's own.
"""
import os

from wavenet_jax.common.errors import UserError

# data.corpus values that data/ synthesises, so data.source may be empty.
SYNTHESISED = ('demo', 'espeak')


class ConfigError(UserError, ValueError):
  """A config value or path that cannot work; the message names the key or path."""


def positive_int(value) -> bool:
  return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def nonnegative_int(value) -> bool:
  return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_config(config) -> None:
  import jax  # the device count; importing the checks alone (audio, files) needs no JAX
  m, d, t = config.model, config.data, config.train
  if not isinstance(m.dilations, (tuple, list)) or not m.dilations or not all(
      positive_int(x) for x in m.dilations):
    raise ConfigError(f'model.dilations={m.dilations!r}: must be a non-empty list of positive integers')
  for key in ('filter_width', 'residual_channels', 'dilation_channels', 'skip_channels',
              'initial_filter_width', 'gc_channels'):
    if not positive_int(m[key]):
      raise ConfigError(f'model.{key}={m[key]!r}: must be a positive integer')
  if not positive_int(m.quantization_channels) or m.quantization_channels < 2:
    raise ConfigError(f'model.quantization_channels={m.quantization_channels!r}: must be an integer >= 2')
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
  if d.corpus not in SYNTHESISED and not d.source:
    raise ConfigError(f'data.source is empty: set --config.data.source to the raw {d.corpus} tree or '
                      f'to a directory made by `python data/prepare.py {d.corpus} --src=RAW --out=DIR`')
  if not positive_int(d.sample_size):
    raise ConfigError(f'data.sample_size={d.sample_size!r}: must be an integer >= 1')
  if not positive_int(d.sample_rate):
    raise ConfigError(f'data.sample_rate={d.sample_rate!r}: must be a positive integer')
  if d.silence_threshold < 0:
    raise ConfigError(f'data.silence_threshold={d.silence_threshold!r}: must be >= 0')
  if not positive_int(t.batch_size) or t.batch_size % jax.device_count():
    raise ConfigError(f'train.batch_size={t.batch_size!r}: must be a positive multiple of the '
                      f'{jax.device_count()} devices')
  if not positive_int(config.eval.batch_size) or config.eval.batch_size % jax.device_count():
    raise ConfigError(f'eval.batch_size={config.eval.batch_size!r}: must be a positive multiple of '
                      f'the {jax.device_count()} devices')
  if not isinstance(t.num_train_steps, int) or t.num_train_steps < 0:
    raise ConfigError(f'train.num_train_steps={t.num_train_steps!r}: must be an integer >= 0')
  mode = t.get('encoder_training', 'fine_tune')
  if mode not in ('fine_tune', 'frozen', 'lower_lr'):
    raise ConfigError(f'train.encoder_training={mode!r}: must be fine_tune, frozen or lower_lr')
  if mode == 'lower_lr' and not 0 < t.encoder_lr_scale:
    raise ConfigError(f'train.encoder_lr_scale={t.encoder_lr_scale!r}: must be > 0')
  if not 0 <= t.ema_decay < 1:
    raise ConfigError(f'train.ema_decay={t.ema_decay!r}: must be in [0, 1)')
  for key in ('log_every_steps', 'checkpoint_every_steps'):
    if not positive_int(t[key]):
      raise ConfigError(f'train.{key}={t[key]!r}: must be a positive integer')


def check_workdir(workdir: str) -> str:
  if not workdir:
    raise ConfigError('--workdir is required')
  path = os.path.abspath(os.path.expanduser(workdir))
  if os.path.exists(path) and not os.path.isdir(path):
    raise ConfigError(f'--workdir={workdir}: is a file, not a directory')
  return path
