"""A newcomer's first hour (issue 41): the checkpoint holds the model, checkpoint and flag
mistakes are one line (exit code 2, nothing written), through the real entry point."""
import os
import shutil
import subprocess
import sys

import pytest

from configs import demo
from tests import tiny

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A logistic-mixture run trained with overrides the later commands do not repeat.
MODEL = ['--config.data.sample_size=64', '--config.model.dilations=(1,2,4)', '--config.model.skip_channels=16',
         '--config.model.output=logistic_mixture', '--config.model.scalar_input=True']


@pytest.fixture(scope='module')
def demo_dir(tmp_path_factory):
  return tiny.build_demo(tmp_path_factory.mktemp('data') / 'demo')


# launch.py's runs here are mostly compiling, and what they compute is checked only roughly.
FAST_COMPILE = dict(os.environ, XLA_FLAGS=f"{os.environ.get('XLA_FLAGS', '')} --xla_backend_optimization_level=0")


def launch(*args):
  return subprocess.run([sys.executable, 'launch.py', *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                        env=FAST_COMPILE)


def tree(path):
  """{relative path: (size, mtime)} of everything under path: what a failed command must leave."""
  out = {}
  for top, _, names in os.walk(path):
    for name in names:
      full = os.path.join(top, name)
      out[os.path.relpath(full, path)] = (os.path.getsize(full), os.path.getmtime(full))
  return out


def last_line(proc):
  return proc.stderr.strip().splitlines()[-1]


def assert_quiet(proc):
  """Only the one error line: no traceback, no asyncio or TensorStore aftermath."""
  for needle in ('Traceback', 'Event loop is closed', 'TensorStore', 'pybind11', 'Exception ignored'):
    assert needle not in proc.stderr, proc.stderr[-3000:]


@pytest.fixture(scope='module')
def mol_run(demo_dir, tmp_path_factory):
  """(workdir, the launch args every mode repeats, training's stdout): 2 steps, a checkpoint
  after each, a log line after each."""
  workdir = str(tmp_path_factory.mktemp('first_hour') / 'mol')
  common = ['--config=configs/demo.py', f'--workdir={workdir}', f'--config.data.source={demo_dir}',
            '--config.train.batch_size=2', '--config.eval.batch_size=2']
  out = launch(*common, *MODEL, '--config.train.num_train_steps=2', '--config.train.checkpoint_every_steps=1',
               '--config.train.generate_every_steps=0', '--config.train.log_every_steps=1')
  assert out.returncode == 0, out.stderr[-3000:]
  return workdir, common, out.stdout


def test_training_reports_compiling_once_and_leaves_it_out_of_its_rates(mol_run):
  lines = mol_run[2].splitlines()
  assert any(line.startswith('compiled the train step: the first step took') for line in lines), lines
  step1 = next(line for line in lines if line.startswith('step 1/'))
  step2 = next(line for line in lines if line.startswith('step 2/'))
  assert 'steps/s' not in step1 and 'steps/s' in step2 and 'ETA' in step2


def test_eval_generate_and_embeddings_read_the_model_from_the_checkpoint(mol_run, demo_dir, capsys):
  workdir, common, _ = mol_run
  ev = launch(*common, '--mode=eval')  # no model overrides: the checkpoint's are used
  assert ev.returncode == 0, ev.stderr[-3000:]
  assert "model.output='logistic_mixture', model.scalar_input=True" in ev.stdout
  assert 'step 2 validation:' in ev.stdout and 12 < float(ev.stdout.split('validation: ')[1].split()[0]) < 20

  from wavenet_jax.apps import embedding_plots, generate_files
  from wavenet_jax.checkpoints import saved_model
  for app in (generate_files.generate_files, embedding_plots.plot_embeddings):
    c = demo.get_config()  # the config file as is, data as the run's
    c.data.source = demo_dir
    c.generate.num_samples, c.generate.class_ids, c.latent.out_dir = 30, (0,), os.path.join(workdir, 'latent')
    saved_model.adopt(c, workdir, chosen={'data.source'}, note=None)
    assert (c.model.output, c.model.scalar_input, c.model.dilations) == ('logistic_mixture', True, (1, 2, 4))
    assert app(c, workdir)
  assert 'wrote 1 wav file (+ a spectrogram PNG each)' in capsys.readouterr().out


def test_a_model_override_that_contradicts_the_checkpoint_is_refused(mol_run, demo_dir):
  workdir, common, _ = mol_run
  before = tree(workdir)
  out = launch(*common, '--config.model.residual_channels=16', '--config.train.num_train_steps=4')
  assert out.returncode == 2
  assert last_line(out) == (f'error: --config.model.residual_channels=16: the checkpoints in {workdir}/checkpoints '
                            'were trained with 32; leave it out to use theirs, or train with it in another --workdir')
  assert_quiet(out)
  assert tree(workdir) == before
  # The library alone (a config of the caller's own) refuses any difference the same way.
  from wavenet_jax.apps import train
  from wavenet_jax.common.config_checks import ConfigError
  c = tiny.config(demo_dir)
  c.model.output, c.model.scalar_input, c.model.quantization_channels = 'logistic_mixture', True, 256
  c.model.residual_channels = c.model.dilation_channels = 32
  c.model.gc_channels = demo.get_config().model.gc_channels
  with pytest.raises(ConfigError, match=r"^model.dilations=\(1, 2, 4, 8\): the checkpoints in .* were trained "
                                        r"with \(1, 2, 4\); set that, or train with it in another --workdir$"):
    train.train_and_evaluate(c, workdir)
  assert tree(workdir) == before


def test_an_unreadable_newest_checkpoint_names_the_steps_kept(mol_run, tmp_path):
  workdir, common, _ = mol_run
  broken = str(tmp_path / 'broken')
  shutil.copytree(workdir, broken)
  data = os.path.join(broken, 'checkpoints', '2', 'state', 'ocdbt.process_0', 'd')
  for name in os.listdir(data):  # the arrays' data, truncated as by a full disk
    with open(os.path.join(data, name), 'r+b') as f:
      f.truncate(os.path.getsize(f.name) // 2)
  before = tree(broken)
  common = [a if not a.startswith('--workdir') else f'--workdir={broken}' for a in common]
  ev = launch(*common, '--mode=eval')
  assert ev.returncode == 2, ev.stderr[-3000:]
  assert last_line(ev) == (f"error: {broken}/checkpoints/2: cannot be read (an array's data is missing or "
                           "truncated); kept: step 1: read one with --config.eval.step=1")
  assert_quiet(ev)
  gen = launch(*common, '--mode=generate')
  assert gen.returncode == 2 and last_line(gen).endswith(
      f'read one with --config.generate.checkpoint={broken}/checkpoints/1'), gen.stderr[-3000:]
  assert_quiet(gen)
  assert tree(broken) == before


@pytest.mark.parametrize('args,line', [
    (['--config=configs/demoo.py'], 'error: --config=configs/demoo.py: no such file (config files in configs: '
                                    'configs/default.py, configs/demo.py, configs/demo_pwg.py, configs/demo_vocoder.py'),
    (['--config=configs/demo.py:moll'], "error: --config=configs/demo.py:moll: unknown variant 'moll' "
                                        '(use :mol or nothing)'),
    (['--config=configs/speaker_id.py:tiney'], "error: --config=configs/speaker_id.py:tiney: unknown config "
                                               "variant 'tiney' (variants: tiny, cpu, autoencoder, pretrain)"),
    (['--config=configs/demo.py', '--config.generate.num_samples=abc'],
     "error: --config.generate.num_samples=abc: invalid literal for int() with base 10: 'abc'"),
])
def test_a_bad_config_flag_is_one_line(tmp_path, args, line):
  out = launch(*args, f'--workdir={tmp_path / "run"}', '--mode=generate')
  assert out.returncode == 2 and last_line(out).startswith(line), out.stderr[-3000:]
  assert_quiet(out)
  assert not os.path.exists(tmp_path / 'run')


def interrupt_when(cmd, ready, timeout=240):
  """Starts launch.py cmd, sends SIGINT once a stdout or stderr line starts with `ready`; (exit code, output)."""
  import selectors
  import signal
  import time
  proc = subprocess.Popen([sys.executable, 'launch.py', *cmd], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
  seen, sel, deadline = [], selectors.DefaultSelector(), time.time() + timeout
  sel.register(proc.stdout, selectors.EVENT_READ)
  sel.register(proc.stderr, selectors.EVENT_READ)
  while time.time() < deadline and not any(line.startswith(ready) for line in seen):
    for key, _ in sel.select(timeout=1):
      line = key.fileobj.readline()
      seen.append(line)
  proc.send_signal(signal.SIGINT)
  out, err = proc.communicate(timeout=120)
  return proc.returncode, ''.join(seen) + out + err


def test_ctrl_c_writes_whole_files_or_none_and_says_which_in_one_line(mol_run, tmp_path):
  workdir, common, _ = mol_run
  out_dir = tmp_path / 'generated'
  code, text = interrupt_when(common + ['--mode=generate', '--config.generate.class_ids=(0,1)',
                                        '--config.generate.batch_size=1', '--config.generate.num_samples=200000',
                                        '--config.generate.chunk_size=1000', f'--config.generate.out_dir={out_dir}'],
                              ready='streams 2-2/2')
  assert code == 130, text[-3000:]
  assert text.strip().splitlines()[-1] == 'interrupted: nothing written for brass_seed0; 1 wav file finished'
  assert sorted(os.listdir(out_dir)) == ['bell_seed0.png', 'bell_seed0.wav']
  assert 'Traceback' not in text  # training's SIGINT: saved and exit code 130, in test_resume.py


def test_a_relaunch_below_the_checkpoints_step_says_so_and_evaluates(mol_run, capsys):
  from wavenet_jax.apps import train
  from wavenet_jax.checkpoints import saved_model
  workdir, _, _ = mol_run
  before = tree(os.path.join(workdir, 'checkpoints'))
  c = demo.get_config()
  c.data.source = [a.split('=', 1)[1] for a in mol_run[1] if a.startswith('--config.data.source')][0]
  c.train.batch_size = c.eval.batch_size = 2
  c.train.num_train_steps = 1
  saved_model.adopt(c, workdir, chosen=set(), note=None)
  metrics = train.train_and_evaluate(c, workdir)
  assert 12 < metrics['bits_per_sample'] < 20
  out = capsys.readouterr().out
  assert 'already at step 2 (train.num_train_steps=1): nothing to train, evaluating; a new --workdir trains ' \
         'from 0' in out and 'steps 2 -> 1' not in out
  assert tree(os.path.join(workdir, 'checkpoints')) == before


def test_progress_in_a_log_has_no_cursor_codes_and_leaves_compiling_out(monkeypatch):
  import io
  from wavenet_jax.common import progress
  clock = iter([0.0, 5.0, 6.0, 7.0, 8.0])  # start; the first chunk (4 s compiling + 1 s); three more chunks
  monkeypatch.setattr(progress.time, 'perf_counter', lambda: next(clock))
  log = io.StringIO()
  shown = progress.Progress('streams 1-2/2', 400, 'samples', rate_scale=2, stream=log, every=0)
  for done in (100, 200, 300, 400):
    shown.update(done)
  shown.close()
  assert log.getvalue().splitlines() == [
      'streams 1-2/2: compiling took ~4.0 s (left out of the rates)',
      'streams 1-2/2: 200/400 samples, 200 samples/s, ETA 0m02s',
      'streams 1-2/2: 300/400 samples, 200 samples/s, ETA 0m01s',
      'streams 1-2/2: 400/400 samples, 200 samples/s, ETA 0m00s']


def test_ctrl_c_in_data_preparation_leaves_nothing(tmp_path):
  """SIGINT while the dataset is being written: one line, exit 130, no partial folder."""
  import signal
  import time
  out = tmp_path / 'demo'
  proc = subprocess.Popen([sys.executable, 'data/prepare.py', 'demo', f'--out={out}', '--clip_seconds=4',
                           '--train_per_class=200'], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
  deadline = time.time() + 120
  while time.time() < deadline and not any(p.name.startswith('demo.partial-') for p in tmp_path.iterdir()):
    time.sleep(0.2)
  time.sleep(1.0)  # into the build
  proc.send_signal(signal.SIGINT)
  stdout, stderr = proc.communicate(timeout=120)
  assert proc.returncode == 130, stderr[-3000:]
  assert stderr.strip().splitlines()[-1] == f'interrupted: nothing written for {out}'
  assert 'Traceback' not in stderr and list(tmp_path.iterdir()) == []
