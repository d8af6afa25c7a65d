"""Scripted ablations: the runs of a sweep file trained one by one, then one results table.

    python launch.py --sweep=configs/sweeps/demo_width.py --workdir=runs/width [--sweep_shard=I/N]

The sweep file's format and its checks are `sweep_spec`'s. Run r trains with
`training/loop.train_and_evaluate` in ROOT/<name>. When that returns, ROOT/<name>/result.json
(overrides, config, final metrics) marks it finished: a relaunch skips finished runs and
resumes the others from their latest checkpoint. A run whose loss became NaN is finished
too (it would diverge again), with NaN metrics.

Spreading a sweep: `--sweep_shard=I/N` runs runs I, I+N, I+2N, ... (one shard per GPU with
CUDA_VISIBLE_DEVICES=I, or per host); each shard, and `--sweep_collect`, writes the table of
every finished run: ROOT/results.csv, ROOT/results.md and ROOT/results.png. One multi-host
JAX job (jax.distributed) runs each run on all hosts; ROOT must then be on a shared filesystem.
"""
import csv
import io
import json
import os
import re

from wavenet_jax.common import config_checks, files, plots
from wavenet_jax.training import sweep_spec
from wavenet_jax.training.sweep_spec import Sweep

ConfigError = config_checks.ConfigError

RESULT = 'result.json'


def launch(spec: str, root: str, base_config=None, shard: str = '0/1', collect_only: bool = False):
  """launch.py --sweep: every run checked, then this shard's runs trained (or, with
  collect_only, nothing trained) and the table of all finished runs written."""
  index_count = parse_shard(shard)
  sweep = sweep_spec.load(spec, base_config)
  if collect_only:
    return collect(sweep, root)
  return run(sweep, root, index_count)


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
  from wavenet_jax.training import loop  # brings in TensorFlow: only when there is something to train
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
      metrics, status = loop.train_and_evaluate(run_.config, workdir), 'ok'
    except loop.NonFiniteLossError as e:  # a learning rate too high is a result, not a crash
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
    values = {k: sweep_spec.config_value(run_.config, k) for k in sweep.keys}
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
  n = len(sweep.metrics)
  x_key = sweep.keys[0] if sweep.keys else None
  lines = x_key is not None and all(_is_number(r['values'][x_key]) for r in rows)
  fig, axes = plots.figure((max(5.0, 0.6 * len(rows) + 3) * n if not lines else 5.5 * n, 4.2),
                           ncols=n, squeeze=False)
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
  plots.save_figure(fig, path)


# ---------------------------------------------------------------------- file I/O

def _write_text(path, text):
  files.write_text(path, text)  # several shards may write one table: atomic_path's names are their own


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
