"""datasets/{gtzan,vctk,librispeech,esc50,nsynth}.py: each corpus in its as-downloaded layout.

Every tree is written here in its real layout (names, folders, formats, metadata files)
under a path with spaces and non-ASCII characters, and every dataset is read back
through tfds.builder_from_directory, as training reads it.
"""
import csv
import os
import re

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from data import prepare as prepare_command  # the script: its command line
from tests.corpus_trees import (assert_close_to, assert_skipped, leftovers, make_gtzan,
                                read_examples, read_split, report_of, sine, split_sizes,
                                stereo_44k, write)
from wavenet_jax.datasets import building
from wavenet_jax.datasets import gtzan
from wavenet_jax.datasets import librispeech
from wavenet_jax.datasets import nsynth
from wavenet_jax.datasets import prepare
from wavenet_jax.datasets import vctk
from wavenet_jax.input import audio


@pytest.fixture
def root(tmp_path):
  """Where raw trees go: spaces and non-ASCII in the path must not matter."""
  path = tmp_path / 'raw corpora é 音'
  path.mkdir()
  return path


def pcm16(x):
  """x as a 16-bit file stores it, so a 16 kHz source can be compared exactly."""
  return np.round(np.asarray(x) * 32767).astype(np.int16)


def all_examples(out):
  builder = tfds.builder_from_directory(os.fspath(out))
  return {name: ex for split in builder.info.splits
          for name, ex in read_examples(out, split).items()}


def fail_on_call(monkeypatch, module, name, n):
  """Makes module.name raise on its n-th call, as a crash half-way through a build would."""
  real, calls = getattr(module, name), []

  def flaky(*args, **kwargs):
    calls.append(1)
    if len(calls) == n:
      raise RuntimeError('killed mid-build')
    return real(*args, **kwargs)

  monkeypatch.setattr(module, name, flaky)


def assert_interrupted_build_leaves_nothing(monkeypatch, module, name, n, build, out):
  with monkeypatch.context() as m:
    fail_on_call(m, module, name, n)
    with pytest.raises(RuntimeError, match='killed mid-build'):
      build()
  assert not out.exists() and not leftovers(out.parent)


# --- GTZAN --------------------------------------------------------------------------------

def test_gtzan_original_archive(root, monkeypatch):
  make_gtzan(root)  # root/genres/<genre>/<genre>.NNNNN.au at 22050 Hz, plus bad files
  (root / 'genres' / 'jazz' / 'notes.au').write_bytes(b'')  # in a genre folder, not a clip
  out = root.parent / 'prepared data ø' / 'gtzan'
  build = lambda: prepare.prepare('gtzan', root, out)  # src: the folder holding genres/
  assert_interrupted_build_leaves_nothing(monkeypatch, audio, 'load', 4, build, out)
  build()
  info = tfds.builder_from_directory(out).info
  assert info.features['label'].names == ['blues', 'jazz', 'rock']  # metal had no usable file
  assert info.features['audio'].sample_rate == 16_000
  assert report_of(out)['counts'] == {'train': {'blues': 3, 'jazz': 2, 'rock': 2},
                                      'validation': {'blues': 1, 'jazz': 1, 'rock': 1}}
  assert split_sizes(out) == {'train': 7, 'validation': 3}
  assert_skipped(out, {
      'README.txt': 'not inside a genre folder',
      'jazz/jazz.00054.wav': 'cannot decode',
      'jazz/notes.au': 'name is not jazz.NNNNN.au or .wav',
      'metal/metal.00000.wav': 'cannot decode',
      'rock/rock.00009.wav': 'empty file',
      'rock/rock.00008.au': 'all silence',
  })
  examples = all_examples(out)
  for genre, freq in [('blues', 220), ('jazz', 330), ('rock', 440)]:
    ex = examples[f'{genre}/{genre}.00001.au']
    assert ex['label'] == genre and ex['audio'].dtype == np.int16
    assert abs(ex['audio'].size - round(0.3 * 22_050) * 16_000 / 22_050) <= 1
    assert_close_to(ex['audio'], sine(freq * 1.1, 0.4, 0.3, 16_000))
  assert_close_to(examples['blues/blues.00007.wav']['audio'], stereo_44k(0.3)[1])  # mono mix


