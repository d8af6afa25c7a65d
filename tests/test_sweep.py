"""Sweeps: one workdir per run, a table of their final metrics, skip/resume on relaunch, shards, bad input."""
import contextlib
import copy
import csv
import io
import json
import os
import shutil
import subprocess
import sys

import pytest

from configs import demo
from tests import tiny
from wavenet_jax.apps import sweep, train
from wavenet_jax.training import sweep_spec
from wavenet_jax.common import config_checks

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = ({'model.residual_channels': 4}, {'model.residual_channels': 8, 'train.learning_rate': 3e-3})
NAMES = ('residual_channels=4', 'residual_channels=8,learning_rate=0.003')
METRICS = ('bits_per_sample', 'bits_per_sample_per_class/bell')


def tiny_overrides(data_dir):
  """tests/tiny.py's config as overrides of configs/demo.py (what a sweep file can say)."""
  small, base = tiny.config(data_dir), demo.get_config()
  value = sweep_spec.config_value
  keys = [k for k in sweep_spec._leaf_keys(small) if value(small, k) != value(base, k)]
  return dict({k: value(small, k) for k in keys}, **{'train.generate_every_steps': 0})


def write_sweep(path, spec):
  path.write_text(f'def get_sweep():\n  return {spec!r}\n')
  return str(path)


def run_quietly(*args, **kwargs):
  """-> (what sweep.run returned, its stdout)."""
  out = io.StringIO()
  with contextlib.redirect_stdout(out):
    result = sweep.run(*args, **kwargs)
  return result, out.getvalue()


def checkpoints(root):
  return {name: sorted(os.listdir(os.path.join(root, name, 'checkpoints'))) for name in NAMES}


@pytest.fixture(scope='module')
def demo_dir(tmp_path_factory):
  return tiny.build_demo(str(tmp_path_factory.mktemp('demo') / 'prepared'))


@pytest.fixture(scope='module')
def finished(demo_dir, tmp_path_factory):
  """A 2-run sweep whose first run had been killed at step 3 of 6, then run to the end."""
  tmp = tmp_path_factory.mktemp('sweep')
  spec = {'base': 'configs/demo.py', 'overrides': tiny_overrides(demo_dir), 'runs': RUNS, 'metrics': METRICS}
  path = write_sweep(tmp / 'two.py', spec)
  s = sweep_spec.load(path)
  root = str(tmp / 'root')
  half = copy.deepcopy(s.runs[0].config)
  half.train.num_train_steps = 3
  with contextlib.redirect_stdout(io.StringIO()):
    train.train_and_evaluate(half, os.path.join(root, NAMES[0]))
  rows, stdout = run_quietly(s, root)
  return path, root, rows, stdout


def copy_root(root, tmp_path):
  return shutil.copytree(root, str(tmp_path / 'root'))


def test_each_run_trains_in_its_workdir_and_the_table_holds_its_final_metrics(finished):
  path, root, rows, stdout = finished
  assert [r['name'] for r in rows] == list(NAMES)
  assert stdout.count('=== run') == 2
  assert 'Resuming from' in stdout and 'steps 3 -> 6' in stdout and 'steps 0 -> 6' in stdout
  results = [json.load(open(os.path.join(root, n, 'result.json'))) for n in NAMES]
  assert [r['overrides'] for r in results] == [dict(o) for o in RUNS]
  assert results[1]['config']['train']['learning_rate'] == 3e-3
  with open(os.path.join(root, 'results.csv')) as f:
    table = list(csv.DictReader(f))
  assert [t['run'] for t in table] == list(NAMES)
  for t, result in zip(table, results):
    assert float(t['bits_per_sample']) == result['metrics']['bits_per_sample']
    assert float(t['bits_per_sample_per_class/bell']) == result['metrics']['bits_per_sample_per_class']['bell']
  assert [t['model.residual_channels'] for t in table] == ['4', '8']
  assert [t['train.learning_rate'] for t in table] == ['0.002', '0.003']  # the base's where a run sets none
  # The marker holds the metrics of the run's last checkpoint, as --mode=eval computes them.
  with contextlib.redirect_stdout(io.StringIO()):
    again = train.evaluate(sweep_spec.load(path).runs[1].config, os.path.join(root, NAMES[1]))
  assert again['bits_per_sample'] == results[1]['metrics']['bits_per_sample']
  md = open(os.path.join(root, 'results.md')).read()
  assert f"| {NAMES[0]} | 4 | 0.002 | {results[0]['metrics']['bits_per_sample']:.4f} |" in md
  assert open(os.path.join(root, 'results.png'), 'rb').read(8) == b'\x89PNG\r\n\x1a\n'
  assert not [f for f in os.listdir(root) if '.tmp' in f]


