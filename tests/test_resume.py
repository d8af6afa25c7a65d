"""A run killed at any moment (SIGKILL, SIGTERM, SIGINT) and relaunched ends as the run that
was never killed: the same parameters, optimizer state, EMA, rng and data position, and the
same loss at every step it logs, with a cosine schedule, EMA, augmentation and class dropout
on, across epoch boundaries."""
import os
import re
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from tests import tiny
from wavenet_jax.checkpoints import checkpointing

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEPS = 36  # 24 training clips, batch 2: three epochs
LOSS_LINE = re.compile(r'^step (\d+)/\d+  (loss \S+ \(\S+ bits/sample\))')


@pytest.fixture(scope='module')
def demo_dir(tmp_path_factory):
  return tiny.build_demo(tmp_path_factory.mktemp('data') / 'demo')


def launch(workdir, demo_dir, *extra, env=None):
  cmd = [sys.executable, 'launch.py', '--config=configs/demo.py', f'--workdir={workdir}',
         f'--config.data.source={demo_dir}', '--config.data.sample_size=64', '--config.data.shuffle_buffer=8',
         '--config.model.dilations=(1,2)', '--config.model.skip_channels=16',
         '--config.model.gc_null_class=True', '--config.train.class_dropout=0.2',
         "--config.data.augment.mode=additive", '--config.train.ema_decay=0.9',
         '--config.train.batch_size=2', '--config.eval.batch_size=2', '--config.train.log_every_steps=1',
         '--config.train.checkpoint_every_steps=4', '--config.train.eval_every_steps=0',
         '--config.train.generate_every_steps=0', f'--config.train.num_train_steps={STEPS}', *extra]
  return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=dict(os.environ, **(env or {})))


def losses(stdout):
  """{step: 'loss X (Y bits/sample)'} of every step line (a redone step must log the same)."""
  found = {}
  for line in stdout.splitlines():
    m = LOSS_LINE.match(line)
    if m:
      step, loss = int(m.group(1)), m.group(2)
      assert found.setdefault(step, loss) == loss, (step, found[step], loss)
  return found


def final_state(workdir):
  state, meta = checkpointing.load(workdir)
  assert meta['step'] == STEPS
  return jax.tree_util.tree_leaves_with_path(state), meta['data_position']


def test_killed_at_random_moments_the_run_ends_as_the_uninterrupted_one(demo_dir, tmp_path):
  straight = launch(tmp_path / 'straight', demo_dir)
  out, err = straight.communicate(timeout=600)
  assert straight.returncode == 0, err[-3000:]
  expected = losses(out)
  assert sorted(expected) == list(range(1, STEPS + 1))

  workdir = tmp_path / 'killed'
  rng = np.random.default_rng(0)
  # After the step lines it names; a step takes milliseconds, so the signal lands some steps on.
  kills = [(signal.SIGKILL, int(rng.integers(2, 8))), (signal.SIGTERM, int(rng.integers(10, 16))),
           (signal.SIGKILL, int(rng.integers(18, 22))), (signal.SIGINT, int(rng.integers(24, 27)))]
  logged, resumed_from = [], []
  for sig, at in kills:
    proc = launch(workdir, demo_dir)
    lines, deadline = [], time.time() + 300
    while time.time() < deadline:
      line = proc.stdout.readline()
      if not line:
        break
      lines.append(line)
      m = LOSS_LINE.match(line)
      if m and int(m.group(1)) >= at:
        proc.send_signal(sig)
        break
    rest, err = proc.communicate(timeout=120)
    text = ''.join(lines) + rest
    logged.append(text)
    if sig == signal.SIGKILL:
      assert proc.returncode == -signal.SIGKILL, err[-3000:]
    else:  # a clean stop: it saved the step it was at, and says so (Ctrl-C: not a finished run, 130)
      assert proc.returncode == (130 if sig == signal.SIGINT else 0), err[-3000:]
      saved = re.search(rf'Received {sig.name}: saved step (\d+)', text)
      assert saved, text
      assert os.path.isdir(workdir / 'checkpoints' / saved.group(1))
      resumed_from.append(int(saved.group(1)))
  last = launch(workdir, demo_dir)
  out, err = last.communicate(timeout=600)
  assert last.returncode == 0, err[-3000:]
  logged.append(out)
  for text, saved in zip(logged[2::2], resumed_from):  # the launches after a clean stop
    assert f'(step {saved})' in text and not re.search(r'^step 1/', text, re.M)

  for text in logged:  # every step every launch logged is the uninterrupted run's step
    for step, loss in losses(text).items():
      assert loss == expected[step], (step, loss, expected[step])
  assert set().union(*(losses(t) for t in logged)) == set(expected)
  (a, pos_a), (b, pos_b) = final_state(tmp_path / 'straight'), final_state(workdir)
  assert pos_a == pos_b == STEPS * 2
  assert [p for p, _ in a] == [p for p, _ in b]
  for (path, x), (_, y) in zip(a, b):
    assert np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64)), initial=0) <= 1e-6, path


# --- checkpoint faults --------------------------------------------------------------------

@pytest.fixture(scope='module')
def trained(demo_dir, tmp_path_factory):
  """A tiny run of 6 steps with checkpoints at 3 and 6: copy it to damage it."""
  from wavenet_jax.apps import train
  workdir = tmp_path_factory.mktemp('trained') / 'run'
  train.train_and_evaluate(tiny.config(demo_dir, steps=6), str(workdir))
  return workdir


def _copy(trained, tmp_path):
  import shutil
  return shutil.copytree(trained, tmp_path / 'run')