def test_gtzan_kaggle_release_at_16k_is_stored_exactly(root):
  # Kaggle: Data/genres_original/<genre>/<genre>.000NN.wav; a 16 kHz file needs no resampling.
  clips = {}
  for genre, freq in [('pop', 300), ('reggae', 500)]:
    for i in range(2):
      clips[f'{genre}/{genre}.{i:05d}.wav'] = pcm16(sine(freq + 40 * i, 0.5, 0.2, 16_000))
      write(root / 'Data' / 'genres_original' / genre / f'{genre}.{i:05d}.wav',
            clips[f'{genre}/{genre}.{i:05d}.wav'], 16_000)
  (root / 'Data' / 'features_30_sec.csv').write_text('filename,length\n')
  out = gtzan.build_gtzan(root / 'Data', root / 'out', validation_fraction=0.5)
  assert report_of(out)['counts'] == {'train': {'pop': 1, 'reggae': 1},
                                      'validation': {'pop': 1, 'reggae': 1}}
  for name, ex in all_examples(out).items():
    np.testing.assert_array_equal(ex['audio'], clips[name])


# --- VCTK ---------------------------------------------------------------------------------

SPEAKER_INFO_092 = '''ID  AGE  GENDER  ACCENTS  REGION COMMENTS 
p225  23  F    English    Southern  England
p226  22  M    English    Surrey
p280  25  F    French     France   (mic2 files unavailable)
s5    22  F    British    Scottish  (?)
'''


def make_vctk_092(root):
  """VCTK-Corpus-0.92/wav48_silence_trimmed/<spk>/<spk>_NNN_mic{1,2}.flac at 48 kHz."""
  corpus = root / 'VCTK-Corpus-0.92'
  wavs = corpus / 'wav48_silence_trimmed'
  for k, speaker in enumerate(['p225', 'p226', 's5']):
    for i in range(1, 4):
      for mic in (1, 2):
        write(wavs / speaker / f'{speaker}_{i:03d}_mic{mic}.flac',
              sine(150 + 50 * k + 10 * i, 0.3 * mic, 0.2, 48_000), 48_000)
  (wavs / 'p226' / 'p226_004_mic1.flac').write_bytes(np.random.default_rng(3).bytes(2000))
  write(wavs / 'p226' / 'p226_005_mic1.flac', np.zeros(4800), 48_000)
  (wavs / 'log.txt').write_text('recording log\n')
  (corpus / 'txt' / 'p225').mkdir(parents=True)
  (corpus / 'txt' / 'p225' / 'p225_001.txt').write_text('Please call Stella.\n')
  (corpus / 'speaker-info.txt').write_text(SPEAKER_INFO_092)
  return corpus


def test_vctk_092_one_microphone_and_speaker_info(root, tmp_path, monkeypatch):
  corpus = make_vctk_092(root)
  out = tmp_path / 'vctk'
  build = lambda: vctk.build_vctk(corpus, out)
  assert_interrupted_build_leaves_nothing(monkeypatch, audio, 'load', 5, build, out)
  build()
  assert tfds.builder_from_directory(out).info.features['label'].names == ['p225', 'p226', 's5']
  assert report_of(out)['counts'] == {'train': {'p225': 2, 'p226': 2, 's5': 2},
                                      'validation': {'p225': 1, 'p226': 1, 's5': 1}}
  # mic2 files are the other microphone, neither used nor reported as bad.
  assert_skipped(out, {'log.txt': 'not an audio file',
                       'p226/p226_004_mic1.flac': 'cannot decode',
                       'p226/p226_005_mic1.flac': 'all silence'})
  examples = all_examples(out)
  assert sorted(examples) == sorted(f'{s}/{s}_{i:03d}_mic1.flac'
                                    for s in ('p225', 'p226', 's5') for i in range(1, 4))
  p225, s5 = examples['p225/p225_002_mic1.flac'], examples['s5/s5_001_mic1.flac']
  assert (p225['gender'], p225['accent'], p225['age']) == (b'F', b'English', 23)
  assert (s5['gender'], s5['accent'], s5['age']) == (b'F', b'British', 22)
  assert p225['audio'].size == 3200  # 0.2 s at 48 kHz -> 16 kHz
  assert_close_to(p225['audio'], sine(170, 0.3, 0.2, 16_000))

  mic2 = vctk.build_vctk(corpus, tmp_path / 'vctk_mic2', mic=2)
  x = {**read_split(mic2, 'train'), **read_split(mic2, 'validation')}
  assert sorted(x) == sorted(f'{s}/{s}_{i:03d}_mic2.flac'
                             for s in ('p225', 'p226', 's5') for i in range(1, 4))
  assert_close_to(x['p225/p225_002_mic2.flac'][1], sine(170, 0.6, 0.2, 16_000))


