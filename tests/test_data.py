"""datasets/: the demo corpus, the folder builder, the all-or-nothing write, prepare and resolve;
the data/prepare.py command.

Every dataset is read back through tfds.builder_from_directory, as training reads it.
"""
import hashlib
import itertools
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import soundfile
import tensorflow_datasets as tfds

from tests.corpus_trees import (assert_close_to, assert_skipped, leftovers, make_gtzan,
                                read_split, report_of, sine, split_sizes, stereo_44k, write)
from wavenet_jax.datasets import building
from wavenet_jax.datasets import demo
from wavenet_jax.datasets import folder
from wavenet_jax.datasets import prepare
from wavenet_jax.input import audio

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL_DEMO = dict(clip_seconds=0.25, train_per_class=3, validation_per_class=1)
VCTK_PATTERN = r'^(p\d+)_'


def add_bad_files(cls_dir, stem):
  """A corrupt, an empty and an all-silent file in cls_dir, with `stem` names."""
  cls_dir.mkdir(parents=True, exist_ok=True)
  (cls_dir / f'{stem}_corrupt.wav').write_bytes(np.random.default_rng(0).bytes(4000))
  (cls_dir / f'{stem}_empty.wav').write_bytes(b'')
  write(cls_dir / f'{stem}_silent.wav', np.zeros(4000), 16_000)


def make_vctk(root):
  """wav48/<speaker>/<speaker>_NNN[_mic1].(wav|flac) at 48 kHz, plus bad files."""
  src = root / 'wav48'
  for speaker, freq in [('p225', 200), ('p226', 120)]:
    write(src / speaker / f'{speaker}_001.wav', sine(freq, 0.5, 0.2, 48_000), 48_000)
    write(src / speaker / f'{speaker}_002_mic1.flac', sine(freq * 1.5, 0.5, 0.2, 48_000), 48_000)
  write(src / 'p225' / 'p225_003.wav', sine(250, 0.5, 0.2, 48_000), 48_000)
  write(src / 'p225' / 'p225_004.wav', np.zeros(9600), 48_000)  # all silence
  write(src / 'p225' / 'notes.wav', sine(250, 0.5, 0.2, 48_000), 48_000)  # no speaker id
  (src / 'p226' / 'p226_003.wav').write_bytes(np.random.default_rng(2).bytes(3000))
  write(src / 'p226' / 'p226_004.wav', stereo_44k(0.25)[0], 44_100)
  (src / 'p227').mkdir()
  (src / 'p227' / 'p227_001.wav').write_bytes(b'')  # p227 has no usable file
  (src / 'log.txt').write_text('recording log\n')
  return src


def assert_stereo_file_converted(out, relpath, seconds):
  examples = {**read_split(out, 'train'), **read_split(out, 'validation')}
  assert_close_to(examples[relpath][1], stereo_44k(seconds)[1])


def first_by_sha1(relpaths):
  return sorted(relpaths, key=lambda p: hashlib.sha1(p.encode()).hexdigest())[0]


# --- demo ---------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def demo_dir(tmp_path_factory):
  return demo.build_demo(tmp_path_factory.mktemp('demo') / 'ds', **SMALL_DEMO)


def test_demo_reads_back(demo_dir):
  builder = tfds.builder_from_directory(demo_dir)
  names = builder.info.features['label'].names
  assert names == sorted(demo.CLASS_NAMES) and len(names) >= 6
  assert builder.info.features['audio'].sample_rate == 16_000
  assert split_sizes(demo_dir) == {'train': 3 * len(names), 'validation': len(names)}
  for split in building.SPLITS:
    examples = read_split(demo_dir, split)
    assert len(examples) == split_sizes(demo_dir)[split]
    for filename, (label, x) in examples.items():
      assert filename.startswith(label + '/')
      assert x.dtype == np.int16 and x.shape == (4000,)
      assert 0.29 * 32768 <= np.abs(x.astype(np.int32)).max() <= 0.71 * 32768
  assert report_of(demo_dir)['counts']['validation'] == {name: 1 for name in names}


