"""datasets/catalog.py: TFDS catalog datasets, prepared in a data_dir, mapped onto our features
(datasets/catalog_mapping.py); and building.build's num_shards, through the demo.

Nothing here downloads or may reach the network (every socket connect raises). Each
catalog dataset is written as TFDS's own prepared data by the real catalog builder class
(its name, config, version, features), with only its examples replaced by a few
synthetic ones, so the build reads what a `tfds build` would have left in data_dir.
"""
import contextlib
import io
import os
import socket

import numpy as np
import pytest
import soundfile
import tensorflow_datasets as tfds

from data import prepare as prepare_command  # the script: its command line
from tests.corpus_trees import (assert_close_to, leftovers, read_examples, report_of, sine,
                                split_sizes, write)
from wavenet_jax.datasets import building
from wavenet_jax.datasets import catalog
from wavenet_jax.datasets import catalog_mapping
from wavenet_jax.datasets import demo
from wavenet_jax.datasets import gtzan
from wavenet_jax.datasets import librispeech
from wavenet_jax.datasets import ljspeech
from wavenet_jax.datasets import prepare
from wavenet_jax.input import audio


@pytest.fixture(autouse=True)
def offline(monkeypatch):
  def refuse(*args, **kwargs):
    raise OSError('test_catalog must not reach the network')
  monkeypatch.setattr(socket.socket, 'connect', refuse)
  monkeypatch.setattr(socket, 'create_connection', refuse)


def fake_catalog(data_dir, catalog_name, splits, config=None):
  """Writes splits ({catalog split: [example]}) as the prepared data of a catalog entry."""
  class Fake(tfds.builder_cls(catalog_name), skip_registration=True):
    name = catalog_name  # where TFDS puts and looks for the data: data_dir/<name>/...
    code_path = None  # as building.AudioBuilder's: no checksums to look up next to the code

    def _split_generators(self, dl_manager):
      del dl_manager
      return {split: self._given(examples) for split, examples in splits.items()}

    def _given(self, examples):
      yield from enumerate(examples)

    def _info(self):
      info = super()._info()
      if not isinstance(info.metadata, tfds.core.BeamMetadataDict):
        return info
      # NSynth's is a Beam builder, whose metadata only a Beam pipeline writes; a few
      # examples need no pipeline, so the same metadata goes in a plain dict.
      return tfds.core.DatasetInfo(builder=self, features=info.features,
                                   supervised_keys=info.supervised_keys,
                                   metadata=tfds.core.MetadataDict(info.metadata))

  builder = Fake(data_dir=os.fspath(data_dir), config=config)
  with contextlib.redirect_stdout(io.StringIO()):
    builder.download_and_prepare(download_dir=os.fspath(data_dir) + '.downloads')
  return builder


def catalog_order(data_dir, src, split, field):
  """`field` of a catalog split's examples, in the order TFDS reads them."""
  builder = tfds.builder(src, data_dir=os.fspath(data_dir))
  return [ex[field] for ex in builder.as_dataset(split=split, shuffle_files=False,
                                                 decoders=tfds.decode.PartialDecoding(
                                                     {field: True})).as_numpy_iterator()]


def skipped_of(out):
  return {item['path']: item['reason'] for item in report_of(out)['skipped']}


def all_examples(out):
  return {name: dict(ex, split=split) for split in split_sizes(out)
          for name, ex in read_examples(out, split).items()}


def int16(x):
  return np.round(np.asarray(x) * 32767).astype(np.int16)


# --- gtzan: a ClassLabel, int64 audio at 22,050 Hz, train only ----------------------------

