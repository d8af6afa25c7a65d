"""Scripted ablations: a list or grid of config overrides, trained run by run, then one results table.

    python launch.py --sweep=configs/sweeps/demo_width.py --workdir=runs/width [--sweep_shard=I/N]

A sweep file's `get_sweep()` (or `get_sweep(arg)` for `--sweep=FILE.py:arg`) returns

    {'base': 'configs/demo.py',        # a config file (`FILE.py:arg` too) or a ConfigDict;
                                       # --config (with its --config.* flags) replaces it
     'overrides': {'train.num_train_steps': 150},     # dotted key -> value, for every run
     'grid': {'model.residual_channels': (16, 32),    # every combination, last key fastest ...
              'train.learning_rate': (1e-3, 3e-3)},
     'runs': ({'model.residual_channels': 16}, ...),  # ... or one dict of overrides per run
     'metrics': ('bits_per_sample',)}  # final eval metrics; nested ones as 'bits_per_sample_per_class/bell'

Run r trains with `train.train_and_evaluate` in ROOT/<name>, its name made of its overrides
(`residual_channels=16,learning_rate=0.001`). When that returns, ROOT/<name>/result.json
(overrides, config, final metrics) marks it finished: a relaunch skips finished runs and
resumes the others from their latest checkpoint. A run whose loss became NaN is finished
too (it would diverge again), with NaN metrics. Every overridden key, value type and
metric name is checked for every run before the first one starts.

Spreading a sweep: `--sweep_shard=I/N` runs runs I, I+N, I+2N, ... (one shard per GPU with
CUDA_VISIBLE_DEVICES=I, or per host); each shard, and `--sweep_collect`, writes the table of
every finished run: ROOT/results.csv, ROOT/results.md and ROOT/results.png. One multi-host
JAX job (jax.distributed) runs each run on all hosts; ROOT must then be on a shared filesystem.
"""
import copy
import csv
import difflib
import hashlib
import importlib.util
import io
import itertools
import json
import os
import re
import socket

import ml_collections

from wavenet_jax import config_checks

ConfigError = config_checks.ConfigError

SPEC_KEYS = ('base', 'overrides', 'grid', 'runs', 'metrics')
# What the final eval metrics of each model kind hold (train.Run.evaluate, classifier.summarize);
# `/` names a nested per-class dict. Collection checks against the real result.json anyway.
_WAVENET_METRICS = ('bits_per_sample', 'targets', 'bits_per_sample_per_class/')
_CLASSIFIER_METRICS = ('accuracy', 'top5_accuracy', 'mean_per_class_accuracy', 'cross_entropy',
                       'examples', 'per_class_accuracy/')
METRICS = {
    'wavenet': _WAVENET_METRICS,
    'nsynth_autoencoder': _WAVENET_METRICS,
    'nsynth_classifier': _CLASSIFIER_METRICS,
    'nsynth_autoencoder_classifier': _CLASSIFIER_METRICS + _WAVENET_METRICS[::2],
}
RESULT = 'result.json'
_MAX_NAME = 120  # characters: far below the usual 255-byte file name limit, readable in `ls`.


class Run:
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
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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
      config_checks.check_config(config)
    except ConfigError as e:
      raise ConfigError(f'{source}: run {name}: {e}') from None
    runs.append(Run(name, o, config))
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


def _metrics(metrics, runs, source):
  """The metric names, checked against what every run's model kind reports."""
  kinds = {r.config.model.get('kind', 'wavenet') for r in runs}
  if metrics is None:  # the headline number of the kind
    classifiers = {k for k in kinds if 'classifier' in k}
    if classifiers and classifiers != kinds:
      raise ConfigError(f"{source}: runs of kinds {', '.join(sorted(kinds))}: name the 'metrics' to compare")
    return ['accuracy'] if classifiers else ['bits_per_sample']
  if isinstance(metrics, str) or not isinstance(metrics, (list, tuple)) or not metrics:
    raise ConfigError(f"{source}: 'metrics' must be a non-empty list of metric names, got {metrics!r}")
  for m in metrics:
    if not isinstance(m, str):
      raise ConfigError(f"{source}: 'metrics' must be metric names (strings), got {m!r}")
    for kind in sorted(kinds):
      known = METRICS.get(kind, ())
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


def parse_shard(shard: str):
  """'I/N' -> (I, N) with 0 <= I < N."""
  match = re.fullmatch(r'\s*(\d+)\s*/\s*(\d+)\s*', shard or '0/1')
  if not match or not int(match.group(1)) < int(match.group(2)):
    raise ConfigError(f'--sweep_shard={shard}: must be I/N with 0 <= I < N, e.g. 0/4')
  return int(match.group(1)), int(match.group(2))


# ---------------------------------------------------------------------- running