def test_demo_is_deterministic(demo_dir, tmp_path):
  again = demo.build_demo(tmp_path / 'again', **SMALL_DEMO)
  for split in building.SPLITS:
    first, second = read_split(demo_dir, split), read_split(again, split)
    assert sorted(first) == sorted(second)
    for filename in first:
      np.testing.assert_array_equal(first[filename][1], second[filename][1])
  # And the stored clip is the public synthesize() of its (class, split, index).
  label, x = read_split(demo_dir, 'validation')['bell/bell_validation_000']
  rng = demo.clip_rng('bell', 'validation', 0)
  np.testing.assert_array_equal(x, audio.to_int16(demo.synthesize('bell', rng, 4000, 16_000)))


def _descriptors(x, rate=16_000):
  """Scalars a listener would name: pitch, brightness, noisiness, decay, attacks, sweep."""
  x = audio.from_int16(x).astype(np.float64)
  power = np.abs(np.fft.rfft(x)) ** 2 + 1e-20
  freqs = np.fft.rfftfreq(x.size, 1 / rate)
  band = power[(freqs > 50) & (freqs < 6000)]
  quarter = x.size // 4
  frames = np.lib.stride_tricks.sliding_window_view(x, 512)[::256] * np.hanning(512)
  frame_rms = np.sqrt((frames ** 2).mean(1))
  peaks = np.fft.rfftfreq(512, 1 / rate)[np.abs(np.fft.rfft(frames, axis=1)).argmax(1)]
  return {
      'dominant_octave': np.log2(freqs[power.argmax()] + 1),
      'centroid_octave': np.log2((freqs * power).sum() / power.sum()),
      'log_flatness': np.log10(np.exp(np.log(band).mean()) / band.mean()),
      'log_decay': np.log10(np.sqrt((x[-quarter:] ** 2).mean() / (x[:quarter] ** 2).mean()) + 1e-4),
      'crest': frame_rms.max() / frame_rms.mean(),
      'sweep_octaves': np.log2((np.percentile(peaks, 90) + 50) / (np.percentile(peaks, 10) + 50)),
  }


def test_demo_classes_differ(demo_dir):
  examples = {**read_split(demo_dir, 'train'), **read_split(demo_dir, 'validation')}
  by_class = {}
  for label, x in examples.values():
    by_class.setdefault(label, []).append(_descriptors(x))
  # Every two classes are told apart by some descriptor whose ranges do not even overlap.
  for a, b in itertools.combinations(sorted(by_class), 2):
    apart = [key for key in by_class[a][0]
             if max(d[key] for d in by_class[a]) < min(d[key] for d in by_class[b])
             or max(d[key] for d in by_class[b]) < min(d[key] for d in by_class[a])]
    assert apart, (a, b)
  for label, x in examples.values():
    dominant = 2 ** _descriptors(x)['dominant_octave'] - 1
    if label == 'brass':
      assert 105 <= dominant <= 225
    if label == 'flute':
      assert 490 <= dominant <= 920


def test_nearest_class_places_real_clips():
  """The judge of generated demo audio, on real validation clips at the test's 8 kHz.

  Brass, chirp, drum and flute land on their own class; bell and pluck, whose pitch
  ranges overlap, often on each other. The feature is a share: it ignores loudness.
  """
  rate, n = 8000, 2000
  centroids = demo.class_centroids(rate, n)
  clips = np.stack([demo.synthesize(c, demo.clip_rng(c, 'validation', i), n, rate)
                    for c in demo.CLASS_NAMES for i in range(8)])
  nearest = demo.nearest_class(clips, centroids, rate).reshape(len(demo.CLASS_NAMES), 8)
  own = dict(zip(demo.CLASS_NAMES, (nearest == np.arange(len(demo.CLASS_NAMES))[:, None]).sum(axis=1)))
  assert all(own[c] >= 7 for c in ('brass', 'chirp', 'drum', 'flute')), own
  assert own['bell'] + own['pluck'] >= 6, own  # 3 + 4 measured; a broken feature scatters them
  share = demo.mel_power_share(clips[0], rate)
  np.testing.assert_allclose(share.sum(), 1.0, rtol=1e-12)
  np.testing.assert_allclose(demo.mel_power_share(0.1 * clips[0], rate), share, rtol=1e-4, atol=1e-9)