def test_gtzan_keeps_its_genres_and_draws_validation(tmp_path, monkeypatch):
  clips = {}
  for genre, freq in [('blues', 220), ('jazz', 330), ('rock', 440)]:
    for i in range(4):
      clips[f'{genre}.{i:05d}.wav'] = (genre, freq * (1 + 0.1 * i))
  rows = [{'audio': int16(sine(f, 0.4, 0.3, 22_050)).astype(np.int64), 'label': g,
           'audio/filename': name} for name, (g, f) in clips.items()]
  bad = {'jazz.00050.wav': (np.zeros(0, np.int64), 'no samples'),
         'rock.00051.wav': (np.zeros(6615, np.int64), 'all silence'),
         'blues.00052.wav': (np.full(100, 40_000, np.int64), 'samples 40000..40000 are not '
                                                             '16-bit PCM')}
  rows += [{'audio': x, 'label': name.split('.')[0], 'audio/filename': name}
           for name, (x, _) in bad.items()]
  data_dir = tmp_path / 'tfds'
  fake_catalog(data_dir, 'gtzan', {'train': rows})
  out = tmp_path / 'gtzan'
  build = lambda: prepare.prepare('tfds', 'gtzan', out, tfds_data_dir=os.fspath(data_dir),
                                  validation_fraction=0.25)

  real, calls = catalog.to_float, []
  def killed_on_the_14th(*args):  # in the validation pass: train's are written by then
    calls.append(1)
    if len(calls) == 14:
      raise RuntimeError('killed mid-build')
    return real(*args)
  with monkeypatch.context() as m:
    m.setattr(catalog, 'to_float', killed_on_the_14th)
    with pytest.raises(RuntimeError, match='killed mid-build'):
      build()
  assert not out.exists() and not leftovers(tmp_path)

  build()
  info = tfds.builder_from_directory(out).info
  # A ClassLabel keeps every catalog name, also those with no example.
  assert info.features['label'].names == list(gtzan.GENRES)
  assert info.features['audio'].sample_rate == 16_000
  assert report_of(out)['counts'] == {'train': {'blues': 3, 'jazz': 3, 'rock': 3},
                                      'validation': {'blues': 1, 'jazz': 1, 'rock': 1}}
  order = [name.decode() for name in catalog_order(data_dir, 'gtzan', 'train', 'audio/filename')]
  skipped = skipped_of(out)
  assert sorted(skipped) == sorted(f'train#{order.index(name)}' for name in bad)
  for name, (_, reason) in bad.items():
    assert skipped[f'train#{order.index(name)}'].startswith(reason)
  examples = all_examples(out)
  assert sorted(examples) == sorted(f'{g}/{name}' for name, (g, _) in clips.items())
  for name, (genre, freq) in clips.items():
    ex = examples[f'{genre}/{name}']
    assert ex['label'] == genre and ex['audio'].dtype == np.int16
    assert abs(ex['audio'].size - round(0.3 * 22_050) * 16_000 / 22_050) <= 1
    assert_close_to(ex['audio'], sine(freq, 0.4, 0.3, 16_000))


# --- vctk: speaker ClassLabel, int16 at 48 kHz, label fields by name ------------------------

def test_vctk_speakers_from_48k_and_accent_as_label(tmp_path):
  data_dir = tmp_path / 'tfds'
  people = {'p225': ('F', 'English', 200), 'p226': ('M', 'Scottish', 300)}
  fake_catalog(data_dir, 'vctk', {'train': [
      {'speech': int16(sine(f + 10 * i, 0.3, 0.2, 48_000)), 'text': 'Please call Stella.',
       'speaker': spk, 'gender': gender, 'accent': accent, 'id': f'{spk}_{i:03d}'}
      for spk, (gender, accent, f) in people.items() for i in range(1, 4)]})
  out = catalog.build_catalog('vctk', tmp_path / 'vctk', tfds_data_dir=data_dir)
  assert report_of(out)['counts'] == {'train': {'p225': 2, 'p226': 2},
                                      'validation': {'p225': 1, 'p226': 1}}
  ex = all_examples(out)['p226_002']
  assert (ex['label'], ex['gender'], ex['accent']) == ('p226', b'M', b'Scottish')
  assert ex['audio'].size == 3200  # 0.2 s at 48 kHz -> 16 kHz
  assert_close_to(ex['audio'], sine(320, 0.3, 0.2, 16_000))

  by_accent = catalog.build_catalog('vctk/mic1', tmp_path / 'accent', tfds_data_dir=data_dir,
                                    label='accent')
  assert len(report_of(by_accent)['class_names']) == 13  # VCTK's ClassLabel of accents
  assert set(report_of(by_accent)['counts']['train']) == {'English', 'Scottish'}


# --- librispeech: int speaker ids, pooled subsets; the same dataset as the raw corpus ------

LIBRI = [('dev_clean', 'dev-clean', 84, 121123), ('dev_clean', 'dev-clean', 174, 50561),
         ('train_clean100', 'train-clean-100', 1089, 134686),
         ('train_clean100', 'train-clean-100', 84, 121124)]