def run(sweep: Sweep, root: str, shard=(0, 1)):
  """Trains this shard's unfinished runs one after another, then writes the table of every
  finished run (collect); returns its rows."""
  from wavenet_jax import train  # brings in TensorFlow: only when there is something to train
  import jax

  root = config_checks.check_workdir(root)
  index, count = shard
  for run_ in sweep.runs:  # a stale result.json would be reported as this config's
    _check_finished_config(run_, root)
  mine = list(range(len(sweep.runs)))[index::count]
  where = f' (shard {index}/{count}: {len(mine)} of them)' if count > 1 else ''
  print(f'Sweep {sweep.source}: {len(sweep.runs)} runs{where} -> {root}', flush=True)
  for i in mine:
    run_ = sweep.runs[i]
    workdir = os.path.join(root, run_.name)
    marker = os.path.join(workdir, RESULT)
    label = f'run {i + 1}/{len(sweep.runs)} {run_.name}'
    if os.path.exists(marker):
      print(f'Skipping {label}: finished ({marker}).', flush=True)
      continue
    print(f'=== {label}: {_describe(run_.overrides)}', flush=True)
    try:
      metrics, status = train.train_and_evaluate(run_.config, workdir), 'ok'
    except train.NonFiniteLossError as e:  # a learning rate too high is a result, not a crash
      metrics, status = {'error': str(e)}, 'diverged'
      print(f'{run_.name}: diverged: {e}', flush=True)
    if 'stopped_at' in metrics:
      print(f'Sweep stopped in {run_.name} at step {metrics["stopped_at"]}; relaunch to resume.', flush=True)
      break
    if jax.process_index() == 0:
      _write_json(marker, {'name': run_.name, 'status': status, 'overrides': run_.overrides,
                           'metrics': metrics, 'config': _config_json(run_.config)})
  if jax.process_index() == 0:
    return collect(sweep, root)
  return []


def _describe(overrides):
  return ', '.join(f'{k}={v!r}' for k, v in overrides.items()) or 'the base config'


def _config_json(config):
  return json.loads(config.to_json_best_effort())


def _check_finished_config(run_, root):
  """A finished run's result.json must come from this same config (else the table would mix them)."""
  marker = os.path.join(root, run_.name, RESULT)
  if not os.path.exists(marker):
    return
  then, now = _flat(_read_json(marker).get('config', {}), '.'), _flat(_config_json(run_.config), '.')
  # Keys only one side has come from another version of the code (a field added since): not a change.
  diff = [k for k in sorted(set(then) & set(now)) if then[k] != now[k]]
  if diff:
    k = diff[0]
    raise ConfigError(f'{marker}: finished with another config ({k}={then[k]!r} there, {now[k]!r} '
                      f'now{f", and {len(diff) - 1} more" if len(diff) > 1 else ""}): use another --workdir, '
                      f'or delete it to retrain or re-evaluate that run')


def _flat(tree, sep='/', prefix=''):
  """Nested dicts -> {'a/b': leaf}."""
  out = {}
  for k, v in tree.items():
    if isinstance(v, dict):
      out.update(_flat(v, sep, f'{prefix}{k}{sep}'))
    else:
      out[prefix + k] = v
  return out


# ----------------------------------------------------------------------- results

def collect(sweep: Sweep, root: str):
  """ROOT/results.{csv,md,png} from the finished runs' result.json files; returns the rows
  ({'name', 'status', 'values': {key: value}, 'metrics': {name: float}}), in sweep order."""
  root = config_checks.check_workdir(root)
  rows, missing = [], []
  for run_ in sweep.runs:
    marker = os.path.join(root, run_.name, RESULT)
    if not os.path.exists(marker):
      missing.append(run_.name)
      continue
    _check_finished_config(run_, root)
    result = _read_json(marker)
    flat = {k: v for k, v in _flat(result['metrics']).items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}
    metrics = {}
    for m in sweep.metrics:
      if result['status'] != 'ok':
        metrics[m] = float('nan')
      elif m in flat:
        metrics[m] = float(flat[m])
      else:
        raise ConfigError(f'{sweep.source}: metric {m!r} is not in {marker} (it has {", ".join(sorted(flat))})')
    values = {k: _value(run_.config, k) for k in sweep.keys}
    rows.append({'name': run_.name, 'status': result['status'], 'values': values, 'metrics': metrics,
                 'error': result['metrics'].get('error', '')})
  if not rows:
    print(f'No finished runs in {root} yet: no results table.', flush=True)
    return rows
  os.makedirs(root, exist_ok=True)
  _write_csv(os.path.join(root, 'results.csv'), rows, sweep)
  table = _markdown(rows, missing, sweep)
  _write_text(os.path.join(root, 'results.md'), table)
  _plot(os.path.join(root, 'results.png'), rows, sweep)
  print(table, end='', flush=True)
  print(f'{len(rows)} of {len(sweep.runs)} runs finished: {root}/results.csv, results.md, results.png', flush=True)
  return rows


def _value(config, key):
  node = config
  for part in key.split('.'):
    node = node[part]
  return node


def _cell(value) -> str:
  if isinstance(value, float):
    return repr(value)
  if isinstance(value, (list, tuple)):
    return '(' + ', '.join(_cell(v) for v in value) + (',)' if len(value) == 1 else ')')
  return str(value)