def test_synthesize_is_a_plain_function():
  for name in demo.CLASS_NAMES:
    x = demo.synthesize(name, np.random.default_rng(0), 3000, 22_050)
    assert x.dtype == np.float32 and x.shape == (3000,)
    assert 0.3 <= np.abs(x).max() <= 0.7 and np.all(np.isfinite(x))
  with pytest.raises(building.DataError, match='oboe'):
    demo.synthesize('oboe', np.random.default_rng(0), 100, 16_000)


# --- folder builder -----------------------------------------------------------------------

def test_gtzan_tree(tmp_path):
  src = make_gtzan(tmp_path)
  out = folder.build_folder(src, tmp_path / 'gtzan')  # label = parent folder
  builder = tfds.builder_from_directory(out)
  assert builder.info.features['label'].names == ['blues', 'jazz', 'rock']  # no metal
  assert builder.info.features['audio'].sample_rate == 16_000
  assert split_sizes(out) == {'train': 7, 'validation': 3}
  report = report_of(out)
  assert report['counts'] == {'train': {'blues': 3, 'jazz': 2, 'rock': 2},
                              'validation': {'blues': 1, 'jazz': 1, 'rock': 1}}
  assert_skipped(out, {
      'README.txt': 'not an audio file',
      'jazz/jazz.00054.wav': 'cannot decode',
      'metal/metal.00000.wav': 'cannot decode',
      'rock/rock.00009.wav': 'empty file',
      'rock/rock.00008.au': 'all silence',
  })
  validation = read_split(out, 'validation')
  for genre in ('blues', 'jazz', 'rock'):
    usable = [f'{genre}/{genre}.{i:05d}.au' for i in range(3)]
    usable += ['blues/blues.00007.wav'] if genre == 'blues' else []
    assert first_by_sha1(usable) in validation  # the sha1-first file of each class
  for filename, (label, x) in {**read_split(out, 'train'), **validation}.items():
    assert filename.split('/')[0] == label and x.dtype == np.int16
    if filename.endswith('.au'):
      assert abs(x.size - 4800) <= 1  # 0.3 s at 22.05 kHz -> 16 kHz
  assert_stereo_file_converted(out, 'blues/blues.00007.wav', 0.3)


def test_vctk_tree_by_pattern(tmp_path):
  src = make_vctk(tmp_path)
  out = prepare.prepare('vctk', src, tmp_path / 'vctk', sample_rate=16_000)
  assert tfds.builder_from_directory(out).info.features['label'].names == ['p225', 'p226']
  assert report_of(out)['counts'] == {'train': {'p225': 2, 'p226': 2},
                                      'validation': {'p225': 1, 'p226': 1}}
  assert_skipped(out, {
      'log.txt': 'not an audio file',
      'p225/notes.wav': 'does not match pattern',
      'p225/p225_004.wav': 'all silence',
      'p226/p226_003.wav': 'cannot decode',
      'p227/p227_001.wav': 'empty file',
  })
  examples = {**read_split(out, 'train'), **read_split(out, 'validation')}
  assert examples['p225/p225_002_mic1.flac'][0] == 'p225'
  assert abs(examples['p225/p225_001.wav'][1].size - 3200) <= 1  # 0.2 s at 48 kHz -> 16 kHz
  assert_stereo_file_converted(out, 'p226/p226_004.wav', 0.25)


def test_one_file_class_trains_and_bad_files_never_kill_a_build(tmp_path):
  src = tmp_path / 'src'
  write(src / 'solo' / 'a.wav', sine(300, 0.5, 0.1, 16_000), 16_000)
  add_bad_files(src / 'solo', 'x')
  for i in range(5):
    write(src / 'many' / f'{i}.flac', sine(500 + 50 * i, 0.5, 0.1, 16_000), 16_000)
  out = folder.build_folder(src, tmp_path / 'out', validation_fraction=0.5)
  assert report_of(out)['counts'] == {'train': {'many': 2, 'solo': 1}, 'validation': {'many': 3}}
  assert report_of(out)['num_skipped'] == 3


