"""All the checks of a config that must fail in one line before anything compiles.

The run's own (`check_run`: what the loop, its steps and input read), the data source's,
the optimizer's, then the model kind's (its model's fields among them). Light to import (no TensorFlow): sweeps check every run before the first starts.
"""
from wavenet_jax.common.config_checks import ConfigError, positive_int
from wavenet_jax.datasets import prepare
from wavenet_jax.kinds import registry
from wavenet_jax.training import optim


def check_config(config) -> registry.Kind:
  """-> the config's model kind, once every check passed."""
  kind = registry.of(config.model)
  check_run(config)
  prepare.check(config.data)
  optim.check(config.train)
  kind.check(config)
  optim.check_groups(config)
  return kind


def check_run(config) -> None:
  """What the loop, its steps and its input read: config.train's counts and class dropout,
  config.eval's batch, config.data's crops."""
  import jax  # the device count; importing the checks alone needs no JAX
  m, d, t = config.model, config.data, config.train
  if not 0 <= t.class_dropout < 1:
    raise ConfigError(f'train.class_dropout={t.class_dropout!r}: must be in [0, 1)')
  if (t.class_dropout > 0 or m.gc_null_class) and m.gc_cardinality == 0:
    raise ConfigError('model.gc_null_class / train.class_dropout: need a conditioned model '
                      '(model.gc_cardinality != 0)')
  if t.class_dropout > 0 and not m.gc_null_class:
    raise ConfigError(f'train.class_dropout={t.class_dropout}: set model.gc_null_class=True to give '
                      f'dropped classes their own embedding row')
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
  if not 0 <= t.ema_decay < 1:
    raise ConfigError(f'train.ema_decay={t.ema_decay!r}: must be in [0, 1)')
  for key in ('log_every_steps', 'checkpoint_every_steps'):
    if not positive_int(t[key]):
      raise ConfigError(f'train.{key}={t[key]!r}: must be a positive integer')