def test_relaunch_skips_finished_runs(finished, tmp_path):
  path, root, rows, _ = finished
  root = copy_root(root, tmp_path)
  before = checkpoints(root)
  again, stdout = run_quietly(sweep_spec.load(path), root)
  assert stdout.count('Skipping run') == 2 and '===' not in stdout and 'Resuming' not in stdout
  assert checkpoints(root) == before
  assert again == rows


def test_shards_run_their_share_and_any_shard_tabulates_every_finished_run(finished, tmp_path):
  path, root, rows, _ = finished
  root = copy_root(root, tmp_path)
  for name in NAMES:  # both runs killed after their last checkpoint
    os.remove(os.path.join(root, name, 'result.json'))
  before = checkpoints(root)
  part, stdout = run_quietly(sweep_spec.load(path), root, (1, 2))
  assert f'=== run 2/2 {NAMES[1]}' in stdout and NAMES[0] + ':' not in stdout
  assert 'Resuming from' in stdout and 'already at step 6 (train.num_train_steps=6)' in stdout  # not restarted
  assert not os.path.exists(os.path.join(root, NAMES[0], 'result.json'))
  assert part == rows[1:]
  assert f'Not finished yet: {NAMES[0]}' in open(os.path.join(root, 'results.md')).read()
  # The other shard, through launch.py: it runs the first run and tabulates both.
  out = subprocess.run([sys.executable, 'launch.py', f'--sweep={path}', f'--workdir={root}',
                        '--sweep_shard=0/2'], cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert out.returncode == 0, out.stderr[-3000:]
  assert f'=== run 1/2 {NAMES[0]}' in out.stdout and NAMES[1] + ':' not in out.stdout
  assert checkpoints(root) == before
  with open(os.path.join(root, 'results.csv')) as f:
    table = list(csv.DictReader(f))
  # launch.py's XLA:CPU flags (wavenet_jax/runtime/xla_cpu.py) are not this process's: float32 rounding differs.
  assert [float(t['bits_per_sample']) for t in table] == pytest.approx(
      [r['metrics']['bits_per_sample'] for r in rows], rel=1e-6)


def test_a_finished_run_of_another_config_is_refused(finished):
  path, root, _, _ = finished
  spec = sweep_spec.load_python(path, 'get_sweep', '--sweep')
  spec['overrides']['train.num_train_steps'] = 7
  with pytest.raises(config_checks.ConfigError, match='train.num_train_steps=6 there, 7 now'):
    sweep.run(sweep_spec.from_spec(spec, 'changed'), root)


@pytest.mark.parametrize('change,needle', [
    ({'grid': {'model.residual_chanels': (4, 8)}},
     "unknown config key 'model.residual_chanels' (did you mean 'model.residual_channels'?)"),
    ({'runs': ({'train.learning_rate': 1e-3}, {'train.learning_rate': 'fast'})},
     "run 2: train.learning_rate='fast': a str where the base config has a float"),
    ({'runs': ({'model.use_biases': 1},)}, 'model.use_biases=1: a int where the base config has a bool'),
    ({'grid': {'train.learning_rate': (True,)}}, 'train.learning_rate=True: a bool'),
    ({'grid': {'train.batch_size': (2, 0)}}, 'run batch_size=0: train.batch_size=0'),  # check_config, per run
    ({'metrics': ('bits_per_sampel',)}, "metric 'bits_per_sampel' is not one of a wavenet run's"),
    ({'metrics': ('accuracy',)}, "metric 'accuracy' is not one of a wavenet run's"),
    ({'runs': ({'seed': 1}, {'seed': 1})}, 'runs 1 and 2 have the same overrides'),
    ({'grids': {}}, "unknown sweep key 'grids'"),
    ({'base': 'configs/nope.py'}, "'base'=configs/nope.py: no such file"),
])
def test_bad_sweeps_fail_in_one_line_before_anything_is_written(tmp_path, change, needle):
  spec = {'base': 'configs/demo.py', 'grid': {'model.residual_channels': (4, 8)}}
  if 'runs' in change:
    del spec['grid']
  spec.update(change)
  root = tmp_path / 'root'
  with pytest.raises(config_checks.ConfigError) as e:
    with contextlib.redirect_stdout(io.StringIO()):
      sweep.launch(write_sweep(tmp_path / 'bad.py', spec), str(root))
  assert needle in str(e.value) and '\n' not in str(e.value), str(e.value)
  assert not root.exists()


def test_names_are_readable_unique_and_safe():
  runs = [{'model.dilations': (1, 2), 'data.source': 'a/b'}, {'model.dilations': (1, 2), 'data.source': 'a b'},
          {'model.dilations': (4,) * 60, 'data.source': ''}, {'model.dilations': (1,), 'data.source': 'c'}]
  names = sweep_spec._names(runs, ['model.dilations', 'data.source'], 'test')
  assert names[0].startswith('dilations=1-2,source=a-b~') and names[1].startswith('dilations=1-2,source=a-b~')
  assert names[0] != names[1] and len(names[2]) <= 130 and '~' in names[2]  # cleaned alike / too long: hashed
  assert names[3] == 'dilations=1,source=c'
  assert sweep_spec._names([{'a.x': 1, 'b.x': 2}], ['a.x', 'b.x'], 'test') == ['a.x=1,b.x=2']
  assert sweep_spec._names([{}], [], 'test') == ['base']
  assert all('/' not in n and ' ' not in n for n in names)
  with pytest.raises(config_checks.ConfigError, match='--sweep_shard=2/2'):
    sweep.parse_shard('2/2')
  assert sweep.parse_shard('1/4') == (1, 4)


def test_launch_reports_a_bad_sweep_in_one_line(tmp_path):
  path = write_sweep(tmp_path / 'bad.py', {'base': 'configs/demo.py', 'grid': {'model.residual_chanels': (4,)}})
  out = subprocess.run([sys.executable, 'launch.py', f'--sweep={path}', f'--workdir={tmp_path / "root"}'],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert out.returncode == 2
  last = out.stderr.strip().splitlines()[-1]
  assert last.startswith('error: ') and "'model.residual_chanels'" in last, out.stderr[-2000:]
  assert not (tmp_path / 'root').exists()


def test_a_diverging_run_is_a_result_not_a_crash(demo_dir, tmp_path):
  spec = {'base': 'configs/demo.py', 'overrides': dict(tiny_overrides(demo_dir), **{'train.num_train_steps': 2}),
          'runs': ({'train.learning_rate': 1e30},)}
  s = sweep_spec.load(write_sweep(tmp_path / 'nan.py', spec))
  rows, stdout = run_quietly(s, str(tmp_path / 'root'))
  assert rows[0]['status'] == 'diverged' and rows[0]['metrics']['bits_per_sample'] != rows[0]['metrics']['bits_per_sample']
  assert 'loss became' in open(tmp_path / 'root' / 'results.md').read()
  assert 'Skipping run 1/1' in run_quietly(s, str(tmp_path / 'root'))[1]  # it would diverge again
