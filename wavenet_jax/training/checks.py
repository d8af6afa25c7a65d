"""All the checks of a config that must fail in one line before anything compiles.

The checks every kind shares (common/config_checks.py), the optimizer's, then the model
kind's own. Light to import (no TensorFlow): sweeps check every run before the first starts.
"""
from wavenet_jax.common import config_checks
from wavenet_jax.kinds import registry
from wavenet_jax.training import optim


def check_config(config) -> registry.Kind:
  """-> the config's model kind, once every check passed."""
  kind = registry.of(config.model)
  config_checks.check_config(config)
  optim.check(config.train)
  kind.check(config)
  return kind