def test_librispeech_speaker_ids_give_the_raw_corpus_dataset(tmp_path):
  raw, rows = tmp_path / 'raw', {}
  for split, subset, speaker, chapter in LIBRI:
    for i in range(3):
      x = int16(sine(100 + speaker % 300 + 20 * i, 0.4, 0.15, 16_000))
      utterance = f'{speaker}-{chapter}-{i:04d}'
      write(raw / 'LibriSpeech' / subset / str(speaker) / str(chapter) / f'{utterance}.flac',
            x, 16_000)
      rows.setdefault(split, []).append({'speech': x, 'text': 'GO DO YOU HEAR',
                                         'speaker_id': speaker, 'chapter_id': chapter,
                                         'id': utterance})
  data_dir = tmp_path / 'tfds'
  fake_catalog(data_dir, 'librispeech', rows)
  out = catalog.build_catalog('librispeech', tmp_path / 'catalog', tfds_data_dir=data_dir)
  assert report_of(out)['class_names'] == ['1089', '174', '84']  # str(id), sorted as text
  # What a config does with data.corpus='tfds', data.source='librispeech': prepared once.
  cached = prepare.resolve('librispeech', 'tfds', tmp_path / 'cache', tfds_data_dir=str(data_dir))
  assert cached.startswith(str(tmp_path / 'cache')) and split_sizes(cached) == split_sizes(out)
  assert prepare.resolve('librispeech', 'tfds', tmp_path / 'cache', tfds_data_dir=str(data_dir)) == cached
  assert split_sizes(out) == {'train': 9, 'validation': 3}  # subsets pooled, drawn per speaker

  from_raw = all_examples(librispeech.build_librispeech(raw, tmp_path / 'from raw'))
  examples = all_examples(out)
  assert sorted(examples) == sorted(from_raw)
  for name, ex in examples.items():  # same names, splits, labels, audio and extras
    want = from_raw[name]
    for key in ('split', 'label', 'speaker_id', 'chapter_id', 'subset'):
      assert ex[key] == want[key], (name, key)
    np.testing.assert_array_equal(ex['audio'], want['audio'])

  dev = prepare_command.main(['tfds', '--src=librispeech/default:2.1.1', f'--tfds_data_dir={data_dir}',
                      f'--out={tmp_path / "dev"}', '--splits=dev_clean', '--sample_rate=8000'])
  assert dev == 0
  assert report_of(tmp_path / 'dev')['class_names'] == ['174', '84']
  ex = read_examples(tmp_path / 'dev', 'train')['dev-clean/174/50561/174-50561-0002.flac']
  assert ex['audio'].size == 1200  # 0.15 s at 8 kHz
  assert_close_to(ex['audio'], sine(100 + 174 + 40, 0.4, 0.15, 8000))


# --- ljspeech: one speaker, 22,050 Hz, train only; the same dataset as the raw layout -----

def test_ljspeech_layout_and_catalog_give_one_dataset(tmp_path):
  raw = tmp_path / 'raw' / 'LJSpeech-1.1'
  rows, lines = [], []
  for i in range(1, 11):
    key = f'LJ001-{i:04d}'
    x = int16(sine(150 + 10 * i, 0.4, 0.1, 22_050))
    write(raw / 'wavs' / f'{key}.wav', x, 22_050)
    text = f'Printing, {i} "in" the only sense'
    lines.append(f'{key}|{text}|{text.lower()}')
    rows.append({'id': key, 'speech': x, 'text': text, 'text_normalized': text.lower()})
  write(raw / 'wavs' / 'LJ050-0001.wav', int16(sine(200, 0.4, 0.1, 22_050)), 22_050)  # unlisted
  (raw / 'metadata.csv').write_text('\n'.join(lines + ['LJ050-0002|missing|missing']) + '\n')
  from_raw = ljspeech.build_ljspeech(tmp_path / 'raw', tmp_path / 'from raw', sample_rate=22_050)
  assert skipped_of(from_raw) == {'wavs/LJ050-0001.wav': 'not listed in metadata.csv',
                                  'wavs/LJ050-0002.wav': 'listed in metadata.csv but missing'}
  assert report_of(from_raw)['counts'] == {'train': {'LJ': 9}, 'validation': {'LJ': 1}}

  data_dir = tmp_path / 'tfds'
  fake_catalog(data_dir, 'ljspeech', {'train': rows})
  out = catalog.build_catalog('ljspeech', tmp_path / 'catalog', tfds_data_dir=data_dir,
                              sample_rate=22_050)
  examples, want = all_examples(out), all_examples(from_raw)
  assert sorted(examples) == sorted(want) == [f'wavs/LJ001-{i:04d}.wav' for i in range(1, 11)]
  for name, ex in examples.items():  # the same split, label, transcripts and samples
    for key in ('split', 'label', 'text', 'text_normalized'):
      assert ex[key] == want[name][key], (name, key)
    np.testing.assert_array_equal(ex['audio'], want[name]['audio'])
  assert want['wavs/LJ001-0003.wav']['text'] == b'Printing, 3 "in" the only sense'
  np.testing.assert_allclose(want['wavs/LJ001-0003.wav']['audio'], rows[2]['speech'], atol=1)

  (raw / 'metadata.csv').write_text('\n'.join(lines[:3] + ['LJ001-0004 no bars']) + '\n')
  with pytest.raises(building.DataError, match=r'metadata.csv:4: expected ID\|transcript'):
    ljspeech.build_ljspeech(raw, tmp_path / 'bad')
  assert not (tmp_path / 'bad').exists()