def test_vctk_080_from_its_wav_folder(root, tmp_path):
  # 0.80: wav48/<spk>/<spk>_NNN.wav, speaker-info.txt IDs without the p.
  corpus = root / 'VCTK-Corpus'
  clips = {}
  for speaker, rate in [('p225', 48_000), ('p227', 16_000)]:
    for i in range(1, 3):
      clips[f'{speaker}/{speaker}_{i:03d}.wav'] = pcm16(sine(200 + 30 * i, 0.5, 0.25, rate))
      write(corpus / 'wav48' / speaker / f'{speaker}_{i:03d}.wav',
            clips[f'{speaker}/{speaker}_{i:03d}.wav'], rate)
  (corpus / 'speaker-info.txt').write_text(
      'ID  AGE  GENDER  ACCENTS  REGION\n225  23  F    English    Southern  England\n')
  out = prepare.prepare('vctk', corpus / 'wav48', tmp_path / 'vctk', validation_fraction=0.5)
  examples = all_examples(out)
  assert sorted(examples) == sorted(clips)
  p225 = examples['p225/p225_001.wav']
  assert (p225['gender'], p225['age']) == (b'F', 23)
  p227 = examples['p227/p227_002.wav']  # not in speaker-info.txt
  assert (p227['gender'], p227['accent'], p227['age']) == (b'', b'', -1)
  np.testing.assert_array_equal(p227['audio'], clips['p227/p227_002.wav'])  # 16 kHz: exact
  assert abs(examples['p225/p225_001.wav']['audio'].size - 4000) <= 1


# --- LibriSpeech --------------------------------------------------------------------------

SPEAKERS_TXT = '''; Some speakers have multiple entries because they read in several subsets.
;ID  |SEX| SUBSET           |MINUTES| NAME
60   | M | train-clean-100  | 20.18 | |CBW|Simon
84   | F | dev-clean        |  8.02 | Christie Nowak
174  | M | dev-clean        |  8.04 | Peter Eastman
'''


def make_librispeech(root):
  """LibriSpeech/<subset>/<spk>/<chapter>/<spk>-<chapter>-NNNN.flac + transcripts, 16 kHz."""
  base = root / 'LibriSpeech'
  clips = {}
  for subset, speaker, chapter in [('dev-clean', 84, 121123), ('dev-clean', 174, 50561),
                                   ('test-clean', 1089, 134686)]:
    chapter_dir = base / subset / str(speaker) / str(chapter)
    lines = []
    for i in range(3):
      name = f'{speaker}-{chapter}-{i:04d}'
      x = pcm16(sine(100 + speaker % 300 + 20 * i, 0.4, 0.15, 16_000))
      write(chapter_dir / f'{name}.flac', x, 16_000)
      clips[f'{subset}/{speaker}/{chapter}/{name}.flac'] = x
      lines.append(f'{name} GO DO YOU HEAR\n')
    (chapter_dir / f'{speaker}-{chapter}.trans.txt').write_text(''.join(lines))
  chapter_dir = base / 'dev-clean' / '84' / '121123'
  (chapter_dir / '84-121123-0009.flac').write_bytes(b'fLaC\0\0\0\x22broken')
  write(chapter_dir / '174-50561-0005.flac', sine(300, 0.4, 0.1, 16_000), 16_000)  # wrong folder
  (base / 'dev-clean' / '174' / 'notes.md').write_text('x')
  (base / 'SPEAKERS.TXT').write_text(SPEAKERS_TXT)
  (base / 'README.TXT').write_text('LibriSpeech ASR corpus\n')
  return clips