def test_files_with_nan_or_inf_samples_are_skipped_and_listed(tmp_path):
  src = tmp_path / 'src'
  for i in range(3):
    write(src / 'tone' / f'{i}.wav', sine(300 + 40 * i, 0.5, 0.1, 16_000), 16_000)
  for name, bad in (('nan', np.nan), ('inf', np.inf), ('neg_inf', -np.inf)):
    x = sine(400, 0.5, 0.1, 16_000)
    x[100] = bad
    soundfile.write(src / 'tone' / f'{name}.wav', x, 16_000, subtype='FLOAT')
  out = folder.build_folder(src, tmp_path / 'out', validation_fraction=0.34)
  assert_skipped(out, {f'tone/{n}.wav': 'non-finite samples' for n in ('nan', 'inf', 'neg_inf')})
  assert sum(report_of(out)['counts']['train'].values()) + sum(
      report_of(out)['counts']['validation'].values()) == 3


# --- all or nothing -----------------------------------------------------------------------

def test_failure_midway_leaves_nothing_and_a_rerun_succeeds(tmp_path, monkeypatch):
  src = make_gtzan(tmp_path)
  out = tmp_path / 'datasets' / 'gtzan'
  real_load, calls = audio.load, []

  def flaky_load(path, sample_rate):
    calls.append(path)
    if len(calls) == 3:
      raise RuntimeError('disk on fire')
    return real_load(path, sample_rate)

  monkeypatch.setattr(audio, 'load', flaky_load)
  with pytest.raises(RuntimeError, match='disk on fire'):
    folder.build_folder(src, out)
  assert not out.exists()
  assert os.listdir(out.parent) == []  # no OUT.partial-* left behind
  monkeypatch.setattr(audio, 'load', real_load)
  assert split_sizes(folder.build_folder(src, out)) == {'train': 7, 'validation': 3}
  assert os.listdir(out.parent) == ['gtzan']


def test_overwrite_replaces_only_after_success(tmp_path, monkeypatch):
  out = tmp_path / 'demo'
  demo.build_demo(out, **SMALL_DEMO)
  with pytest.raises(building.DataError, match=re.escape(str(out))):
    demo.build_demo(out, **SMALL_DEMO)
  # Fail inside TFDS's writing pass: the old dataset must survive untouched.
  real_synthesize, calls = demo.synthesize, []

  def flaky_synthesize(*args):
    calls.append(1)
    if len(calls) == 5:
      raise RuntimeError('killed')
    return real_synthesize(*args)

  monkeypatch.setattr(demo, 'synthesize', flaky_synthesize)
  with pytest.raises(RuntimeError, match='killed'):
    demo.build_demo(out, overwrite=True, clip_seconds=0.25, train_per_class=2,
                    validation_per_class=2)
  assert split_sizes(out) == {'train': 18, 'validation': 6}
  assert os.listdir(tmp_path) == ['demo']
  monkeypatch.setattr(demo, 'synthesize', real_synthesize)
  demo.build_demo(out, overwrite=True, clip_seconds=0.25, train_per_class=2,
                  validation_per_class=2)
  assert split_sizes(out) == {'train': 12, 'validation': 12}
  assert os.listdir(tmp_path) == ['demo']


def test_overwrite_never_deletes_a_directory_it_did_not_build(tmp_path):
  precious = tmp_path / 'home'
  precious.mkdir()
  (precious / 'thesis.tex').write_text('...')
  with pytest.raises(building.DataError, match='not a prepared dataset'):
    demo.build_demo(precious, overwrite=True, **SMALL_DEMO)
  assert os.listdir(precious) == ['thesis.tex']


# --- bad input ----------------------------------------------------------------------------

