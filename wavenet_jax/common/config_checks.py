"""What every config check is made of: the error it raises and the tests of a value it uses.

A setting is checked by the module that reads it (models/wavenet.check_config, the kinds'
`check`, training/checks.py, generation/sampling.check...); this module knows no key.
"""
import os

from wavenet_jax.common.errors import UserError


class ConfigError(UserError, ValueError):
  """A config value or path that cannot work; the message names the key or path."""


def positive_int(value) -> bool:
  return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def nonnegative_int(value) -> bool:
  return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_workdir(workdir: str) -> str:
  if not workdir:
    raise ConfigError('--workdir is required')
  path = os.path.abspath(os.path.expanduser(workdir))
  if os.path.exists(path) and not os.path.isdir(path):
    raise ConfigError(f'--workdir={workdir}: is a file, not a directory')
  return path