def test_librispeech_subsets_speakers_and_chapters(root, tmp_path, monkeypatch):
  clips = make_librispeech(root)
  out = tmp_path / 'libri'
  build = lambda: librispeech.build_librispeech(root, out)  # src: the folder holding LibriSpeech/
  assert_interrupted_build_leaves_nothing(monkeypatch, audio, 'load', 2, build, out)
  build()
  assert tfds.builder_from_directory(out).info.features['label'].names == ['1089', '174', '84']
  assert report_of(out)['counts'] == {'train': {'1089': 2, '174': 2, '84': 2},
                                      'validation': {'1089': 1, '174': 1, '84': 1}}
  assert_skipped(out, {  # transcripts are not reported
      'dev-clean/84/121123/84-121123-0009.flac': 'cannot decode',
      'dev-clean/84/121123/174-50561-0005.flac':
          'not <speaker>/<chapter>/<speaker>-<chapter>-NNNN.flac',
      'dev-clean/174/notes.md': 'not an audio file',
  })
  examples = all_examples(out)
  assert sorted(examples) == sorted(clips)
  for name, ex in examples.items():
    np.testing.assert_array_equal(ex['audio'], clips[name])
  ex = examples['dev-clean/174/50561/174-50561-0002.flac']
  assert (ex['label'], ex['speaker_id'], ex['chapter_id'], ex['subset'], ex['gender']) == (
      '174', 174, 50561, b'dev-clean', b'M')
  assert examples['test-clean/1089/134686/1089-134686-0000.flac']['gender'] == b''

  dev = prepare.prepare('librispeech', root / 'LibriSpeech', tmp_path / 'dev',
                        subsets='dev-clean')
  assert report_of(dev)['class_names'] == ['174', '84']
  with pytest.raises(building.DataError, match='subsets train-other-500 not found; found '
                                             'dev-clean, test-clean'):
    prepare.prepare('librispeech', root, tmp_path / 'x', subsets='dev-clean,train-other-500')


# --- ESC-50 -------------------------------------------------------------------------------

ESC50_ROWS = [  # filename, fold, target, category, esc10, src_file, take
    ('1-100032-A-0.wav', 1, 0, 'dog', True, 100032, 'A'),
    ('1-110389-A-0.wav', 1, 0, 'dog', True, 110389, 'A'),
    ('2-114280-A-0.wav', 2, 0, 'dog', True, 114280, 'A'),
    ('1-100038-A-14.wav', 1, 14, 'chirping_birds', False, 100038, 'A'),
    ('2-109505-A-14.wav', 2, 14, 'chirping_birds', False, 109505, 'A'),
    ('3-107219-A-14.wav', 3, 14, 'chirping_birds', False, 107219, 'A'),
    ('1-17367-A-10.wav', 1, 10, 'rain', True, 17367, 'A'),
    ('3-143933-A-10.wav', 3, 10, 'rain', True, 143933, 'A'),
    ('3-157615-A-10.wav', 3, 10, 'rain', True, 157615, 'A'),  # corrupt
    ('2-117625-A-10.wav', 2, 10, 'rain', True, 117625, 'A'),  # all silence
    ('4-181286-A-10.wav', 4, 10, 'rain', True, 181286, 'A'),  # listed, missing
    ('5-200334-A-1.wav', 5, 1, 'rooster', True, 200334, 'A'),  # listed, missing
]


def make_esc50(root):
  """ESC-50-master/audio/<fold>-<clip>-<take>-<target>.wav at 44.1 kHz and meta/esc50.csv."""
  base = root / 'ESC-50-master'
  (base / 'meta').mkdir(parents=True)
  with open(base / 'meta' / 'esc50.csv', 'w', newline='') as f:
    writer = csv.writer(f)
    writer.writerow(['filename', 'fold', 'target', 'category', 'esc10', 'src_file', 'take'])
    writer.writerows(ESC50_ROWS)
  for i, (name, _, target, *_) in enumerate(ESC50_ROWS[:8]):
    write(base / 'audio' / name, sine(200 + 100 * target + 7 * i, 0.5, 0.3, 44_100), 44_100)
  (base / 'audio' / '3-157615-A-10.wav').write_bytes(np.random.default_rng(4).bytes(3000))
  write(base / 'audio' / '2-117625-A-10.wav', np.zeros(4410), 44_100)
  write(base / 'audio' / '5-9032-A-0.wav', sine(200, 0.5, 0.3, 44_100), 44_100)  # not listed
  (base / 'README.md').write_text('# ESC-50\n')
  return base


