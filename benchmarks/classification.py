"""A classifier recipe on a corpus tree: the model against the MFCC baseline, per crop and per clip.

    python -m benchmarks.classification --src TREE [--config configs/speaker_id.py:cpu]
        [--workdir DIR] [--steps N] [--set KEY=VALUE ...] [--json PATH]

TREE is a folder of class folders (wavenet_jax/datasets/folder.py: the label is the parent folder) or a
prepared dataset. The config (a file and its variants, as launch.py takes them) is trained
on it (from scratch unless `--set train.init_from=...`) in WORKDIR (default: a temporary folder), then its final evaluation is
read: accuracy over crops and over whole clips, beside the baseline's (MFCC statistics +
logistic regression on the same split, evaluation/baseline.py), and the minutes it all took.
`--set` overrides config fields as launch.py's --config.KEY=VALUE does, e.g. a pretrained
start: `--set train.init_from=runs/ae --set train.encoder_training=frozen`.
Goal: the model's clip accuracy at least the baseline's. Measured: docs/classification.md.
"""
import argparse
import ast
import importlib
import os
import sys
import tempfile
import time

if __name__ == '__main__':  # `python benchmarks/X.py` puts benchmarks/ on sys.path; the imports below need the checkout
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import table
from wavenet_jax.apps import train
from wavenet_jax.runtime import xla_cpu


def load_config(spec):
  """'configs/speaker_id.py:tiny' -> that module's get_config('tiny')."""
  path, _, variant = spec.partition(':')
  module = importlib.import_module(os.path.splitext(path)[0].replace('/', '.'))
  return module.get_config(variant or None)


def parse_value(text):
  """'3' -> 3, '(1, 2)' -> (1, 2), 'runs/ae' -> 'runs/ae': a Python literal, else the string."""
  try:
    return ast.literal_eval(text)
  except (ValueError, SyntaxError):
    return text


def run(src, spec, workdir, steps, overrides=()):
  c = load_config(spec)
  c.lock()  # as launch.py: a misspelt --set key fails instead of adding a field
  for item in overrides:
    key, sep, value = item.partition('=')
    if not sep:
      raise SystemExit(f'--set {item!r}: expected KEY=VALUE')
    c.update_from_flattened_dict({key: parse_value(value)})
  c.data.corpus, c.data.source = 'folder', os.path.abspath(src)
  c.data.train_split, c.data.eval_split = 'train', 'validation'  # a tree's splits (not ESC-50's folds)
  if steps:
    c.train.num_train_steps = steps
  c.train.eval_every_steps = 0
  start = time.perf_counter()
  final = train.train_and_evaluate(c, workdir)
  if 'stopped_at' in final:
    raise SystemExit(f'training stopped at step {final["stopped_at"]}: no final evaluation to report')
  minutes = (time.perf_counter() - start) / 60
  figures = {'classes': len(final['per_class_accuracy']), 'eval_clips': final['clips'],
             'eval_crops': final['examples'], 'steps': c.train.num_train_steps}
  for key in ('accuracy', 'clip_accuracy', 'baseline_accuracy', 'baseline_clip_accuracy'):
    figures[key] = round(final[key], 4)
  figures['minutes'] = round(minutes, 1)
  goals = {'clip_accuracy': f'>= baseline_clip_accuracy ({figures["baseline_clip_accuracy"]})'}
  return figures, goals, c


def main():
  xla_cpu.configure()  # first, before jax starts: the CPU settings launch.py trains with.
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--src', required=True, help='a folder of class folders, or a prepared dataset')
  parser.add_argument('--config', default='configs/speaker_id.py:cpu')
  parser.add_argument('--workdir', help='where the run goes (default: a temporary folder)')
  parser.add_argument('--steps', type=int, help='train.num_train_steps (default: the config\'s)')
  parser.add_argument('--set', action='append', default=[], metavar='KEY=VALUE',
                      help='a config field, as --config.KEY=VALUE (repeatable)')
  parser.add_argument('--json')
  args = parser.parse_args()
  with tempfile.TemporaryDirectory() as tmp:
    figures, goals, _ = run(args.src, args.config, args.workdir or os.path.join(tmp, 'run'), args.steps,
                             args.set)
  table.report(figures, f'{args.config} on {args.src}', goals, args.json)


if __name__ == '__main__':
  main()