def test_an_unreadable_latest_checkpoint_is_reported_and_the_run_resumes_from_the_newest_good_one(
    demo_dir, trained, tmp_path, capsys):
  from wavenet_jax.apps import train
  workdir = _copy(trained, tmp_path)
  for f in (workdir / 'checkpoints' / '6' / 'state').rglob('*'):
    if f.is_file() and f.parent.name == 'd':  # the arrays' data, truncated as by a full disk
      with open(f, 'r+b') as handle:
        handle.truncate(f.stat().st_size // 2)
  # A save killed midway leaves orbax's temporary directory: it is never read as a checkpoint.
  (workdir / 'checkpoints' / '9.orbax-checkpoint-tmp-1234' / 'state').mkdir(parents=True)
  capsys.readouterr()
  train.train_and_evaluate(tiny.config(demo_dir, steps=8), str(workdir))
  out = capsys.readouterr().out.splitlines()
  warnings = [line for line in out if line.startswith('warning:')]
  assert len(warnings) == 1 and f'{workdir}/checkpoints/6 cannot be read (' in warnings[0], out
  assert 'resuming from step 3' in warnings[0] and f'Resuming from {workdir}/checkpoints/3 (step 3).' in out
  assert (workdir / 'checkpoints' / '6.unreadable').is_dir()  # kept to look at, out of the way
  state, meta = checkpointing.load(str(workdir))
  assert meta['step'] == 8 and meta['data_position'] == 8 * 2


def test_no_readable_checkpoint_is_one_line_never_a_fresh_start(demo_dir, trained, tmp_path):
  from wavenet_jax.apps import train
  workdir = _copy(trained, tmp_path)
  for step in ('3', '6'):
    (workdir / 'checkpoints' / step / 'meta' / 'metadata').write_text('{not json')
  with pytest.raises(checkpointing.CheckpointError) as e:
    train.train_and_evaluate(tiny.config(demo_dir, steps=8), str(workdir))
  assert str(e.value).startswith(f'{workdir}/checkpoints: no checkpoint can be read (step 6: ')
  assert '1 older ones neither' in str(e.value) and '\n' not in str(e.value)
  assert sorted(os.listdir(workdir / 'checkpoints')) == ['3', '6']  # nothing moved, nothing new


def test_a_failing_save_stops_the_run_in_one_line_and_keeps_the_previous_checkpoint(
    demo_dir, tmp_path, monkeypatch):
  import errno

  from wavenet_jax.apps import train
  real_save = checkpointing.ocp.CheckpointManager.save

  def save(self, step, *args, **kwargs):
    if step == 6:
      raise OSError(errno.ENOSPC, 'No space left on device')
    return real_save(self, step, *args, **kwargs)

  monkeypatch.setattr(checkpointing.ocp.CheckpointManager, 'save', save)
  workdir = tmp_path / 'run'
  with pytest.raises(checkpointing.CheckpointError) as e:
    train.train_and_evaluate(tiny.config(demo_dir, steps=8), str(workdir))
  assert str(e.value) == (f'{workdir}/checkpoints: saving step 6 failed ([Errno 28] No space left on '
                          'device); the checkpoint of step 3 is kept')
  monkeypatch.setattr(checkpointing.ocp.CheckpointManager, 'save', real_save)
  state, meta = checkpointing.load(str(workdir))
  assert meta['step'] == 3 and sorted(os.listdir(workdir / 'checkpoints')) == ['3']


# --- multi-host faults --------------------------------------------------------------------

@pytest.mark.parametrize('victim', [1, 0])  # 0 also runs the coordination service
def test_killing_one_of_two_processes_stops_the_other_in_one_line_and_both_resume(demo_dir, tmp_path, victim):
  import socket
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    address = f'127.0.0.1:{s.getsockname()[1]}'

  def both():
    return [launch(tmp_path / 'run', demo_dir, f'--coordinator_address={address}', '--num_processes=2',
                   f'--process_id={i}', env={'XLA_FLAGS': '--xla_force_host_platform_device_count=1'})
            for i in range(2)]

  procs = both()
  first, killed = procs[1 - victim], procs[victim]
  lines, deadline = [], time.time() + 300
  while time.time() < deadline and (line := procs[0].stdout.readline()):
    lines.append(line)
    if (m := LOSS_LINE.match(line)) and int(m.group(1)) >= 10:  # past the checkpoints of 4 and 8
      break
  killed.kill()
  killed.wait()
  killed_at = time.time()
  out, err = first.communicate(timeout=150)
  assert time.time() - killed_at < 120, err[-3000:]
  assert first.returncode == 3, err[-3000:]
  last = err.strip().splitlines()[-1]
  assert last.startswith(f'error: process {1 - victim} of 2 lost the other processes (') and last.endswith(
      'relaunch all 2 with the same flags: the run resumes from its latest checkpoint'), err[-3000:]
  assert 'Traceback' not in err, err[-3000:]
  stopped_at = max(losses(''.join(lines) + (out if victim else '')))
  assert stopped_at >= 10

  runs = both()
  outs = [p.communicate(timeout=300) for p in runs]
  for p, (out, err) in zip(runs, outs):
    assert p.returncode == 0, err[-3000:]
  resumed = re.search(r'\(step (\d+)\)\.$', outs[0][0], re.M)
  # The newest checkpoint both processes committed (a save still in flight at the kill is not).
  assert resumed and 4 <= int(resumed.group(1)) <= stopped_at, outs[0][0]
  assert not re.search(r'^step 1/', outs[0][0], re.M) and f'step {STEPS}/{STEPS}' in outs[0][0]
  state, meta = checkpointing.load(str(tmp_path / 'run'))
  assert meta['step'] == STEPS