def test_esc50_folds_are_splits(root, tmp_path, monkeypatch):
  make_esc50(root)
  cache = tmp_path / 'cache'
  build = lambda: prepare.resolve(root, 'esc50', cache)  # as configs do
  with monkeypatch.context() as m:
    fail_on_call(m, audio, 'load', 3)
    with pytest.raises(RuntimeError, match='killed mid-build'):
      build()
  assert os.listdir(cache) == []  # neither a dataset nor a partial one
  out = build()
  builder = tfds.builder_from_directory(out)
  # Class names come from the csv: rooster's only clip is missing, yet its id is kept.
  assert builder.info.features['label'].names == ['chirping_birds', 'dog', 'rain', 'rooster']
  assert split_sizes(out) == {'fold1': 4, 'fold2': 2, 'fold3': 2}
  assert builder.info.splits['fold1+fold2'].num_examples == 6
  assert report_of(out)['counts'] == {
      'fold1': {'chirping_birds': 1, 'dog': 2, 'rain': 1},
      'fold2': {'chirping_birds': 1, 'dog': 1},
      'fold3': {'chirping_birds': 1, 'rain': 1}}
  assert_skipped(out, {
      'audio/3-157615-A-10.wav': 'cannot decode',
      'audio/2-117625-A-10.wav': 'all silence',
      'audio/4-181286-A-10.wav': 'listed in meta/esc50.csv but missing',
      'audio/5-200334-A-1.wav': 'listed in meta/esc50.csv but missing',
      'audio/5-9032-A-0.wav': 'not listed in meta/esc50.csv',
  })
  fold2 = read_examples(out, 'fold2')
  ex = fold2['audio/2-109505-A-14.wav']
  assert (ex['label'], ex['fold'], ex['target']) == ('chirping_birds', 2, 14)
  assert abs(ex['audio'].size - round(round(0.3 * 44_100) * 16_000 / 44_100)) <= 1
  assert_close_to(ex['audio'], sine(200 + 1400 + 7 * 4, 0.5, 0.3, 16_000))
  assert {ex['fold'] for ex in read_examples(out, 'fold1+fold3').values()} == {1, 3}
  assert prepare.resolve(root, 'esc50', cache) == out  # prepared once, then reused

  # ESC-10 keeps its rows only; from the command line.
  assert prepare_command.main(['esc50', f'--src={root / "ESC-50-master"}', f'--out={tmp_path / "e10"}',
                       '--esc10']) == 0
  assert report_of(tmp_path / 'e10')['class_names'] == ['dog', 'rain', 'rooster']
  assert report_of(tmp_path / 'e10')['num_examples'] == {'fold1': 3, 'fold2': 1, 'fold3': 1}


# --- NSynth -------------------------------------------------------------------------------

FAMILIES = ('bass', 'brass', 'flute', 'guitar', 'keyboard', 'mallet', 'organ', 'reed', 'string',
            'synth_lead', 'vocal')
SOURCES = ('acoustic', 'electronic', 'synthetic')


def note_audio(pitch, velocity):
  """A 4 s decaying tone at the note's pitch, float32 [64000] in [-1, 1]."""
  t = np.arange(64_000) / 16_000
  return (velocity / 127 * 0.8 * np.exp(-t) *
          np.sin(2 * np.pi * 440 * 2 ** ((pitch - 69) / 12) * t)).astype(np.float32)


def note_example(family, source, instrument, pitch, velocity, x=None, drop=()):
  """A serialized tf.train.Example with the fields of magenta's NSynth TFRecords."""
  note_str = f'{family}_{SOURCES[source]}_{instrument:03d}-{pitch:03d}-{velocity:03d}'
  qualities = [int(k == pitch % 10) for k in range(10)]
  ints = lambda *v: tf.train.Feature(int64_list=tf.train.Int64List(value=v))
  text = lambda *v: tf.train.Feature(bytes_list=tf.train.BytesList(value=[s.encode() for s in v]))
  fields = {
      'note': ints(1000 + pitch), 'note_str': text(note_str),
      'instrument': ints(instrument), 'instrument_str': text(note_str.rsplit('-', 2)[0]),
      'pitch': ints(pitch), 'velocity': ints(velocity), 'sample_rate': ints(16_000),
      'audio': tf.train.Feature(float_list=tf.train.FloatList(
          value=note_audio(pitch, velocity) if x is None else x)),
      'qualities': ints(*qualities), 'qualities_str': text('bright') if qualities[0] else text(),
      'instrument_family': ints(FAMILIES.index(family)), 'instrument_family_str': text(family),
      'instrument_source': ints(source), 'instrument_source_str': text(SOURCES[source]),
  }
  for name in drop:
    del fields[name]
  return tf.train.Example(features=tf.train.Features(feature=fields)).SerializeToString()


