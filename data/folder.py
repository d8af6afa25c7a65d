"""Any tree of labelled audio files -> prepared dataset (GTZAN, VCTK, folder-per-class).

The label is the file's parent folder (`genres/blues/blues.00000.au` -> blues) or the
first group of a regex on its name (`p225_001_mic1.flac` with `^(p\\d+)_` -> p225).

Two passes. The first decodes every file once (mono, resampled) into int16 .npy scratch
files in the build's temp dir and drops the ones that cannot be used, each with a
reason; only then are the class names and splits known, so a class whose files are all
bad never appears. The second is TFDS writing the scratch files. Bad files are reported,
never fatal; any other error aborts the build and leaves nothing behind (common.build).
"""
import collections
import hashlib
import math
import os
import re

import numpy as np

from data import common
from wavenet_jax import audio

AUDIO_EXTENSIONS = ('.wav', '.au', '.flac', '.mp3', '.ogg')
LABEL_FROM = ('folder', 'pattern')

# Frame RMS at or below this everywhere (-80 dBFS, above 16-bit dither) is "all silence".
SILENCE_THRESHOLD = 1e-4

File = collections.namedtuple('File', 'relpath label')  # relpath: '/'-separated, under src


def scan(src, label_from='folder', pattern=None, extensions=AUDIO_EXTENSIONS):
  """Walks src (sorted, hidden entries ignored) -> ([File], [(relpath, reason)])."""
  regex = re.compile(pattern) if label_from == 'pattern' else None
  extensions = tuple(e.lower() for e in extensions)
  files, skipped = [], []
  for root, dirs, names in os.walk(src):
    dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
    for name in sorted(n for n in names if not n.startswith('.')):
      path = os.path.join(root, name)
      relpath = os.path.relpath(path, src).replace(os.sep, '/')
      if not name.lower().endswith(extensions):
        skipped.append((relpath, 'not an audio file'))
      elif regex is not None:
        match = regex.search(name)
        if match:
          files.append(File(relpath, match.group(1)))
        else:
          skipped.append((relpath, f'name does not match pattern {pattern}'))
      elif os.path.dirname(relpath):
        files.append(File(relpath, os.path.basename(root)))
      else:
        skipped.append((relpath, 'not inside a class folder'))
  return files, skipped


def split_of(files, validation_fraction):
  """{relpath: split}. Per class, files ordered by sha1 of relpath; the first go to validation.

  Hashing the path (not the listing order) keeps a file in its split when others are
  added or removed. A class of >= 2 files gets >= 1 validation file and keeps >= 1
  training file; a class of one file trains on it. 0 < validation_fraction < 1.
  """
  by_class = collections.defaultdict(list)
  for f in files:
    by_class[f.label].append(f.relpath)
  splits = {}
  for relpaths in by_class.values():
    relpaths.sort(key=lambda p: hashlib.sha1(p.encode()).hexdigest())
    n = len(relpaths)
    n_val = math.floor(validation_fraction * n + 0.5)  # round half up, unlike round()
    n_val = min(max(n_val, 1), n - 1)  # 0 when n == 1
    for i, relpath in enumerate(relpaths):
      splits[relpath] = 'validation' if i < n_val else 'train'
  return splits


def decode_all(src, files, sample_rate, silence_threshold, scratch):
  """Decodes each file once into scratch/NNNNNN.npy -> ([(File, npy)], [(relpath, reason)])."""
  os.makedirs(scratch, exist_ok=True)
  usable, skipped = [], []
  report_every = max(100, len(files) // 10)
  for i, f in enumerate(files):
    if i and i % report_every == 0:
      print(f'decoded {i}/{len(files)} files')
    path = os.path.join(src, *f.relpath.split('/'))
    try:
      x = audio.load(path, sample_rate)  # [T] float32
    except audio.AudioError as e:
      # The message leads with the absolute path; the report already names the file.
      skipped.append((f.relpath, str(e).removeprefix(f'{path}: ')))
      continue
    loudest = float(audio.frame_rms(x).max())
    if loudest <= silence_threshold:
      skipped.append((f.relpath, f'all silence (loudest frame RMS {loudest:.1e} '
                                 f'<= {silence_threshold:g})'))
      continue
    npy = os.path.join(scratch, f'{i:06d}.npy')
    np.save(npy, audio.to_int16(x))
    usable.append((f, npy))
  return usable, skipped


class AudioFolder(common.AudioBuilder, skip_registration=True):
  """Writes the decoded scratch files; the splits were fixed before TFDS started."""
  DESCRIPTION = 'Labelled audio files from a local folder, prepared by data/folder.py.'

  def __init__(self, *, examples, **kwargs):
    self._examples = examples  # [(File, npy path, split)]
    super().__init__(class_names=sorted({f.label for f, _, _ in examples}), **kwargs)

  def _generate_examples(self, split):
    for f, npy, s in self._examples:
      if s == split:
        yield f.relpath, {'audio': np.load(npy), 'label': f.label, 'filename': f.relpath}


def _summary(skipped, limit=3):
  shown = '; '.join(f'{p}: {r}' for p, r in skipped[:limit])
  return shown + ('; ...' if len(skipped) > limit else '')


def build_folder(src, out, sample_rate=16000, label_from='folder', pattern=None,
                 validation_fraction=0.1, extensions=AUDIO_EXTENSIONS,
                 silence_threshold=SILENCE_THRESHOLD, overwrite=False):
  """Prepares the labelled audio files under `src` as a dataset at `out`; returns `out`."""
  src = os.fspath(src)
  if not os.path.isdir(src):
    raise common.DataError(f'{src}: no such directory' if not os.path.exists(src)
                           else f'{src}: not a directory')
  if label_from not in LABEL_FROM:
    raise common.DataError(f'label_from={label_from!r}: must be one of {LABEL_FROM}')
  if label_from == 'pattern':
    try:
      groups = re.compile(pattern or '').groups
    except re.error as e:
      raise common.DataError(f'pattern={pattern!r}: not a regular expression ({e})') from None
    if groups < 1:
      raise common.DataError(f'pattern={pattern!r}: needs a group for the label, e.g. ^(p\\d+)_')
  if not 0 < validation_fraction < 1:
    raise common.DataError(f'validation_fraction={validation_fraction}: must be in (0, 1)')
  if sample_rate <= 0:
    raise common.DataError(f'sample_rate={sample_rate}: must be positive')

  files, skipped = scan(src, label_from, pattern, extensions)
  if not files:
    raise common.DataError(f'no usable audio files under {src} '
                           f'({len(skipped)} skipped: {_summary(skipped)})')

  def make_builder(tmp):
    usable, bad = decode_all(src, files, sample_rate, silence_threshold,
                             os.path.join(tmp, 'decoded'))
    all_skipped = sorted(skipped + bad)
    if not usable:
      raise common.DataError(f'no usable audio files under {src} '
                             f'({len(all_skipped)} skipped: {_summary(all_skipped)})')
    splits = split_of([f for f, _ in usable], validation_fraction)
    if 'validation' not in splits.values():
      # TFDS cannot write an empty split, and readers expect both splits.
      raise common.DataError(f'{src}: every class has a single usable file, so none is left '
                             f'for validation')
    examples = [(f, npy, splits[f.relpath]) for f, npy in usable]
    return AudioFolder(examples=examples, sample_rate=sample_rate, skipped=all_skipped,
                       data_dir=tmp)

  return common.build(out, make_builder, overwrite=overwrite)