def test_librispeech_lazy_files_that_do_not_decode_and_a_broken_file(tmp_path):
  # The lazy_decode config stores each .flac as it is; TFDS decodes it only when read.
  files, rows = tmp_path / 'flac', []
  files.mkdir()
  for speaker in (84, 174):
    for i in range(4):
      path = files / f'{speaker}-7-{i:04d}.flac'
      soundfile.write(path, sine(200 + speaker + 30 * i, 0.5, 0.2, 16_000), 16_000,
                      subtype='PCM_16')
      rows.append({'speech': os.fspath(path), 'text': 'A', 'speaker_id': speaker,
                   'chapter_id': 7, 'id': path.stem})
  (files / '84-7-0001.flac').write_bytes(b'fLaC\0\0\0\x22broken')
  data_dir = tmp_path / 'tfds'
  builder = fake_catalog(data_dir, 'librispeech', {'dev_clean': rows}, config='lazy_decode')
  order = [i.decode() for i in catalog_order(data_dir, 'librispeech/lazy_decode', 'dev_clean',
                                             'id')]
  shard, = builder.info.splits['dev_clean'].filepaths
  with open(shard, 'r+b') as f:  # a copy cut short: the last example is lost
    f.truncate(os.path.getsize(shard) - 100)
  out = catalog.build_catalog('librispeech/lazy_decode', tmp_path / 'out',
                              tfds_data_dir=data_dir)
  skipped = skipped_of(out)
  assert skipped.pop('dev_clean#7').startswith(
      'data unreadable from this example on (DataLossError: truncated record')
  broken = order.index('84-7-0001')
  assert broken != 7  # TFDS's order is fixed by the keys; the cut does not take it first
  assert skipped.pop(f'dev_clean#{broken}').startswith('cannot decode audio')
  assert not skipped
  examples = all_examples(out)
  assert sorted(examples) == sorted(f'dev-clean/{i.split("-")[0]}/7/{i}.flac' for i in order[:7]
                                    if i != '84-7-0001')
  for name, ex in examples.items():
    stored, rate = soundfile.read(files / name.split('/')[-1], dtype='int16')
    assert rate == 16_000
    np.testing.assert_array_equal(ex['audio'], stored)


# --- nsynth: float audio, nested labels, its own splits -----------------------------------

def note(family, source, instrument, pitch, velocity, rate=16_000):
  """A 4 s decaying tone at the note's pitch, float32 [4 * rate] in [-1, 1]."""
  t = np.arange(4 * rate) / rate
  return (velocity / 127 * 0.8 * np.exp(-t) *
          np.sin(2 * np.pi * 440 * 2 ** ((pitch - 69) / 12) * t)).astype(np.float32)


def nsynth_row(family, source, instrument, pitch, velocity, x=None):
  sources = ('acoustic', 'electronic', 'synthetic')
  qualities = {q: q == catalog_mapping.NSYNTH_QUALITIES[pitch % 10] for q in catalog_mapping.NSYNTH_QUALITIES}
  return {'audio': note(family, source, instrument, pitch, velocity) if x is None else x,
          'id': f'{family}_{sources[source]}_{instrument:03d}-{pitch:03d}-{velocity:03d}',
          'instrument': {'family': family, 'source': source, 'label': instrument},
          'pitch': pitch, 'velocity': velocity, 'qualities': qualities}


