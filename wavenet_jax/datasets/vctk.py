"""CSTR VCTK Corpus, as downloaded -> prepared dataset labelled by speaker.

Both releases:
  0.80 (VCTK-Corpus/):    wav48/p225/p225_001.wav                       one microphone
  0.92 (VCTK-Corpus-0.92/): wav48_silence_trimmed/p225/p225_001_mic1.flac  mic1 and mic2
src is the corpus root (holding wav48_silence_trimmed/ or wav48/, the first found, and
speaker-info.txt) or the wav folder itself (speaker-info.txt is then looked for next to
it). The label is the speaker folder's name: pNNN, and 0.92's s5. Files are split
train/validation per speaker by folder.split_of, so every speaker is in both.
`filename` is relative to the wav folder (`p225/p225_001.wav`) whichever src was given.

0.92 recorded each utterance with two microphones. `mic` picks one (1 by default); the
other's files are the same utterances, not bad files, so they are left out silently
(neither examples nor in the report's skipped list). 0.80 files have no mic suffix and
are always used.

speaker-info.txt (`ID AGE GENDER ACCENTS REGION [COMMENTS]`, whitespace separated;
0.80 writes IDs as 225, 0.92 as p225) gives the extra features gender and accent (Text,
'' when unknown) and age (int64, -1 when unknown).
"""
import os
import re

import numpy as np
import tensorflow_datasets as tfds

from wavenet_jax.datasets import building
from wavenet_jax.datasets import folder

WAV_FOLDERS = ('wav48_silence_trimmed', 'wav48')  # 0.92, 0.80
SPEAKER_INFO = 'speaker-info.txt'
SPEAKER = re.compile(r'[ps]\d+')
MICS = (1, 2)
EXPECTED = ('wav48/<speaker>/<speaker>_NNN.wav or '
            'wav48_silence_trimmed/<speaker>/<speaker>_NNN_mic1.flac')
EXTRA_FEATURES = {
    'gender': tfds.features.Text(),
    'accent': tfds.features.Text(),
    'age': tfds.features.Scalar(np.int64),
}
UNKNOWN = {'gender': '', 'accent': '', 'age': -1}


def find_wav_dir(src):
  """(folder of speaker folders, folder that may hold speaker-info.txt)."""
  for name in WAV_FOLDERS:
    if os.path.isdir(os.path.join(src, name)):
      return os.path.join(src, name), src
  if any(SPEAKER.fullmatch(n) and os.path.isdir(os.path.join(src, n)) for n in os.listdir(src)):
    return src, os.path.dirname(os.path.abspath(src))
  raise building.DataError(f'vctk: expected {EXPECTED} under {src}; found {folder.found_in(src)}')


def read_speaker_info(path):
  """{speaker folder name: {'gender', 'accent', 'age'}} from speaker-info.txt; {} if absent."""
  if not os.path.isfile(path):
    return {}
  info = {}
  with open(path, encoding='utf-8', errors='replace') as f:
    for line in f:
      fields = line.split()
      if len(fields) < 3 or fields[0].upper() == 'ID':
        continue
      speaker = 'p' + fields[0] if fields[0].isdigit() else fields[0]  # 0.80: 225 -> p225
      info[speaker] = {
          'age': int(fields[1]) if fields[1].isdigit() else -1,
          'gender': fields[2],
          'accent': fields[3] if len(fields) > 3 else '',
      }
  return info


def scan(wav_dir, mic, speaker_info):
  """Utterances of `mic` under wav_dir -> ([folder.File], [(relpath, reason)])."""
  files, skipped = [], []
  for relpath in folder.walk(wav_dir):
    parts = relpath.split('/')
    if len(parts) != 2 or not SPEAKER.fullmatch(parts[0]):
      reason = ('not an audio file' if not folder.is_audio(relpath)
                else 'not inside a speaker folder (pNNN)')
      skipped.append((relpath, reason))
      continue
    speaker, name = parts
    match = re.fullmatch(re.escape(speaker) + r'_\d+(?:_mic([12]))?\.(?:wav|flac)', name)
    if not match:
      reason = ('not an audio file' if not folder.is_audio(relpath) else
                f'name does not match pattern {speaker}_NNN.wav or {speaker}_NNN_micN.flac')
      skipped.append((relpath, reason))
    elif match.group(1) is None or int(match.group(1)) == mic:
      files.append(folder.File(relpath, speaker,
                               extras=speaker_info.get(speaker, UNKNOWN)))
  return files, skipped


def build_vctk(src, out, sample_rate=16000, mic=1, validation_fraction=0.1,
               silence_threshold=folder.SILENCE_THRESHOLD, overwrite=False):
  """Prepares the VCTK tree at `src` as a dataset at `out`; returns `out`."""
  src = folder.check_src(src)
  folder.check_options(sample_rate, validation_fraction)
  if mic not in MICS:
    raise building.DataError(f'mic={mic!r}: must be one of {MICS}')
  wav_dir, info_dir = find_wav_dir(src)
  speaker_info = read_speaker_info(os.path.join(info_dir, SPEAKER_INFO))
  files, skipped = scan(wav_dir, int(mic), speaker_info)
  return folder.build_files(
      wav_dir, out, files, skipped, sample_rate=sample_rate, extra_features=EXTRA_FEATURES,
      validation_fraction=validation_fraction, silence_threshold=silence_threshold,
      description='CSTR VCTK Corpus, prepared by wavenet_jax/datasets/vctk.py.', overwrite=overwrite)
