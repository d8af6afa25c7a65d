"""LJSpeech and any corpus in its layout, as downloaded -> prepared dataset of one speaker.

Layout: `LJSpeech-1.1/metadata.csv` (one `ID|transcript|normalized transcript` line per
utterance, UTF-8, no header, quotes literal) and `LJSpeech-1.1/wavs/<ID>.wav`. src is that
folder or the folder holding it. Many single-speaker TTS corpora are shipped in this
layout; a two-field line (`ID|transcript`) takes the transcript as its normalized form.

Every utterance is one class, `speaker` ('LJ'), as TFDS's `ljspeech` is mapped
(datasets/catalog_mapping.py), so the two give the same dataset. Validation is drawn by
folder.split_of (validation_fraction), keyed by `filename`, which is `wavs/<ID>.wav`.
Extra features: text and text_normalized (Text). A wav not listed in metadata.csv, a
listed utterance without its wav, and any other file in wavs/ are skipped and reported;
a line of metadata.csv that is not `ID|text[|normalized]` is an error naming its line.
"""
import os

import tensorflow_datasets as tfds

from wavenet_jax.datasets import building
from wavenet_jax.datasets import folder

ROOT = 'LJSpeech-1.1'
METADATA = 'metadata.csv'
WAVS = 'wavs'
EXPECTED = f'{ROOT}/{METADATA} and {ROOT}/{WAVS}/<ID>.wav'
EXTRA_FEATURES = {'text': tfds.features.Text(), 'text_normalized': tfds.features.Text()}


def find_root(src):
  """The folder holding metadata.csv and wavs/: src/LJSpeech-1.1 or src."""
  for root in (os.path.join(src, ROOT), src):
    if os.path.isfile(os.path.join(root, METADATA)) and os.path.isdir(os.path.join(root, WAVS)):
      return root
  raise building.DataError(f'ljspeech: expected {EXPECTED} under {src}; found {folder.found_in(src)}')


def read_metadata(path):
  """{ID: (text, normalized text)} from metadata.csv; DataError naming a malformed line."""
  rows = {}
  with open(path, encoding='utf-8') as f:
    for number, line in enumerate(f, start=1):
      line = line.rstrip('\r\n')
      if not line.strip():
        continue
      fields = line.split('|')
      if len(fields) not in (2, 3) or not fields[0].strip():
        raise building.DataError(f'{path}:{number}: expected ID|transcript|normalized transcript, '
                                 f'got {line[:80]!r}')
      key = fields[0].strip()
      if key in rows:
        raise building.DataError(f'{path}:{number}: utterance {key} is listed twice')
      rows[key] = (fields[1], fields[-1])
  return rows


def scan(root, metadata, speaker):
  """Listed utterances under root/wavs -> ([folder.File], [(relpath, reason)])."""
  files, skipped = [], []
  present = set()
  for name in folder.walk(os.path.join(root, WAVS)):
    relpath = f'{WAVS}/{name}'
    key, ext = os.path.splitext(name)
    if '/' in name or ext.lower() != '.wav':
      skipped.append((relpath, 'not an <ID>.wav file directly in wavs/'))
    elif key not in metadata:
      skipped.append((relpath, f'not listed in {METADATA}'))
    else:
      present.add(key)
      text, normalized = metadata[key]
      files.append(folder.File(relpath, speaker,
                               extras={'text': text, 'text_normalized': normalized}))
  skipped += [(f'{WAVS}/{key}.wav', f'listed in {METADATA} but missing')
              for key in sorted(set(metadata) - present)]
  return files, skipped


def build_ljspeech(src, out, sample_rate=16000, speaker='LJ', validation_fraction=0.1,
                   silence_threshold=folder.SILENCE_THRESHOLD, overwrite=False):
  """Prepares the LJSpeech-layout tree at `src` as a dataset at `out`; returns `out`."""
  src = folder.check_src(src)
  folder.check_options(sample_rate, validation_fraction)
  if not speaker:
    raise building.DataError('ljspeech: speaker must name the one class')
  root = find_root(src)
  files, skipped = scan(root, read_metadata(os.path.join(root, METADATA)), speaker)
  return folder.build_files(
      root, out, files, skipped, sample_rate=sample_rate, extra_features=EXTRA_FEATURES,
      validation_fraction=validation_fraction, silence_threshold=silence_threshold,
      description='LJSpeech (or a corpus in its layout), prepared by wavenet_jax/datasets/ljspeech.py.',
      overwrite=overwrite)
