"""Labelled audio files -> prepared dataset: any folder-per-class tree, and the shared
decode-and-write pass of every corpus made of audio files (GTZAN, VCTK, LibriSpeech, ESC-50).

A corpus module walks its own layout into a list of `File`s (source-relative path, label,
split or None, corpus-specific extra features) plus the files it refuses with a reason;
`build_files` does the rest. The folder builder's own rule: the label is the file's parent
folder (`genres/blues/blues.00000.au` -> blues) or the first group of a regex on its name
(`p225_001_mic1.flac` with `^(p\\d+)_` -> p225).

Two passes. The first decodes every file once (mono, resampled) into int16 .npy scratch
files in the build's temp dir and drops the ones that cannot be used, each with a
reason; only then are the class names and splits known, so a class whose files are all
bad never appears. The second is TFDS writing the scratch files. Bad files are reported,
never fatal; any other error aborts the build and leaves nothing behind (building.build).
"""
import collections
import hashlib
import math
import os
import re
import types

import numpy as np

from wavenet_jax.datasets import building
from wavenet_jax.input import audio

AUDIO_EXTENSIONS = ('.wav', '.au', '.flac', '.mp3', '.ogg')
LABEL_FROM = ('folder', 'pattern')

# Frame RMS at or below this everywhere (-80 dBFS, above 16-bit dither) is "all silence".
SILENCE_THRESHOLD = 1e-4

# relpath: '/'-separated, under src. split: a split name, or None for "train or validation,
# drawn by split_of once the usable files are known". extras: the corpus's extra features.
File = collections.namedtuple('File', 'relpath label split extras',
                              defaults=(None, types.MappingProxyType({})))


def check_src(src):
  """src as a str, or a DataError naming it when it is not a directory."""
  src = os.fspath(src)
  if not os.path.isdir(src):
    raise building.DataError(f'{src}: no such directory' if not os.path.exists(src)
                             else f'{src}: not a directory')
  return src


def check_options(sample_rate, validation_fraction=None):
  """DataError for a bad sample rate or (when given) validation fraction."""
  if validation_fraction is not None and not 0 < validation_fraction < 1:
    raise building.DataError(f'validation_fraction={validation_fraction}: must be in (0, 1)')
  if sample_rate <= 0:
    raise building.DataError(f'sample_rate={sample_rate}: must be positive')


def walk(root):
  """Every file under root as a '/'-separated relpath, sorted; hidden entries ignored."""
  relpaths = []
  for dirpath, dirs, names in os.walk(root):
    dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
    for name in sorted(n for n in names if not n.startswith('.')):
      relpaths.append(os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, '/'))
  return relpaths


def found_in(path, limit=8):
  """What a directory holds, for a layout error: 'folders a, b; files c' or 'nothing'."""
  names = sorted(n for n in os.listdir(path) if not n.startswith('.'))
  folders = [n for n in names if os.path.isdir(os.path.join(path, n))]
  files = [n for n in names if n not in folders]
  parts = [f'{kind} ' + ', '.join(items[:limit]) + (', ...' if len(items) > limit else '')
           for kind, items in (('folders', folders), ('files', files)) if items]
  return '; '.join(parts) or 'nothing'


def is_audio(relpath, extensions=AUDIO_EXTENSIONS):
  return relpath.lower().endswith(tuple(e.lower() for e in extensions))


def scan(src, label_from='folder', pattern=None, extensions=AUDIO_EXTENSIONS):
  """Walks src (sorted, hidden entries ignored) -> ([File], [(relpath, reason)])."""
  regex = re.compile(pattern) if label_from == 'pattern' else None
  files, skipped = [], []
  for relpath in walk(src):
    parent, name = os.path.split(relpath)
    if not is_audio(relpath, extensions):
      skipped.append((relpath, 'not an audio file'))
    elif regex is not None:
      match = regex.search(name)
      if match:
        files.append(File(relpath, match.group(1)))
      else:
        skipped.append((relpath, f'name does not match pattern {pattern}'))
    elif parent:
      files.append(File(relpath, os.path.basename(parent)))
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


def silence_reason(x, silence_threshold):
  """Why float audio [T] is unusable as all silence, or None when some frame is louder."""
  loudest = float(audio.frame_rms(x).max())
  if loudest <= silence_threshold:
    return f'all silence (loudest frame RMS {loudest:.1e} <= {silence_threshold:g})'
  return None


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
    reason = silence_reason(x, silence_threshold)
    if reason:
      skipped.append((f.relpath, reason))
      continue
    npy = os.path.join(scratch, f'{i:06d}.npy')
    np.save(npy, audio.to_int16(x))
    usable.append((f, npy))
  return usable, skipped