def test_nsynth_labels_extras_and_splits_as_data_nsynth(tmp_path):
  data_dir = tmp_path / 'tfds'
  fake_catalog(data_dir, 'nsynth', {
      'train': [nsynth_row('bass', 1, 18, 40, 100), nsynth_row('guitar', 0, 3, 60, 50),
                nsynth_row('guitar', 0, 3, 62, 25, x=np.zeros(64_000, np.float32)),
                nsynth_row('guitar', 0, 3, 64, 25, x=np.full(64_000, np.nan, np.float32))],
      'valid': [nsynth_row('bass', 1, 18, 41, 100), nsynth_row('flute', 0, 2, 73, 50)],
      'test': [nsynth_row('guitar', 0, 3, 61, 75)]})
  out = catalog.build_catalog('nsynth', tmp_path / 'nsynth', tfds_data_dir=data_dir)
  assert split_sizes(out) == {'train': 2, 'validation': 2, 'test': 1}
  assert len(report_of(out)['class_names']) == 11  # the instrument families' ClassLabel
  assert sorted(skipped_of(out).values()) == ['all silence (loudest frame RMS 0.0e+00 <= '
                                              '0.0001)', 'non-finite samples']
  ex = read_examples(out, 'train')['guitar_acoustic_003-060-050']
  assert ex['label'] == 'guitar'
  assert (ex['pitch'], ex['velocity'], ex['instrument_family'], ex['instrument_source']) == (
      60, 50, 3, 0)
  np.testing.assert_array_equal(ex['qualities'], np.eye(10, dtype=np.int64)[0])
  np.testing.assert_array_equal(ex['audio'], audio.to_int16(note('guitar', 0, 3, 60, 50)))

  by_pitch = catalog.build_catalog('nsynth/full', tmp_path / 'pitch', tfds_data_dir=data_dir,
                                   label='pitch', sample_rate=8000)
  # Names come from the first pass, which reads no audio: 062 and 064 stay, with no example.
  assert report_of(by_pitch)['class_names'] == ['040', '041', '060', '061', '062', '064', '073']
  assert '062' not in report_of(by_pitch)['counts']['train']
  ex = read_examples(by_pitch, 'validation')['flute_acoustic_002-073-050']
  assert ex['label'] == '073' and ex['audio'].size == 32_000
  assert_close_to(ex['audio'], note('flute', 0, 2, 73, 50, rate=8000))

  by_instrument = catalog.build_catalog('nsynth', tmp_path / 'instrument',
                                        tfds_data_dir=data_dir, label='instrument')
  assert report_of(by_instrument)['class_names'] == [
      'bass_electronic_018', 'flute_acoustic_002', 'guitar_acoustic_003']


# --- any other entry: its fields named ----------------------------------------------------

def test_other_entry_by_its_fields_labels_by_name_not_index(tmp_path):
  # crema_d is not in CATALOG: one Audio feature, ClassLabel names in no order, text ids.
  data_dir = tmp_path / 'tfds'
  emotions = ['NEU', 'HAP', 'SAD']
  fake_catalog(data_dir, 'crema_d', {
      split: [{'audio': int16(sine(300 + 100 * k + 10 * i, 0.5, 0.2, 16_000)).astype(np.int64),
               'label': emotion, 'speaker_id': f'10{i + offset}'}
              for k, emotion in enumerate(emotions) for i in range(2)]
      for split, offset in [('train', 0), ('validation', 2)]})
  out = catalog.build_catalog('crema_d', tmp_path / 'out', tfds_data_dir=data_dir)
  assert report_of(out)['class_names'] == ['ANG', 'DIS', 'FEA', 'HAP', 'NEU', 'SAD']
  for ex in read_examples(out, 'validation').values():
    k = emotions.index(ex['label'])  # the catalog's index differs from ours
    assert any(np.array_equal(ex['audio'], int16(sine(300 + 100 * k + 10 * i, 0.5, 0.2, 16_000)))
               for i in range(2))

  speakers = prepare.prepare('tfds', 'crema_d', tmp_path / 'speakers', tfds_data_dir=data_dir,
                             label='speaker_id', audio_feature='audio')
  assert report_of(speakers)['counts'] == {'train': {'100': 3, '101': 3},
                                           'validation': {'102': 3, '103': 3}}
  with pytest.raises(building.DataError, match=r"label='gender' is not a label field of crema_d; "
                                             r"one of label, speaker_id$"):
    catalog.build_catalog('crema_d', tmp_path / 'x', tfds_data_dir=data_dir, label='gender')
  with pytest.raises(building.DataError, match=r"crema_d has no Audio feature 'speech' \(its "
                                             r"Audio features: audio\)"):
    catalog.build_catalog('crema_d', tmp_path / 'x', tfds_data_dir=data_dir,
                          audio_feature='speech')
  with pytest.raises(building.DataError, match='crema_d has no split dev; it has train, '
                                             'validation'):
    catalog.build_catalog('crema_d', tmp_path / 'x', tfds_data_dir=data_dir, splits='dev')
  with pytest.raises(building.DataError, match='validation_fraction=0.2: crema_d has its own'):
    catalog.build_catalog('crema_d', tmp_path / 'x', tfds_data_dir=data_dir,
                          validation_fraction=0.2)
  assert not (tmp_path / 'x').exists() and not leftovers(tmp_path)