def test_missing_or_useless_src_names_the_path(tmp_path):
  out = tmp_path / 'out'
  missing = tmp_path / 'missing'
  with pytest.raises(building.DataError, match=re.escape(f'{missing}: no such directory')):
    folder.build_folder(missing, out)
  (tmp_path / 'a_file').write_text('x')
  with pytest.raises(building.DataError, match='not a directory'):
    folder.build_folder(tmp_path / 'a_file', out)
  text_only = tmp_path / 'text_only'
  (text_only / 'cls').mkdir(parents=True)
  (text_only / 'cls' / 'README.txt').write_text('x')
  with pytest.raises(building.DataError, match=re.escape(f'no usable audio files under {text_only}')):
    folder.build_folder(text_only, out)
  bad_only = tmp_path / 'bad_only'
  add_bad_files(bad_only / 'cls', 'x')
  with pytest.raises(building.DataError, match=r'under .*bad_only \(3 skipped: cls/x_corrupt'):
    folder.build_folder(bad_only, out)
  assert not out.exists() and not leftovers(tmp_path)
  singles = tmp_path / 'singles'
  for name in ('a', 'b'):
    write(singles / name / 'only.wav', sine(300, 0.5, 0.1, 16_000), 16_000)
  with pytest.raises(building.DataError, match='none is left for validation'):
    folder.build_folder(singles, out)
  with pytest.raises(building.DataError, match='validation_fraction=0'):
    folder.build_folder(singles, out, validation_fraction=0)
  assert not out.exists() and not leftovers(tmp_path)
  with pytest.raises(building.DataError, match='group'):
    folder.build_folder(bad_only, out, label_from='pattern', pattern='^p')
  with pytest.raises(building.DataError, match="unknown option 'clip_seconds'"):
    prepare.prepare('gtzan', bad_only, out, clip_seconds=1.0)
  with pytest.raises(building.DataError, match="'nsynth_raw' is not one of"):
    prepare.prepare('nsynth_raw', bad_only, out)


def run_cli(*args):
  return subprocess.run([sys.executable, os.path.join('data', 'prepare.py'), *args], cwd=REPO,
                        capture_output=True, text=True, timeout=120)


def test_cli_error_is_one_line_and_exit_2(tmp_path):
  missing = tmp_path / 'missing'
  result = run_cli('folder', f'--src={missing}', f'--out={tmp_path / "out"}')
  assert result.returncode == 2
  assert result.stderr.strip().splitlines() == [f'error: {missing}: no such directory']
  assert result.stdout == ''


def test_cli_builds_the_demo(tmp_path):
  out = tmp_path / 'demo'
  result = run_cli('demo', f'--out={out}')
  assert result.returncode == 0, result.stderr[-2000:]
  assert f'wrote {out}: train 192, validation 24 examples, 6 classes' in result.stdout
  assert split_sizes(out) == {'train': 192, 'validation': 24}


# --- resolve ------------------------------------------------------------------------------

@pytest.fixture
def count_builds(monkeypatch):
  real_build, builds = building.build, []

  def counting_build(out, *args, **kwargs):
    builds.append(out)
    return real_build(out, *args, **kwargs)

  monkeypatch.setattr(building, 'build', counting_build)
  return builds


def test_resolve_prepares_a_raw_tree_once(tmp_path, count_builds, capsys):
  src = make_gtzan(tmp_path)
  cache = tmp_path / 'cache'
  first = prepare.resolve(src, 'gtzan', cache)
  assert len(count_builds) == 1 and building.is_prepared(first)
  assert os.path.dirname(first) == str(cache) and os.path.basename(first).startswith('gtzan-')
  stamp = os.stat(os.path.join(first, 'dataset_info.json')).st_mtime_ns
  assert 'prepared gtzan dataset' in capsys.readouterr().out
  assert prepare.resolve(src, 'gtzan', cache) == first
  assert len(count_builds) == 1
  assert os.stat(os.path.join(first, 'dataset_info.json')).st_mtime_ns == stamp
  assert capsys.readouterr().out.strip() == f'reusing gtzan dataset {first}'
  assert prepare.resolve(first, 'gtzan', cache) == first  # a prepared dir is used as is
  assert prepare.resolve(src, 'gtzan', cache, validation_fraction=0.5) != first
  with pytest.raises(building.DataError, match=re.escape(str(tmp_path / 'nowhere'))):
    prepare.resolve(tmp_path / 'nowhere', 'gtzan', cache)


def test_resolve_builds_the_demo_once(tmp_path, count_builds):
  cache = tmp_path / 'cache'
  first = prepare.resolve('', 'demo', cache, **SMALL_DEMO)
  assert os.path.basename(first).startswith('demo-16000-')
  assert prepare.resolve(None, 'demo', cache, **SMALL_DEMO) == first
  assert len(count_builds) == 1
  assert split_sizes(first) == {'train': 18, 'validation': 6}
