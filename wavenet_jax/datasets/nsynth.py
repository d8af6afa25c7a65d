"""NSynth, as magenta distributes it (TFRecords of tf.train.Example) -> prepared dataset.

  nsynth-train.tfrecord -> train   nsynth-valid.tfrecord -> validation   nsynth-test.tfrecord -> test

src is the folder holding any of the three. Each record is one 4 s note: audio (float
[64000] in [-1, 1] at sample_rate 16000), note_str, pitch, velocity, instrument(_str),
instrument_family(_str), instrument_source(_str), qualities ([10] 0/1), qualities_str
(magenta's nsynth reader names them so). `label` picks the field that becomes the class:
instrument_family (default) and instrument_source name their classes by the _str field,
instrument by instrument_str, pitch and velocity by the number zero-padded to 3 digits,
so names sort numerically. Extra features: pitch, velocity, instrument_family,
instrument_source (int64) and qualities (int64 [10]). `filename` is the note_str
(`bass_electronic_018-022-100`).

NSynth train is ~300k notes, 70+ GB of float32: records are streamed, never held or
copied. Two passes over the files: a survey checks every record and collects the class
names, which TFDS needs before it writes; TFDS's pass then converts the records the
survey kept. A record that is not a complete NSynth note, is not 4 s long, or is all
silence is skipped and reported as `<file>#<record index>`; a file that breaks off
(truncated, corrupt) is reported at the first record lost.
"""
import collections
import os
import re

import numpy as np
import tensorflow_datasets as tfds

from wavenet_jax.datasets import building
from wavenet_jax.datasets import folder
from wavenet_jax.input import audio

FILES = {'train': 'nsynth-train.tfrecord', 'validation': 'nsynth-valid.tfrecord',
         'test': 'nsynth-test.tfrecord'}
# label option -> the record's field naming the class (None: the number itself).
LABELS = {'instrument_family': 'instrument_family_str',
          'instrument_source': 'instrument_source_str',
          'instrument': 'instrument_str', 'pitch': None, 'velocity': None}
NOTE_SECONDS = 4
SOURCE_RATE = 16000  # of a record without a sample_rate field
NUM_QUALITIES = 10
EXTRA_FEATURES = {
    'pitch': tfds.features.Scalar(np.int64),
    'velocity': tfds.features.Scalar(np.int64),
    'instrument_family': tfds.features.Scalar(np.int64),
    'instrument_source': tfds.features.Scalar(np.int64),
    'qualities': tfds.features.Tensor(shape=(NUM_QUALITIES,), dtype=np.int64),
}

Note = collections.namedtuple('Note', 'name label audio rate extras')  # audio: float32 [T]


def _int(feature, name):
  values = feature[name].int64_list.value if name in feature else ()
  if len(values) != 1:
    raise ValueError(f'no {name}' if not values else f'{name} has {len(values)} values')
  return int(values[0])


def _text(feature, name):
  values = feature[name].bytes_list.value if name in feature else ()
  if len(values) != 1 or not values[0]:
    raise ValueError(f'no {name}')
  return values[0].decode('utf-8', errors='replace')


def parse(record, label):
  """A serialized NSynth tf.train.Example -> Note; ValueError saying what is wrong."""
  import tensorflow as tf  # on first use, as TFDS does: its start-up log would lead every CLI error
  try:
    feature = tf.train.Example.FromString(record).features.feature
  except Exception as e:  # protobuf's DecodeError differs between its implementations
    raise ValueError(f'not a tf.train.Example ({type(e).__name__})') from None
  rate = _int(feature, 'sample_rate') if 'sample_rate' in feature else SOURCE_RATE
  if rate <= 0:
    raise ValueError(f'sample_rate {rate}')
  x = np.asarray(feature['audio'].float_list.value if 'audio' in feature else (), np.float32)
  if x.size != NOTE_SECONDS * rate:
    raise ValueError(f'audio has {x.size} samples, not {NOTE_SECONDS * rate} '
                     f'({NOTE_SECONDS} s at {rate} Hz)')
  if not np.all(np.isfinite(x)):
    raise ValueError('non-finite audio samples')
  qualities = np.asarray(feature['qualities'].int64_list.value if 'qualities' in feature
                         else (), np.int64)
  if qualities.shape != (NUM_QUALITIES,):
    raise ValueError(f'qualities has {qualities.size} values, not {NUM_QUALITIES}')
  extras = {name: _int(feature, name) for name in EXTRA_FEATURES if name != 'qualities'}
  extras['qualities'] = qualities
  field = LABELS[label]
  class_name = _text(feature, field) if field else f'{extras[label]:03d}'
  return Note(name=_text(feature, 'note_str') if 'note_str' in feature else '',
              label=class_name, audio=x, rate=rate, extras=extras)