# --- not prepared -------------------------------------------------------------------------

def tree(path):
  return sorted(os.path.relpath(os.path.join(d, n), path)
                for d, dirs, names in os.walk(path) for n in dirs + names)


def test_not_prepared_is_one_line_and_nothing_is_downloaded_or_written(tmp_path, monkeypatch):
  def no_download(self, *args, **kwargs):
    raise AssertionError(f'download_and_prepare called on {self.name}')
  monkeypatch.setattr(tfds.core.DatasetBuilder, 'download_and_prepare', no_download)
  data_dir = tmp_path / 'tfds'
  (data_dir / 'librispeech' / 'default' / '2.0.0').mkdir(parents=True)  # an older release
  (data_dir / 'librispeech' / 'default' / '2.0.0' / 'dataset_info.json').write_text('{}')
  before = tree(data_dir)
  out = tmp_path / 'out'
  for src, expected in [
      ('gtzan', f'tfds: gtzan is not prepared in {data_dir}: expected '
                f'{data_dir}/gtzan/1.0.0/dataset_info.json; this tool reads prepared data and '
                f'does not download'),
      ('librispeech', f'expected {data_dir}/librispeech/default/2.1.1/dataset_info.json; '
                      f'prepared there: 2.0.0 (name one as NAME[/CONFIG]:VERSION)'),
      ('no_such_dataset', "tfds: cannot open 'no_such_dataset': Dataset no_such_dataset not "
                          "found.")]:
    with pytest.raises(building.DataError) as error:
      prepare.prepare('tfds', src, out, tfds_data_dir=os.fspath(data_dir))
    message = str(error.value)
    assert expected in message and len(message.splitlines()) == 1, message
  assert prepare_command.main(['tfds', '--src=vctk', f'--out={out}', f'--tfds_data_dir={data_dir}']) == 2
  assert not out.exists() and not leftovers(tmp_path) and tree(data_dir) == before


# --- num_shards ---------------------------------------------------------------------------

def test_demo_with_several_shard_files_reads_back_the_same(tmp_path):
  options = ['--clip_seconds=0.05', '--train_per_class=3', '--validation_per_class=1']
  assert prepare_command.main(['demo', f'--out={tmp_path / "one"}'] + options) == 0
  assert prepare_command.main(['demo', f'--out={tmp_path / "four"}', '--num_shards=4'] + options) == 0
  one = tfds.builder_from_directory(os.fspath(tmp_path / 'one')).info.splits
  four = tfds.builder_from_directory(os.fspath(tmp_path / 'four')).info.splits
  assert len(one['train'].filenames) == 1 and len(four['train'].filenames) == 4
  assert len(four['validation'].filenames) == 4  # 6 clips
  for split in ('train', 'validation'):
    a, b = read_examples(tmp_path / 'one', split), read_examples(tmp_path / 'four', split)
    assert sorted(a) == sorted(b)
    for name in a:
      np.testing.assert_array_equal(a[name]['audio'], b[name]['audio'])
      assert a[name]['label'] == b[name]['label']
  with pytest.raises(building.DataError, match='num_shards=0: must be >= 1'):
    demo.build_demo(tmp_path / 'x', num_shards=0)
  with pytest.raises(building.DataError, match="gtzan: unknown option 'num_shards'"):
    prepare.prepare('gtzan', tmp_path, tmp_path / 'x', num_shards=2)
