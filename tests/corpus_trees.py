"""What the data tests share: reading a prepared dataset back, and writing small raw trees."""
import json
import os

import numpy as np
import soundfile
import tensorflow_datasets as tfds

from wavenet_jax.datasets import building
from wavenet_jax.input import audio


def read_examples(out, split):
  """{filename: example} of one split, as training reads it; `label` is the class name."""
  builder = tfds.builder_from_directory(os.fspath(out))
  names = builder.info.features['label'].names
  examples = {}
  for ex in builder.as_dataset(split=split).as_numpy_iterator():
    ex['label'] = names[ex['label']]
    examples[ex['filename'].decode()] = ex
  return examples


def read_split(out, split):
  """{filename: (label name, int16 audio [T])} of one split of a prepared dataset."""
  return {name: (ex['label'], ex['audio']) for name, ex in read_examples(out, split).items()}


def split_sizes(out):
  info = tfds.builder_from_directory(os.fspath(out)).info
  return {split: info.splits[split].num_examples for split in info.splits}


def report_of(out):
  with open(os.path.join(out, building.REPORT_FILE)) as f:
    return json.load(f)


def leftovers(parent):
  return [name for name in os.listdir(parent) if '.partial-' in name]


def sine(freq, amp, seconds, rate):
  return amp * np.sin(2 * np.pi * freq * np.arange(int(round(seconds * rate))) / rate)


def write(path, x, rate, **kwargs):
  path.parent.mkdir(parents=True, exist_ok=True)
  soundfile.write(path, x, rate, subtype='PCM_16', **kwargs)


def stereo_44k(seconds):
  """(stereo [T, 2] at 44.1 kHz, its mono mix at 16 kHz written independently)."""
  left, right = sine(440, 0.5, seconds, 44_100), sine(700, 0.3, seconds, 44_100)
  mono_16k = (sine(440, 0.5, seconds, 16_000) + sine(700, 0.3, seconds, 16_000)) / 2
  return np.stack([left, right], 1), mono_16k


def assert_close_to(x, expected, atol=3e-3, edge=100):
  """int16 audio x matches float `expected` up to a sample of length and resampler edges."""
  x = audio.from_int16(x)
  assert abs(x.size - expected.size) <= 1, (x.size, expected.size)
  n = min(x.size, expected.size)
  np.testing.assert_allclose(x[edge:n - edge], expected[edge:n - edge], atol=atol)


def assert_skipped(out, expected):
  """expected: {relpath: reason substring}; the report lists exactly these files."""
  report = report_of(out)
  got = {item['path']: item['reason'] for item in report['skipped']}
  assert sorted(got) == sorted(expected)
  assert report['num_skipped'] == len(expected)
  for path, reason in expected.items():
    assert reason in got[path], (path, got[path])


def make_gtzan(root):
  """genres/<genre>/<genre>.0000N.au at 22050 Hz, plus one of each kind of bad file."""
  src = root / 'genres'
  for genre, freq in [('blues', 220), ('jazz', 330), ('rock', 440)]:
    for i in range(3):
      write(src / genre / f'{genre}.{i:05d}.au', sine(freq * (1 + 0.1 * i), 0.4, 0.3, 22_050),
            22_050, format='AU')
  write(src / 'blues' / 'blues.00007.wav', stereo_44k(0.3)[0], 44_100)
  (src / 'jazz' / 'jazz.00054.wav').write_bytes(np.random.default_rng(1).bytes(3000))
  (src / 'rock' / 'rock.00009.wav').write_bytes(b'')
  write(src / 'rock' / 'rock.00008.au', np.zeros(6615), 22_050, format='AU')
  (src / 'metal').mkdir()
  (src / 'metal' / 'metal.00000.wav').write_bytes(b'RIFF....garbage')  # its only file is bad
  (src / 'README.txt').write_text('GTZAN genre collection\n')
  (src / 'blues' / '.DS_Store').write_bytes(b'\0')  # hidden: ignored, not reported
  return src