def write_records(path, records):
  path.parent.mkdir(parents=True, exist_ok=True)
  with tf.io.TFRecordWriter(os.fspath(path)) as writer:
    for record in records:
      writer.write(record)


def make_nsynth(root):
  """nsynth-{train,valid,test}.tfrecord, with one of each kind of bad record."""
  src = root / 'nsynth'
  write_records(src / 'nsynth-train.tfrecord', [
      note_example('bass', 1, 18, 40, 100),
      note_example('guitar', 0, 3, 60, 50),
      b'not a protocol buffer \xff\xff',  # #2
      note_example('bass', 2, 7, 45, 127),
      note_example('flute', 0, 2, 72, 75, x=np.zeros(32_000, np.float32)),  # #4: 2 s
      note_example('flute', 0, 2, 74, 75),
      note_example('guitar', 0, 3, 62, 25, x=np.zeros(64_000, np.float32)),  # #6: silence
      note_example('guitar', 1, 9, 64, 100),
      note_example('flute', 0, 2, 76, 100, drop=('qualities',)),  # #8
  ])
  write_records(src / 'nsynth-valid.tfrecord', [note_example('bass', 1, 18, 41, 100),
                                                note_example('flute', 0, 2, 73, 50)])
  write_records(src / 'nsynth-test.tfrecord', [note_example('guitar', 0, 3, 61, 75),
                                               note_example('guitar', 0, 3, 63, 75)])
  with open(src / 'nsynth-test.tfrecord', 'r+b') as f:  # a download cut short
    f.truncate(os.path.getsize(src / 'nsynth-test.tfrecord') - 1000)
  return src


def test_nsynth_tfrecords(root, tmp_path, monkeypatch):
  src = make_nsynth(root)
  out = tmp_path / 'nsynth'
  build = lambda: nsynth.build_nsynth(src, out)
  # The survey parses 12 records, so the 14th parse is in TFDS's writing pass.
  assert_interrupted_build_leaves_nothing(monkeypatch, nsynth, 'parse', 14, build, out)
  build()
  builder = tfds.builder_from_directory(out)
  assert builder.info.features['label'].names == ['bass', 'flute', 'guitar']
  assert split_sizes(out) == {'train': 5, 'validation': 2, 'test': 1}
  assert report_of(out)['counts'] == {'train': {'bass': 2, 'flute': 1, 'guitar': 2},
                                      'validation': {'bass': 1, 'flute': 1},
                                      'test': {'guitar': 1}}
  assert_skipped(out, {
      'nsynth-train.tfrecord#2': 'not a tf.train.Example',
      'nsynth-train.tfrecord#4': 'audio has 32000 samples, not 64000',
      'nsynth-train.tfrecord#6': 'all silence',
      'nsynth-train.tfrecord#8': 'qualities has 0 values',
      'nsynth-test.tfrecord#1': 'file unreadable from this record on (DataLossError',
  })
  train = read_examples(out, 'train')
  ex = train['guitar_acoustic_003-060-050']
  assert ex['label'] == 'guitar'
  assert (ex['pitch'], ex['velocity'], ex['instrument_family'], ex['instrument_source']) == (
      60, 50, 3, 0)
  np.testing.assert_array_equal(ex['qualities'], np.eye(10, dtype=np.int64)[0])
  np.testing.assert_array_equal(ex['audio'], audio.to_int16(note_audio(60, 50)))  # 16 kHz: exact

  by_pitch = nsynth.build_nsynth(src, tmp_path / 'pitch', label='pitch', sample_rate=8000)
  builder = tfds.builder_from_directory(by_pitch)
  assert builder.info.features['label'].names == ['040', '041', '045', '060', '061', '064',
                                                 '073', '074']
  assert builder.info.features['audio'].sample_rate == 8000
  ex = read_examples(by_pitch, 'validation')['flute_acoustic_002-073-050']
  assert ex['label'] == '073' and ex['audio'].size == 32_000
  t = np.arange(32_000) / 8000
  expected = 50 / 127 * 0.8 * np.exp(-t) * np.sin(2 * np.pi * 440 * 2 ** (4 / 12) * t)
  assert_close_to(ex['audio'], expected)


