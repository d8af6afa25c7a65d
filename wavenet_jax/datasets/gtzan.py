"""GTZAN genre collection, as downloaded -> prepared dataset labelled by genre.

Two releases share one layout: the original archive's `genres/<genre>/<genre>.000NN.au`
(22,050 Hz mono) and Kaggle's `Data/genres_original/<genre>/<genre>.000NN.wav`. src may
be the genres folder itself or a folder holding it. Any subset of the ten genres is
fine; the label is the genre folder, and files are split train/validation by
folder.split_of (deterministic, per genre). `filename` is relative to the genres folder
(`blues/blues.00000.au`) whichever of the two src was given, so both give the same
dataset and the same splits.

What is not a clip (`<genre>.NNNNN.au|wav` inside its genre's folder) is skipped and
reported, as are clips that do not decode (Kaggle's jazz.00054.wav) or are all silence.
"""
import os
import re

from wavenet_jax.datasets import building
from wavenet_jax.datasets import folder

GENRES = ('blues', 'classical', 'country', 'disco', 'hiphop', 'jazz', 'metal', 'pop',
          'reggae', 'rock')
GENRE_FOLDERS = ('genres', 'genres_original')  # original archive, Kaggle
EXPECTED = 'genres/<genre>/<genre>.NNNNN.au (or .wav)'


def find_root(src):
  """The folder whose children are genre folders: src/genres, src/genres_original or src."""
  candidates = [os.path.join(src, name) for name in GENRE_FOLDERS] + [src]
  candidates = [c for c in candidates if os.path.isdir(c)]
  for candidate in candidates:
    if any(os.path.isdir(os.path.join(candidate, g)) for g in GENRES):
      return candidate
  raise building.DataError(f'gtzan: expected {EXPECTED} under {src}; found '
                           f'{folder.found_in(candidates[0])}'
                           + (f' in {candidates[0]}' if candidates[0] != src else ''))


def scan(root):
  """Clips under root, labelled by genre -> ([folder.File], [(relpath, reason)])."""
  files, skipped = [], []
  for relpath in folder.walk(root):
    parts = relpath.split('/')
    if len(parts) == 1:
      skipped.append((relpath, 'not inside a genre folder'))
    elif parts[0] not in GENRES:
      skipped.append((relpath, f'{parts[0]} is not a GTZAN genre ({", ".join(GENRES)})'))
    elif len(parts) > 2:
      skipped.append((relpath, 'in a folder below its genre folder'))
    elif not folder.is_audio(relpath):
      skipped.append((relpath, 'not an audio file'))
    elif not re.fullmatch(re.escape(parts[0]) + r'\.\d{5}\.(au|wav)', parts[1], re.IGNORECASE):
      skipped.append((relpath, f'name is not {parts[0]}.NNNNN.au or .wav'))
    else:
      files.append(folder.File(relpath, parts[0]))
  return files, skipped


def build_gtzan(src, out, sample_rate=16000, validation_fraction=0.1,
                silence_threshold=folder.SILENCE_THRESHOLD, overwrite=False):
  """Prepares the GTZAN tree at `src` as a dataset at `out`; returns `out`."""
  src = folder.check_src(src)
  folder.check_options(sample_rate, validation_fraction)
  root = find_root(src)
  files, skipped = scan(root)
  return folder.build_files(
      root, out, files, skipped, sample_rate=sample_rate,
      validation_fraction=validation_fraction, silence_threshold=silence_threshold,
      description='GTZAN genre collection, prepared by wavenet_jax/datasets/gtzan.py.', overwrite=overwrite)
