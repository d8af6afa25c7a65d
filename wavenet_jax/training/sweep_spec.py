"""A sweep file, loaded and checked: its runs' configs, directory names and metrics.

A sweep file's `get_sweep()` (or `get_sweep(arg)` for `--sweep=FILE.py:arg`) returns

    {'base': 'configs/demo.py',        # a config file (`FILE.py:arg` too) or a ConfigDict;
                                       # --config (with its --config.* flags) replaces it
     'overrides': {'train.num_train_steps': 150},     # dotted key -> value, for every run
     'grid': {'model.residual_channels': (16, 32),    # every combination, last key fastest ...
              'train.learning_rate': (1e-3, 3e-3)},
     'runs': ({'model.residual_channels': 16}, ...),  # ... or one dict of overrides per run
     'metrics': ('bits_per_sample',)}  # final eval metrics; nested ones as 'bits_per_sample_per_class/bell'

Each run is named by its overrides (`residual_channels=16,learning_rate=0.001`). Every
overridden key, value type and metric name (against what the run's model kind reports,
from the kinds registry) is checked for every run before the first one starts.
"""
import copy
import difflib
import hashlib
import importlib.util
import itertools
import json
import os
import re

import ml_collections

from wavenet_jax.common import config_checks
from wavenet_jax.kinds import registry
from wavenet_jax.training import checks

ConfigError = config_checks.ConfigError

SPEC_KEYS = ('base', 'overrides', 'grid', 'runs', 'metrics')
_MAX_NAME = 120  # characters: far below the usual 255-byte file name limit, readable in `ls`.


class SweepRun:
  """One run of a sweep: its directory name, its own overrides, and the full config they make."""

  def __init__(self, name, overrides, config):
    self.name, self.overrides, self.config = name, overrides, config


class Sweep:
  """The validated runs of a sweep file, in order, and the metrics its table reports."""

  def __init__(self, source, runs, keys, metrics):
    self.source = source  # what messages and the table name it by
    self.runs = runs
    self.keys = keys  # dotted keys that differ between runs: the table's columns
    self.metrics = metrics


# ------------------------------------------------------------------------ loading

def load_python(spec: str, function: str, what: str):
  """`FILE.py` or `FILE.py:arg` -> FILE's function() or function(arg); relative paths
  are tried from the current directory, then from the repository root."""
  match = re.fullmatch(r'(.+?\.py)(?::(.*))?', spec)
  path, arg = (match.group(1), match.group(2)) if match else (spec, None)
  root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  found = next((p for p in (os.path.expanduser(path), os.path.join(root, path)) if os.path.isfile(p)), None)
  if found is None:
    raise ConfigError(f'{what}={spec}: no such file')
  name = '_wavenet_jax_' + re.sub(r'\W', '_', os.path.abspath(found))
  module_spec = importlib.util.spec_from_file_location(name, found)
  module = importlib.util.module_from_spec(module_spec)
  module_spec.loader.exec_module(module)
  if not hasattr(module, function):
    raise ConfigError(f'{what}={spec}: defines no {function}()')
  fn = getattr(module, function)
  try:
    return fn(arg) if arg is not None else fn()
  except ValueError as e:  # a bad `:arg` (configs/esc50.py:fold=9), said in one line
    raise ConfigError(f'{what}={spec}: {e}') from None


def load(spec: str, base_config=None) -> Sweep:
  """The sweep file `spec`, every run checked; `base_config` (--config) replaces its base."""
  return from_spec(load_python(spec, 'get_sweep', '--sweep'), spec, base_config)


def from_spec(spec, source='sweep', base_config=None) -> Sweep:
  """A sweep dict (get_sweep()'s) -> Sweep, or a ConfigError naming the first bad key, value
  or metric of any run: nothing has run or been written yet."""
  if not isinstance(spec, dict):
    raise ConfigError(f'{source}: get_sweep() must return a dict with keys {", ".join(SPEC_KEYS)}')
  unknown = [k for k in spec if k not in SPEC_KEYS]
  if unknown:
    raise ConfigError(f'{source}: unknown sweep key {unknown[0]!r} (a sweep has {", ".join(SPEC_KEYS)})')
  if ('grid' in spec) == ('runs' in spec):
    raise ConfigError(f"{source}: give either 'grid' (key -> values) or 'runs' (a list of override dicts)")
  base = base_config if base_config is not None else spec.get('base')
  if base is None:
    raise ConfigError(f"{source}: names no 'base' config; add one to get_sweep() or pass --config")
  if isinstance(base, str):
    base = load_python(base, 'get_config', f"{source}: 'base'")
  if not isinstance(base, ml_collections.ConfigDict):
    raise ConfigError(f"{source}: 'base' must be a config file path or a ConfigDict, not {type(base).__name__}")
  base = copy.deepcopy(base)  # the caller's config stays as it was
  base.lock()  # a misspelt key fails, as with --config
  fixed = _dict(spec.get('overrides', {}), f"{source}: 'overrides'")
  for key, value in fixed.items():
    _override(base, key, value, f"{source}: 'overrides'")

  if 'grid' in spec:
    grid = _dict(spec['grid'], f"{source}: 'grid'")
    for key, values in grid.items():
      if not isinstance(values, (list, tuple)) or not values:
        raise ConfigError(f"{source}: grid {key!r}: needs a non-empty list of values, got {values!r}")
    overrides = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]
  else:
    if not isinstance(spec['runs'], (list, tuple)) or not spec['runs']:
      raise ConfigError(f"{source}: 'runs' must be a non-empty list of override dicts")
    overrides = [_dict(r, f"{source}: run {i + 1}") for i, r in enumerate(spec['runs'])]
  keys = list(dict.fromkeys(k for o in overrides for k in o))
  names = _names(overrides, keys, source)

  runs = []
  for i, (name, o) in enumerate(zip(names, overrides)):
    where = f"{source}: {'grid' if 'grid' in spec else f'run {i + 1}'}"
    config = copy.deepcopy(base)
    for key, value in o.items():
      _override(config, key, value, where)
    try:
      checks.check_config(config)
    except ConfigError as e:
      raise ConfigError(f'{source}: run {name}: {e}') from None
    runs.append(SweepRun(name, o, config))
  metrics = _metrics(spec.get('metrics'), runs, source)
  return Sweep(source, runs, keys, metrics)


