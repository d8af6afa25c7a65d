"""LibriSpeech, as downloaded -> prepared dataset labelled by speaker (speaker identification).

Layout: `LibriSpeech/<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac`, one
`<speaker>-<chapter>.trans.txt` transcript per chapter, SPEAKERS.TXT at the root. src is
the LibriSpeech folder, the folder holding it, or one subset folder. `subsets` picks
subset folders ('train-clean-100,dev-clean' or a list); by default all found are used.

The label is the speaker id as written ('103'). LibriSpeech's own subsets have disjoint
speakers, so they cannot serve as the splits of speaker identification: every speaker's
files are split train/validation by folder.split_of instead. Extra features: speaker_id
and chapter_id (int64), subset (Text), gender (Text, 'F'/'M' from SPEAKERS.TXT, '' when
unknown). Transcripts are expected and silently ignored; any other stray file is skipped
and reported. `filename` is relative to the LibriSpeech folder (`dev-clean/84/121123/
84-121123-0000.flac`).
"""
import os
import re

import numpy as np
import tensorflow_datasets as tfds

from wavenet_jax.datasets import building
from wavenet_jax.datasets import folder

ROOT = 'LibriSpeech'
SPEAKERS_FILE = 'SPEAKERS.TXT'
UTTERANCE = re.compile(r'(\d+)/(\d+)/\1-\2-\d+\.flac')  # relative to a subset
EXPECTED = 'LibriSpeech/<subset>/<speaker>/<chapter>/<speaker>-<chapter>-NNNN.flac'
EXTRA_FEATURES = {
    'speaker_id': tfds.features.Scalar(np.int64),
    'chapter_id': tfds.features.Scalar(np.int64),
    'subset': tfds.features.Text(),
    'gender': tfds.features.Text(),
}


def _is_subset(path):
  """A subset folder has a name (speakers and chapters have numbers) and holds speakers."""
  return (os.path.isdir(path) and not os.path.basename(os.path.abspath(path)).isdigit()
          and any(n.isdigit() and os.path.isdir(os.path.join(path, n)) for n in os.listdir(path)))


def find_subsets(src):
  """(LibriSpeech root, {subset name: its folder}) for the tree at src."""
  root = os.path.join(src, ROOT) if os.path.isdir(os.path.join(src, ROOT)) else src
  subsets = {n: os.path.join(root, n) for n in sorted(os.listdir(root))
             if not n.startswith('.') and _is_subset(os.path.join(root, n))}
  if not subsets and _is_subset(src):  # src is one subset folder
    root = os.path.dirname(os.path.abspath(src))
    subsets = {os.path.basename(os.path.abspath(src)): os.path.abspath(src)}
  if not subsets:
    raise building.DataError(f'librispeech: expected {EXPECTED} under {src}; found '
                             f'{folder.found_in(root)}' + (f' in {root}' if root != src else ''))
  return root, subsets


def choose(subsets, wanted):
  """The subsets named by `wanted` ('a,b', a list, or None for all) -> {name: folder}."""
  if not wanted:
    return subsets
  names = [n.strip() for n in wanted.split(',')] if isinstance(wanted, str) else list(wanted)
  missing = [n for n in names if n not in subsets]
  if missing:
    raise building.DataError(f'librispeech: subsets {", ".join(missing)} not found; found '
                             f'{", ".join(subsets)}')
  return {n: subsets[n] for n in names}


def read_genders(path):
  """{speaker id: 'F'|'M'} from SPEAKERS.TXT (`;ID |SEX| SUBSET |MINUTES| NAME`)."""
  if not os.path.isfile(path):
    return {}
  genders = {}
  with open(path, encoding='utf-8', errors='replace') as f:
    for line in f:
      if line.startswith(';'):
        continue
      fields = [x.strip() for x in line.split('|', 4)]  # names may hold '|'
      if len(fields) >= 2 and fields[0].isdigit():
        genders[fields[0]] = fields[1]
  return genders


def scan(root, subsets, genders):
  """Utterances of `subsets` -> ([folder.File] with root-relative paths, [(relpath, reason)])."""
  files, skipped = [], []
  for subset, path in subsets.items():
    prefix = os.path.relpath(path, root).replace(os.sep, '/')
    for relpath in folder.walk(path):
      full = f'{prefix}/{relpath}'
      if relpath.endswith('.trans.txt'):
        continue  # a chapter's transcript: expected, and not audio
      match = UTTERANCE.fullmatch(relpath)
      if not match:
        reason = ('not an audio file' if not folder.is_audio(relpath)
                  else 'not <speaker>/<chapter>/<speaker>-<chapter>-NNNN.flac')
        skipped.append((full, reason))
        continue
      speaker, chapter = match.groups()
      files.append(folder.File(full, speaker, extras={
          'speaker_id': int(speaker), 'chapter_id': int(chapter), 'subset': subset,
          'gender': genders.get(speaker, '')}))
  return files, skipped


def build_librispeech(src, out, sample_rate=16000, subsets=None, validation_fraction=0.1,
                      silence_threshold=folder.SILENCE_THRESHOLD, overwrite=False):
  """Prepares the LibriSpeech tree at `src` as a dataset at `out`; returns `out`."""
  src = folder.check_src(src)
  folder.check_options(sample_rate, validation_fraction)
  root, found = find_subsets(src)
  files, skipped = scan(root, choose(found, subsets), read_genders(
      os.path.join(root, SPEAKERS_FILE)))
  return folder.build_files(
      root, out, files, skipped, sample_rate=sample_rate, extra_features=EXTRA_FEATURES,
      validation_fraction=validation_fraction, silence_threshold=silence_threshold,
      description='LibriSpeech, prepared by wavenet_jax/datasets/librispeech.py.', overwrite=overwrite)