def _write_csv(path, rows, sweep):
  out = io.StringIO()
  writer = csv.writer(out, lineterminator='\n')
  writer.writerow(['run', 'status'] + sweep.keys + sweep.metrics)
  for r in rows:
    writer.writerow([r['name'], r['status']] + [_cell(r['values'][k]) for k in sweep.keys]
                    + [repr(r['metrics'][m]) for m in sweep.metrics])
  _write_text(path, out.getvalue())


def _markdown(rows, missing, sweep):
  head = ['run'] + sweep.keys + sweep.metrics
  lines = [f'Sweep `{sweep.source}`: {len(rows)} of {len(sweep.runs)} runs finished.', '',
           '| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
  for r in rows:
    cells = [r['name']] + [_cell(r['values'][k]) for k in sweep.keys]
    cells += [f'{r["metrics"][m]:.4f}' if r['status'] == 'ok' else r['status'] for m in sweep.metrics]
    lines.append('| ' + ' | '.join(c.replace('|', '\\|') for c in cells) + ' |')
  lines.append('')
  lines += [f'- {r["name"]} diverged: {r["error"]}' for r in rows if r['status'] != 'ok']
  if missing:
    lines.append(f'Not finished yet: {", ".join(missing)}.')
  return '\n'.join(lines).rstrip('\n') + '\n'


def _is_number(v):
  return isinstance(v, (int, float)) and not isinstance(v, bool)


def _plot(path, rows, sweep):
  """One panel per metric: metric vs the first swept key (a line per value of the other keys)
  when that key is numeric, else one bar per run."""
  import matplotlib
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt

  n = len(sweep.metrics)
  x_key = sweep.keys[0] if sweep.keys else None
  lines = x_key is not None and all(_is_number(r['values'][x_key]) for r in rows)
  fig, axes = plt.subplots(1, n, figsize=(max(5.0, 0.6 * len(rows) + 3) * n if not lines else 5.5 * n, 4.2),
                           dpi=100, squeeze=False)
  for ax, m in zip(axes[0], sweep.metrics):
    if lines:
      groups = {}
      for r in rows:
        label = ', '.join(f'{k.rsplit(".", 1)[-1]}={_cell(r["values"][k])}' for k in sweep.keys[1:])
        groups.setdefault(label, []).append((r['values'][x_key], r['metrics'][m]))
      for label, points in groups.items():
        points.sort()
        ax.plot([p[0] for p in points], [p[1] for p in points], 'o-', label=label or None)
      xs = [r['values'][x_key] for r in rows]
      if min(xs) > 0 and max(xs) / min(xs) >= 10:  # learning rates and the like read on a log axis
        ax.set_xscale('log')
      ticks = sorted(set(xs))
      if len(ticks) <= 12:  # the swept values themselves, not matplotlib's round numbers
        ax.set_xticks(ticks)
        ax.set_xticklabels([_cell(x) for x in ticks], fontsize=8)
        ax.minorticks_off()
      ax.set_xlabel(x_key)
      if len(groups) > 1:
        ax.legend(fontsize=7)
    else:
      ax.bar(range(len(rows)), [r['metrics'][m] for r in rows])
      ax.set_xticks(range(len(rows)))
      ax.set_xticklabels([r['name'] for r in rows], rotation=45, ha='right', fontsize=7)
    ax.set_title(m, fontsize=9)
    ax.grid(alpha=0.3)
  fig.tight_layout()
  tmp = _tmp_name(path) + '.png'  # matplotlib picks the format from the suffix
  fig.savefig(tmp)
  plt.close(fig)
  os.replace(tmp, path)


# ---------------------------------------------------------------------- file I/O

def _tmp_name(path):
  # Several shards may write the same table at once: each its own temp file, then a rename.
  return f'{path}.tmp.{socket.gethostname()}.{os.getpid()}'


def _write_text(path, text):
  tmp = _tmp_name(path)
  with open(tmp, 'w') as f:
    f.write(text)
  os.replace(tmp, path)


def _write_json(path, obj):
  _write_text(path, json.dumps(obj, indent=2, default=_jsonable) + '\n')


def _jsonable(value):
  import numpy as np
  if isinstance(value, np.generic):
    return value.item()
  if isinstance(value, np.ndarray):
    return value.tolist()
  return repr(value)


def _read_json(path):
  try:
    with open(path) as f:
      return json.load(f)
  except (OSError, ValueError) as e:
    raise ConfigError(f'{path}: unreadable ({e}); delete it to rerun that run') from None


def launch(spec: str, root: str, base_config=None, shard: str = '0/1', collect_only: bool = False):
  """launch.py --sweep: every run checked, then this shard's runs trained (or, with
  collect_only, nothing trained) and the table of all finished runs written."""
  index_count = parse_shard(shard)
  sweep = load(spec, base_config)
  if collect_only:
    return collect(sweep, root)
  return run(sweep, root, index_count)
