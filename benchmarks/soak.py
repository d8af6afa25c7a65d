"""Soak test of resume: train the demo while killing it at random moments, then compare.

    python benchmarks/soak.py [--steps N] [--interval 30,120] [--json PATH] [--workdir DIR] \
        [--config.a.b=v ...]

Runs `launch.py --config=configs/demo.py` to --steps twice: once straight through, once
killed every --interval seconds (uniform, SIGKILL and SIGTERM alternating) and relaunched
until it finishes. Reports the kills survived, the steps redone after each kill (the steps
it had logged past the checkpoint it resumed from), the files left behind (temporary or
unreadable checkpoints, *.tmp files) and how far the final parameters, optimizer state, EMA
and rng are from the straight run's (goal: 0 on one machine). Not a test: it takes minutes.
--config.a.b=v arguments go to both runs' launch.py after the script's own (so they win),
e.g. a smaller model or a prepared demo corpus: `--config.data.source=DIR`.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

if __name__ == '__main__':  # `python benchmarks/X.py` puts benchmarks/ on sys.path; the imports below need the checkout
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np

from benchmarks import table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEP = re.compile(r'^step (\d+)/')
RESUMED = re.compile(r'\(step (\d+)\)\.$')


def command(workdir, steps, overrides=()):
  return [sys.executable, 'launch.py', '--config=configs/demo.py', f'--workdir={workdir}',
          f'--config.train.num_train_steps={steps}', '--config.train.log_every_steps=1',
          '--config.train.checkpoint_every_steps=100', '--config.train.generate_every_steps=0',
          '--config.train.eval_every_steps=0', '--config.train.ema_decay=0.999', *overrides]


def straight_run(workdir, steps, overrides=()):
  subprocess.run(command(workdir, steps, overrides), cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL)


def killed_run(workdir, steps, interval, rng, overrides=()):
  """Kills and relaunches until the run finishes -> (kills, [steps redone after each kill])."""
  kills, redone, last_logged, pending = 0, [], 0, None
  while True:
    proc = subprocess.Popen(command(workdir, steps, overrides), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    sig = (signal.SIGKILL, signal.SIGTERM)[kills % 2]
    try:
      proc.wait(timeout=rng.uniform(*interval))
      killed = False
    except subprocess.TimeoutExpired:
      proc.send_signal(sig)
      proc.wait()
      killed = True
    reader.join()
    for line in lines:
      if (m := RESUMED.search(line.strip())) and pending is not None:
        redone.append(pending - int(m.group(1)))
        pending = None
      if m := STEP.match(line):
        last_logged = int(m.group(1))
    if not killed:
      if proc.returncode != 0:
        raise RuntimeError(f'launch.py failed with exit code {proc.returncode} (not killed)')
      return kills, redone
    kills += 1
    pending = last_logged  # compared with the step the next launch resumes from


def left_behind(workdir):
  found = []
  for folder, dirs, files in os.walk(workdir):
    for name in dirs + files:
      if 'tmp' in name or name.endswith('.unreadable'):
        found.append(os.path.relpath(os.path.join(folder, name), workdir))
  return found


def max_difference(a, b):
  from wavenet_jax.checkpoints import checkpointing
  import jax
  (sa, ma), (sb, mb) = checkpointing.load(a), checkpointing.load(b)
  leaves = zip(jax.tree_util.tree_leaves(sa), jax.tree_util.tree_leaves(sb))
  diff = max(float(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64)), initial=0))
             for x, y in leaves)
  return diff, ma['data_position'] == mb['data_position'] and ma['step'] == mb['step']


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--steps', type=int, default=3000)
  parser.add_argument('--interval', default='30,120', help='seconds between kills: MIN,MAX')
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--workdir', default=None, help='default: a temporary directory')
  parser.add_argument('--json', help='also write the figures here as a flat JSON object')
  args, overrides = parser.parse_known_args()
  if unknown := [a for a in overrides if not a.startswith('--config.')]:
    parser.error(f'unrecognized arguments: {" ".join(unknown)}')
  interval = tuple(float(x) for x in args.interval.split(','))
  root = args.workdir or tempfile.mkdtemp(prefix='wavenet_jax_soak_')
  start = time.time()
  straight_run(os.path.join(root, 'straight'), args.steps, overrides)
  straight_s = time.time() - start
  start = time.time()
  kills, redone = killed_run(os.path.join(root, 'killed'), args.steps, interval, np.random.default_rng(args.seed),
                             overrides)
  killed_s = time.time() - start
  diff, same_position = max_difference(os.path.join(root, 'straight'), os.path.join(root, 'killed'))
  left = left_behind(os.path.join(root, 'killed'))
  figures = {
      'kills_survived': kills,
      'steps_redone_per_kill_mean': round(float(np.mean(redone)), 1) if redone else 0,
      'steps_redone_per_kill_max': max(redone, default=0),
      'files_left_behind': len(left),
      'final_state_max_abs_diff': diff,
      'same_step_and_data_position': same_position,
      'straight_minutes': round(straight_s / 60, 1),
      'killed_minutes': round(killed_s / 60, 1),
  }
  goals = {'kills_survived': '>= 10', 'steps_redone_per_kill_max': '< 100 (checkpoint every 100)',
           'files_left_behind': '0', 'final_state_max_abs_diff': '0 (<= 1e-6)', 'same_step_and_data_position': 'True'}
  setting = ' '.join([f'demo, {args.steps} steps, kills every {args.interval} s', *overrides])
  table.report(figures, setting, goals, args.json)
  for path in left:
    print(f'left behind: {path}')


if __name__ == '__main__':
  main()
