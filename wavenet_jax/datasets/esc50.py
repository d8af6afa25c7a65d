"""ESC-50 environmental sounds, as downloaded -> prepared dataset with one split per fold.

Layout (the ESC-50 repository, e.g. ESC-50-master/): `audio/<fold>-<clip>-<take>-<target>.wav`
(44.1 kHz mono, 5 s) and `meta/esc50.csv` with columns filename, fold, target, category,
esc10, src_file, take. src is that folder or one holding it. The csv is the truth: the
label is `category` (50 classes; the 10 of ESC-10 with esc10=True, which keeps only its
rows), and the class names are the categories of the rows kept, so label ids do not
depend on which clips decode.

ESC-50 is evaluated by 5-fold cross-validation, so the folds are the splits: `fold1` ..
`fold5` (those present), and a config picks e.g. train_split='fold1+fold2+fold3+fold4',
eval_split='fold5' (TFDS split arithmetic). Extra features: fold and target (int64, the
csv's own class number). Clips listed but missing and wavs not listed are skipped and
reported. `filename` is relative to that folder (`audio/1-100032-A-0.wav`).
"""
import csv
import os

import numpy as np
import tensorflow_datasets as tfds

from wavenet_jax.datasets import building
from wavenet_jax.datasets import folder

CSV = 'meta/esc50.csv'
AUDIO = 'audio'
COLUMNS = ('filename', 'fold', 'target', 'category', 'esc10', 'src_file', 'take')
EXPECTED = f'{AUDIO}/<fold>-<clip>-<take>-<target>.wav and {CSV}'
EXTRA_FEATURES = {
    'fold': tfds.features.Scalar(np.int64),
    'target': tfds.features.Scalar(np.int64),
}


def find_root(src):
  """The folder holding meta/esc50.csv: src or one of its folders (ESC-50-master/)."""
  candidates = [src] + [os.path.join(src, n) for n in sorted(os.listdir(src))
                        if not n.startswith('.') and os.path.isdir(os.path.join(src, n))]
  for candidate in candidates:
    if os.path.isfile(os.path.join(candidate, *CSV.split('/'))):
      return candidate
  raise building.DataError(f'esc50: expected {EXPECTED} under {src}; found {folder.found_in(src)}')


def read_rows(root):
  """The csv's rows as dicts with int fold and target; a malformed csv is a DataError."""
  path = os.path.join(root, *CSV.split('/'))
  with open(path, newline='', encoding='utf-8') as f:
    reader = csv.DictReader(f)
    missing = [c for c in COLUMNS[:5] if c not in (reader.fieldnames or ())]
    if missing:
      raise building.DataError(f'{path}: no column {", ".join(missing)} (has '
                             f'{", ".join(reader.fieldnames or ())}; expected {",".join(COLUMNS)})')
    rows = []
    for line, row in enumerate(reader, start=2):
      try:
        rows.append({**row, 'fold': int(row['fold']), 'target': int(row['target'])})
      except (TypeError, ValueError):
        raise building.DataError(f'{path}, line {line}: fold {row["fold"]!r} and target '
                                 f'{row["target"]!r} must be integers') from None
  return rows


def scan(root, rows, esc10):
  """Clips of the kept rows -> ([folder.File], class names, [(relpath, reason)])."""
  listed = {f'{AUDIO}/{row["filename"]}' for row in rows}
  kept = [row for row in rows if not esc10 or row['esc10'].strip().lower() == 'true']
  present = {f'{AUDIO}/{p}' for p in folder.walk(os.path.join(root, AUDIO))}
  files, skipped = [], []
  for row in kept:
    relpath = f'{AUDIO}/{row["filename"]}'
    if relpath not in present:
      skipped.append((relpath, f'listed in {CSV} but missing'))
    else:
      files.append(folder.File(relpath, row['category'], split=f'fold{row["fold"]}',
                               extras={'fold': row['fold'], 'target': row['target']}))
  for relpath in sorted(present - listed):
    skipped.append((relpath, 'not an audio file' if not folder.is_audio(relpath)
                    else f'not listed in {CSV}'))
  return files, sorted({row['category'] for row in kept}), skipped


def build_esc50(src, out, sample_rate=16000, esc10=False,
                silence_threshold=folder.SILENCE_THRESHOLD, overwrite=False):
  """Prepares the ESC-50 tree at `src` as a dataset at `out`; returns `out`."""
  src = folder.check_src(src)
  folder.check_options(sample_rate)
  root = find_root(src)
  rows = read_rows(root)
  files, class_names, skipped = scan(root, rows, bool(esc10))
  splits = [f'fold{n}' for n in sorted({row['fold'] for row in rows})]
  return folder.build_files(
      root, out, files, skipped, sample_rate=sample_rate, class_names=class_names,
      splits=splits, extra_features=EXTRA_FEATURES, silence_threshold=silence_threshold,
      description='ESC-50 environmental sound classification, prepared by wavenet_jax/datasets/esc50.py.',
      overwrite=overwrite)