class AudioFolder(building.AudioBuilder, skip_registration=True):
  """Writes the decoded scratch files; the splits were fixed before TFDS started."""
  DESCRIPTION = 'Labelled audio files from a local folder, prepared by wavenet_jax/datasets/folder.py.'

  def __init__(self, *, examples, description=None, **kwargs):
    self._examples = examples  # [(File, npy path, split)]
    if description:
      self.DESCRIPTION = description
    kwargs.setdefault('class_names', sorted({f.label for f, _, _ in examples}))
    super().__init__(**kwargs)

  def _generate_examples(self, split):
    for f, npy, s in self._examples:
      if s == split:
        yield f.relpath, {'audio': np.load(npy), 'label': f.label, 'filename': f.relpath,
                          **f.extras}


def summary(skipped, limit=3):
  shown = '; '.join(f'{p}: {r}' for p, r in skipped[:limit])
  return shown + ('; ...' if len(skipped) > limit else '')


def build_files(src, out, files, skipped, *, sample_rate, class_names=None,
                splits=building.SPLITS, extra_features=None, validation_fraction=0.1,
                silence_threshold=SILENCE_THRESHOLD, description=None, overwrite=False):
  """Decodes `files` (under src), drops and reports the bad ones, writes the rest to `out`.

  skipped: [(relpath, reason)] the layout walk already refused. class_names: the label
  names (default: the labels of the usable files). splits: the order of the splits; a
  File whose split is None goes to train or validation by split_of. Splits left with no
  usable file are not written, except validation drawn by split_of: readers expect it,
  so a build where it stays empty is a DataError. Returns `out`.
  """
  if not files:
    raise building.DataError(f'no usable audio files under {src} '
                             f'({len(skipped)} skipped: {summary(skipped)})')

  def make_builder(tmp):
    usable, bad = decode_all(src, files, sample_rate, silence_threshold,
                             os.path.join(tmp, 'decoded'))
    all_skipped = sorted(skipped + bad)
    if not usable:
      raise building.DataError(f'no usable audio files under {src} '
                               f'({len(all_skipped)} skipped: {summary(all_skipped)})')
    drawn = split_of([f for f, _ in usable if f.split is None], validation_fraction)
    if drawn and 'validation' not in drawn.values():
      # TFDS cannot write an empty split, and readers expect both splits.
      raise building.DataError(f'{src}: every class has a single usable file, so none is left '
                               f'for validation')
    examples = [(f, npy, f.split or drawn[f.relpath]) for f, npy in usable]
    written = [s for s in splits if any(s == split for _, _, split in examples)]
    unknown = {split for _, _, split in examples} - set(written)
    if unknown:
      raise ValueError(f'files assigned to splits {sorted(unknown)}, not in {splits}')
    names = class_names if class_names is not None else sorted({f.label for f, _ in usable})
    return AudioFolder(examples=examples, class_names=names, splits=written,
                       extra_features=extra_features, description=description,
                       sample_rate=sample_rate, skipped=all_skipped, data_dir=tmp)

  return building.build(out, make_builder, overwrite=overwrite)


def build_folder(src, out, sample_rate=16000, label_from='folder', pattern=None,
                 validation_fraction=0.1, extensions=AUDIO_EXTENSIONS,
                 silence_threshold=SILENCE_THRESHOLD, overwrite=False):
  """Prepares the labelled audio files under `src` as a dataset at `out`; returns `out`."""
  src = check_src(src)
  if label_from not in LABEL_FROM:
    raise building.DataError(f'label_from={label_from!r}: must be one of {LABEL_FROM}')
  if label_from == 'pattern':
    try:
      groups = re.compile(pattern or '').groups
    except re.error as e:
      raise building.DataError(f'pattern={pattern!r}: not a regular expression ({e})') from None
    if groups < 1:
      raise building.DataError(f'pattern={pattern!r}: needs a group for the label, e.g. ^(p\\d+)_')
  check_options(sample_rate, validation_fraction)
  files, skipped = scan(src, label_from, pattern, extensions)
  return build_files(src, out, files, skipped, sample_rate=sample_rate,
                     validation_fraction=validation_fraction,
                     silence_threshold=silence_threshold, overwrite=overwrite)
