"""A classifier recipe on a corpus tree: the model against the MFCC baseline, per crop and per clip.

    python -m benchmarks.classification --src TREE [--config configs/speaker_id.py:tiny]
        [--workdir DIR] [--steps N] [--json PATH]

TREE is a folder of class folders (data/folder.py: the label is the parent folder) or a
prepared dataset. The config (a file and its variants, as launch.py takes them) is trained
from scratch on it in WORKDIR (default: a temporary folder), then its final evaluation is
read: accuracy over crops and over whole clips, beside the baseline's (MFCC statistics +
logistic regression on the same split, training/baseline.py), and the minutes it all took.
Goal: the model's clip accuracy at least the baseline's.
"""
import argparse
import importlib
import os
import tempfile
import time

from benchmarks import table
from wavenet_jax.apps import train


def load_config(spec):
  """'configs/speaker_id.py:tiny' -> that module's get_config('tiny')."""
  path, _, variant = spec.partition(':')
  module = importlib.import_module(os.path.splitext(path)[0].replace('/', '.'))
  return module.get_config(variant or None)


def run(src, spec, workdir, steps):
  c = load_config(spec)
  c.data.corpus, c.data.source = 'folder', os.path.abspath(src)
  if steps:
    c.train.num_train_steps = steps
  c.train.eval_every_steps = 0
  start = time.perf_counter()
  final = train.train_and_evaluate(c, workdir)
  minutes = (time.perf_counter() - start) / 60
  figures = {'classes': len(final['per_class_accuracy']), 'eval_clips': final['clips'],
             'eval_crops': final['examples'], 'steps': c.train.num_train_steps}
  for key in ('accuracy', 'clip_accuracy', 'baseline_accuracy', 'baseline_clip_accuracy'):
    figures[key] = round(final[key], 4)
  figures['minutes'] = round(minutes, 1)
  goals = {'clip_accuracy': f'>= baseline_clip_accuracy ({figures["baseline_clip_accuracy"]})'}
  return figures, goals, c


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--src', required=True, help='a folder of class folders, or a prepared dataset')
  parser.add_argument('--config', default='configs/speaker_id.py:tiny')
  parser.add_argument('--workdir', help='where the run goes (default: a temporary folder)')
  parser.add_argument('--steps', type=int, help='train.num_train_steps (default: the config\'s)')
  parser.add_argument('--json')
  args = parser.parse_args()
  with tempfile.TemporaryDirectory() as tmp:
    figures, goals, _ = run(args.src, args.config, args.workdir or os.path.join(tmp, 'run'), args.steps)
  table.report(figures, f'{args.config} on {args.src}', goals, args.json)


if __name__ == '__main__':
  main()