def test_nsynth_labels_are_checked_first(root, tmp_path):
  with pytest.raises(building.DataError, match="label='genre': must be one of instrument_family"):
    nsynth.build_nsynth(root, tmp_path / 'x', label='genre')


# --- layout and input errors, for every corpus --------------------------------------------

CORPORA = ('gtzan', 'vctk', 'librispeech', 'esc50', 'nsynth')
EXPECTED = {
    'gtzan': 'genres/<genre>/<genre>.NNNNN.au',
    'vctk': 'wav48/<speaker>/<speaker>_NNN.wav',
    'librispeech': 'LibriSpeech/<subset>/<speaker>/<chapter>/<speaker>-<chapter>-NNNN.flac',
    'esc50': 'audio/<fold>-<clip>-<take>-<target>.wav and meta/esc50.csv',
    'nsynth': 'nsynth-train.tfrecord, nsynth-valid.tfrecord, nsynth-test.tfrecord',
}


@pytest.mark.parametrize('corpus', CORPORA)
def test_wrong_layout_names_expected_and_found(corpus, root, tmp_path):
  for name in ('a', 'b'):
    write(root / name / 'x.wav', sine(300, 0.5, 0.1, 16_000), 16_000)
  with pytest.raises(building.DataError) as error:
    prepare.prepare(corpus, root, tmp_path / 'out')
  message = str(error.value)
  assert len(message.splitlines()) == 1
  assert message.startswith(f'{corpus}: expected ')
  assert EXPECTED[corpus] in message
  assert re.search(r'under .*raw corpora é 音; found folders a, b$', message)
  assert not (tmp_path / 'out').exists() and not leftovers(tmp_path)


def bad_tree(corpus, root):
  """The corpus's layout, every file of it unusable."""
  corrupt = np.random.default_rng(5).bytes(3000)
  if corpus == 'gtzan':
    (root / 'genres' / 'disco').mkdir(parents=True)
    (root / 'genres' / 'disco' / 'disco.00000.au').write_bytes(b'')
  elif corpus == 'vctk':
    (root / 'wav48' / 'p225').mkdir(parents=True)
    write(root / 'wav48' / 'p225' / 'p225_001.wav', np.zeros(4800), 48_000)
  elif corpus == 'librispeech':
    (root / 'LibriSpeech' / 'dev-clean' / '84' / '121123').mkdir(parents=True)
    (root / 'LibriSpeech' / 'dev-clean' / '84' / '121123' / '84-121123-0000.flac').write_bytes(b'')
  elif corpus == 'esc50':
    make_esc50(root)
    for wav in (root / 'ESC-50-master' / 'audio').iterdir():
      wav.write_bytes(corrupt)
  else:
    write_records(root / 'nsynth-valid.tfrecord', [corrupt])


@pytest.mark.parametrize('corpus', CORPORA)
def test_no_usable_file_is_an_error_and_writes_nothing(corpus, root, tmp_path):
  bad_tree(corpus, root)
  with pytest.raises(building.DataError,
                     match=r'no usable .* under .*raw corpora é 音\S* \(\d+ skipped: '):
    prepare.prepare(corpus, root, tmp_path / 'out')
  assert not (tmp_path / 'out').exists() and not leftovers(tmp_path)


def test_cli_options_of_one_corpus_are_refused_by_another(root, tmp_path, capsys):
  assert prepare_command.main(['gtzan', f'--src={root}', f'--out={tmp_path / "out"}', '--mic=2']) == 2
  error = capsys.readouterr().err.strip()
  assert error == ("error: gtzan: unknown option 'mic' (accepts ['silence_threshold', "
                   "'validation_fraction'])")
  with pytest.raises(building.DataError, match="esc50: unknown option 'validation_fraction'"):
    prepare.prepare('esc50', root, tmp_path / 'out', validation_fraction=0.2)
  with pytest.raises(building.DataError, match='mic=3: must be one of'):
    prepare.prepare('vctk', root, tmp_path / 'out', mic=3)