def records(path):
  """(index, serialized record, None) of a TFRecord file, streamed; a file that breaks
  off ends with (index of the first record lost, None, why)."""
  import tensorflow as tf  # on first use, as in parse()
  iterator = iter(tf.data.TFRecordDataset(path).as_numpy_iterator())
  index = 0
  while True:
    try:
      record = next(iterator)
    except StopIteration:
      return
    except tf.errors.OpError as e:  # DataLossError: truncated or corrupt
      # Keep TF's reason, without the op and function names wrapped around it.
      reason = re.sub(r'\{\{.*?\}\}\s*|\s*\[Op:.*', '', e.message.splitlines()[0])
      yield index, None, f'file unreadable from this record on ({type(e).__name__}: {reason})'
      return
    yield index, record, None
    index += 1


def resample(x, rate, sample_rate):
  """x [T] at rate -> at sample_rate, by the resampler audio.load uses for files."""
  if rate == sample_rate:
    return x
  import librosa  # slow to import; most builds never resample a record
  return librosa.resample(x, orig_sr=rate, target_sr=sample_rate, res_type='soxr_hq')


def find_files(src):
  """{split: path} of the NSynth files in src."""
  found = {split: os.path.join(src, name) for split, name in FILES.items()
           if os.path.isfile(os.path.join(src, name))}
  if not found:
    raise building.DataError(f'nsynth: expected {", ".join(FILES.values())} under {src}; found '
                             f'{folder.found_in(src)}')
  return found


def survey(paths, label, silence_threshold):
  """First pass -> (class names, {split: examples}, {split: bad indices}, [(where, why)])."""
  labels, counts = set(), collections.Counter()
  bad, skipped = collections.defaultdict(set), []
  for split, path in paths.items():
    for index, record, error in records(path):
      where = f'{os.path.basename(path)}#{index}'
      if index and index % 50_000 == 0:
        print(f'surveyed {where}')
      try:
        if error:
          raise ValueError(error)
        note = parse(record, label)
        reason = folder.silence_reason(note.audio, silence_threshold)
        if reason:
          raise ValueError(reason)
      except ValueError as e:
        bad[split].add(index)
        skipped.append((where, str(e)))
        continue
      labels.add(note.label)
      counts[split] += 1
  return sorted(labels), counts, bad, skipped


class NSynth(building.AudioBuilder, skip_registration=True):
  """Converts the records the survey kept, straight from the TFRecord files."""
  DESCRIPTION = 'NSynth musical notes, prepared by wavenet_jax/datasets/nsynth.py.'

  def __init__(self, *, paths, label, bad, **kwargs):
    self._paths = paths  # {split: TFRecord path}
    self._label = label
    self._bad = bad  # {split: record indices the survey skipped}
    super().__init__(extra_features=EXTRA_FEATURES, **kwargs)

  def _generate_examples(self, split):
    path = self._paths[split]
    for index, record, _ in records(path):
      if index in self._bad[split]:
        continue  # reported by the survey, as is where a broken file ends
      try:
        note = parse(record, self._label)
      except ValueError as e:
        raise RuntimeError(f'{path}#{index}: {e}, but the survey read it; did the file '
                           f'change during the build?') from None
      x = resample(note.audio, note.rate, self.sample_rate)  # [T] float32
      filename = note.name or f'{os.path.basename(path)}#{index}'
      yield index, {'audio': audio.to_int16(x), 'label': note.label, 'filename': filename,
                    **note.extras}


def build_nsynth(src, out, sample_rate=16000, label='instrument_family',
                 silence_threshold=folder.SILENCE_THRESHOLD, overwrite=False):
  """Prepares the NSynth TFRecords in `src` as a dataset at `out`; returns `out`."""
  src = folder.check_src(src)
  folder.check_options(sample_rate)
  if label not in LABELS:
    raise building.DataError(f'label={label!r}: must be one of {", ".join(LABELS)}')
  paths = find_files(src)

  def make_builder(tmp):
    # Inside build, so that a refused `out` fails before the survey reads every record.
    class_names, counts, bad, skipped = survey(paths, label, silence_threshold)
    if not class_names:
      raise building.DataError(f'no usable NSynth notes under {src} '
                               f'({len(skipped)} skipped: {folder.summary(skipped)})')
    splits = [split for split in FILES if counts[split]]  # TFDS refuses empty splits
    return NSynth(paths=paths, label=label, bad=bad, class_names=class_names,
                  sample_rate=sample_rate, splits=splits, skipped=skipped, data_dir=tmp)

  return building.build(out, make_builder, overwrite=overwrite)