def _dict(value, where):
  if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
    raise ConfigError(f'{where}: must be a dict of dotted config keys -> values, got {value!r}')
  return value


def _leaf_keys(config, prefix=''):
  for k, v in config.items():
    if isinstance(v, ml_collections.ConfigDict):
      yield from _leaf_keys(v, f'{prefix}{k}.')
    else:
      yield prefix + k


def _override(config, key, value, where):
  """config[key] = value through ml_collections (which checks the type); one line on failure."""
  *parents, leaf = key.split('.')
  node = config
  for part in parents + [leaf]:
    if not isinstance(node, ml_collections.ConfigDict) or part not in node:
      close = difflib.get_close_matches(key, list(_leaf_keys(config)), n=1)
      hint = f" (did you mean '{close[0]}'?)" if close else ''
      raise ConfigError(f'{where}: unknown config key {key!r}{hint}')
    if part != leaf:
      node = node[part]
  old = node[leaf]
  bad = f'{where}: {key}={value!r}: a {type(value).__name__} where the base config has a {type(old).__name__} ({old!r})'
  # ml_collections takes True for an int or float field (bool is an int): never what was meant.
  if isinstance(value, bool) and isinstance(old, (int, float)) and not isinstance(old, bool):
    raise ConfigError(bad)
  try:
    node[leaf] = value
  except (TypeError, ValueError):
    raise ConfigError(bad) from None


def config_value(config, key):
  """config's value at a dotted key ('model.residual_channels')."""
  node = config
  for part in key.split('.'):
    node = node[part]
  return node


def _metrics(metrics, runs, source):
  """The metric names, checked against what every run's model kind reports."""
  kinds = {registry.name_of(r.config.model) for r in runs}
  if metrics is None:  # the headline metric of the runs' kinds
    headlines = {registry.get(k).headline for k in kinds}
    if len(headlines) > 1:
      raise ConfigError(f"{source}: runs of kinds {', '.join(sorted(kinds))}: name the 'metrics' to compare")
    return list(headlines)
  if isinstance(metrics, str) or not isinstance(metrics, (list, tuple)) or not metrics:
    raise ConfigError(f"{source}: 'metrics' must be a non-empty list of metric names, got {metrics!r}")
  for m in metrics:
    if not isinstance(m, str):
      raise ConfigError(f"{source}: 'metrics' must be metric names (strings), got {m!r}")
    for kind in sorted(kinds):
      known = registry.get(kind).metrics
      if not any(m == k or (k.endswith('/') and m.startswith(k) and len(m) > len(k)) for k in known):
        shown = ', '.join(k + '<class>' if k.endswith('/') else k for k in known)
        raise ConfigError(f'{source}: metric {m!r} is not one of a {kind} run\'s ({shown})')
  return list(metrics)


# -------------------------------------------------------------------------- names

def _format(value) -> str:
  if isinstance(value, (list, tuple)):
    return '-'.join(_format(v) for v in value) or 'none'
  return repr(value) if isinstance(value, float) else str(value)


def _names(overrides, keys, source):
  """A readable, filesystem-safe, unique directory name per run, from its overrides: the
  last part of each key (the whole key where two keys share it) = its value."""
  leaves = [k.rsplit('.', 1)[-1] for k in keys]
  short = {k: (leaf if leaves.count(leaf) == 1 else k) for k, leaf in zip(keys, leaves)}
  seen = {}
  for i, o in enumerate(overrides):
    signature = json.dumps(o, sort_keys=True, default=repr)
    if signature in seen:
      raise ConfigError(f'{source}: runs {seen[signature] + 1} and {i + 1} have the same overrides {o}')
    seen[signature] = i
  names = []
  for o in overrides:
    name = ','.join(f'{short[k]}={_format(v)}' for k, v in o.items()) or 'base'
    name = re.sub(r'[^A-Za-z0-9._=+,-]+', '-', name).lstrip('.-') or 'run'
    names.append(name)
  digest = lambda o: hashlib.sha1(json.dumps(o, sort_keys=True, default=repr).encode()).hexdigest()[:8]
  # Cleaning or cutting may merge two names: those (and long ones) get a hash of their overrides.
  return [n if len(n) <= _MAX_NAME and names.count(n) == 1 else f'{n[:_MAX_NAME]}~{digest(o)}'
          for n, o in zip(names, overrides)]
