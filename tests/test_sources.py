"""wavenet_jax/input/sources.py and the pipeline over it: mixing, remapping, exclusions, host ranges.

Expectations are computed from the datasets as TFDS reads them (as_dataset), not through
the code under test.
"""
import collections

import ml_collections
import numpy as np
import pytest
import tensorflow_datasets as tfds

from configs import default
from wavenet_jax.common.config_checks import ConfigError
from wavenet_jax.datasets import demo
from wavenet_jax.input import pipeline, sources

CLIP = 0.1  # seconds: 1,600 samples at 16 kHz


@pytest.fixture(scope='module')
def two_sets(tmp_path_factory):
  root = tmp_path_factory.mktemp('mix')
  a = demo.build_demo(root / 'a', train_per_class=3, validation_per_class=1, clip_seconds=CLIP)
  b = demo.build_demo(root / 'b', train_per_class=2, validation_per_class=1, clip_seconds=CLIP)
  return str(a), str(b)


def clips(data_dir, split):
  """[(class name, int16 audio)] of a split, read with TFDS itself."""
  builder = tfds.builder_from_directory(data_dir)
  names = builder.info.features['label'].names
  return [(names[ex['label']], ex['audio'])
          for ex in builder.as_dataset(split=split, shuffle_files=False).as_numpy_iterator()]


def data_config(source, **overrides):
  d = default.get_config().data
  d.source = source
  for k, v in overrides.items():
    d[k] = v
  return d


def resolve(source, corpus, options):
  del corpus, options
  return source


def mixed(a, b, **extra):
  """demo a without bell, plus demo b's drums relabelled bell (the swap-a-speaker study in miniature)."""
  return sources.from_config(data_config(
      a, exclude=('bell',),
      mix=(dict(source=b, corpus='demo', include=('drum',), rename=('drum=bell',)),), **extra),
      resolve)


def one_epoch(src, which='train', process_index=0, process_count=1):
  """[(class name, audio int16)] of one epoch of the training stream, crops = whole clips."""
  n = src.host_num_examples(which, process_index, process_count)
  length = int(CLIP * 16000)
  it = pipeline.train_iterator(
      src, which=which, seed=3, receptive_field=0, sample_size=length, batch_size=1,
      silence_threshold=0.0, shuffle_buffer=4, process_index=process_index,
      process_count=process_count)
  out = []
  for _ in range(n):
    batch = next(it)
    out.append((src.class_names[batch['label'][0]],
                np.round(batch['audio'][0] * 32768).astype(np.int16)))
  return out


def as_multiset(examples):
  return collections.Counter((name, audio.tobytes()) for name, audio in examples)


def test_mix_swaps_a_class_and_keeps_the_rest(two_sets):
  a, b = two_sets
  src = mixed(a, b)
  assert src.class_names == ['bell', 'brass', 'chirp', 'drum', 'flute', 'pluck']
  want = [(n, x) for n, x in clips(a, 'train') if n != 'bell']
  want += [('bell', x) for n, x in clips(b, 'train') if n == 'drum']
  assert src.host_num_examples('train') == len(want) == 5 * 3 + 2
  got = one_epoch(src)
  assert as_multiset(got) == as_multiset(want)  # the right clips under the right names
  counts = collections.Counter(n for n, _ in got)
  assert counts == {'bell': 2, 'brass': 3, 'chirp': 3, 'drum': 3, 'flute': 3, 'pluck': 3}


def test_counts_from_report_equal_a_counting_pass(two_sets, tmp_path):
  a, b = two_sets
  src = mixed(a, b)
  part = src.parts[0]
  assert part.filtered
  reads = src.host_reads('train')
  assert src.host_num_examples('train') == sum(
      sources._count_kept([r for r in reads if r.part == i], p.table) for i, p in enumerate(src.parts))


def test_two_hosts_read_disjoint_ranges_covering_the_split(two_sets):
  a, b = two_sets
  src = mixed(a, b)
  records = []
  for host in range(2):
    for r in src.host_reads('train', host, 2):
      records += [(r.part, r.filename, k) for k in range(r.skip, r.skip + r.take)]
  assert len(records) == len(set(records))  # no record read twice
  assert len(records) == sum(p.builder.info.splits['train'].num_examples for p in src.parts)
  epochs = [one_epoch(src, 'train', host, 2) for host in range(2)]
  both = as_multiset(epochs[0]) + as_multiset(epochs[1])
  assert both == as_multiset(one_epoch(src))  # the hosts together see the epoch once
  assert not set(as_multiset(epochs[0])) & set(as_multiset(epochs[1]))


def test_eval_batches_mix_validation_splits(two_sets):
  a, b = two_sets
  src = mixed(a, b)
  length = int(CLIP * 16000)
  batches = list(pipeline.eval_batches(
      src, which='eval', seed=0, receptive_field=0, sample_size=length, batch_size=4,
      silence_threshold=0.0))
  labels = np.concatenate([b_['label'][b_['mask'][:, 0] > 0] for b_ in batches])
  assert collections.Counter(src.class_names[i] for i in labels) == {
      'bell': 1, 'brass': 1, 'chirp': 1, 'drum': 1, 'flute': 1, 'pluck': 1}


def test_include_rename_merges_classes(two_sets):
  a, _ = two_sets
  src = sources.from_config(data_config(a, include=('bell', 'brass', 'flute'),
                                        rename=('brass=wind', 'flute=wind')), resolve)
  assert src.class_names == ['bell', 'wind']
  assert collections.Counter(n for n, _ in one_epoch(src)) == {'bell': 3, 'wind': 6}


def test_split_expressions_and_slices(two_sets):
  a, _ = two_sets
  src = sources.from_config(data_config(a, train_split='train+validation', exclude=('drum',)),
                            resolve)
  assert src.host_num_examples('train') == 5 * 4  # from the build report
  src = sources.from_config(data_config(a, train_split='train[:50%]', exclude=('drum',)), resolve)
  kept = [n for n, _ in clips(a, 'train[:50%]') if n != 'drum']
  assert src.host_num_examples('train') == len(kept)  # a slice: counted by a pass


def test_class_names_from_a_previous_run_come_first(two_sets, tmp_path):
  a, _ = two_sets
  previous = ['pluck', 'bell', 'zither']
  src = sources.from_config(data_config(a, class_names_from='runs/x', exclude=('chirp',)), resolve,
                            class_names_of=lambda path: previous)
  assert src.class_names == ['pluck', 'bell', 'zither', 'brass', 'drum', 'flute']
  got = one_epoch(src)
  want = [(n, x) for n, x in clips(a, 'train') if n != 'chirp']
  assert as_multiset(got) == as_multiset(want)


@pytest.mark.parametrize('overrides, needle', [
    (dict(exclude=('violin',)), "data.exclude: 'violin' not among the classes"),
    (dict(rename=('bell',)), "data.rename: 'bell' is not 'old=new'"),
    (dict(include=('bell',), exclude=('bell',)), 'leave none of the classes'),
    (dict(mix=(dict(source='', corpus='gtzan'),)), 'data.mix[0].source: required'),  # only the demo needs none
    (dict(mix=(dict(sorce='x'),)), "data.mix[0]: unknown key 'sorce'"),
    (dict(train_split='test'), "has no split 'test'"),
    (dict(sample_rate=22050), 'holds audio at 16000 Hz'),
])
def test_bad_mixes_fail_in_one_line(two_sets, overrides, needle):
  a, _ = two_sets
  with pytest.raises(ConfigError) as e:
    src = sources.from_config(data_config(a, **overrides), resolve)
    src.host_num_examples('train')
  assert needle in str(e.value) and '\n' not in str(e.value)


def test_options_parse_numbers_and_booleans():
  assert sources.options_of('k', ('mic=2', 'esc10=true', 'subsets=a,b', 'x=0.5')) == {
      'mic': 2, 'esc10': True, 'subsets': 'a,b', 'x': 0.5}
  assert isinstance(ml_collections.ConfigDict({'o': ('a=1',)}).o, tuple)


def test_augmentation_in_the_stream_keeps_crops_and_meets_the_snr(two_sets):
  from wavenet_jax.input import augment
  a, _ = two_sets
  src = sources.from_config(data_config(a), resolve)
  cfg = dict(mode='additive', noise='laplacian', snr_db=(5.0, 15.0))
  kwargs = dict(which='train', seed=3, receptive_field=0, sample_size=int(CLIP * 16000),
                batch_size=6, silence_threshold=0.0, shuffle_buffer=4)
  clean = next(pipeline.train_iterator(src, **kwargs))
  noisy = [next(pipeline.train_iterator(src, augment=augment.from_config(cfg), **kwargs))
           for _ in range(2)]
  np.testing.assert_array_equal(noisy[0]['audio'], noisy[1]['audio'])  # deterministic
  np.testing.assert_array_equal(noisy[0]['label'], clean['label'])  # same clips, same order
  x, y = clean['audio'].astype(np.float64), noisy[0]['audio'].astype(np.float64)
  snr = 10 * np.log10(np.sum(x**2, 1) / np.sum((y - x)**2, 1))
  assert np.all((snr > 5 - 1e-2) & (snr < 15 + 1e-2)), snr
  assert augment.applies_to(cfg, 'train') and not augment.applies_to(cfg, 'validation')


def test_crops_with_context_after_start_on_the_hop_and_mask_what_lies_past_the_clip(two_sets):
  """A vocoder's crops: receptive field + sample_size + context_after samples whose predicted
  part starts at a multiple of `align` in its clip; the context past the clip's end is zeros
  under mask 0 (the context before it stays ibab's silence, under mask 1)."""
  src = sources.from_config(data_config(two_sets[0]), resolve)
  by_audio = [a.astype(np.float32) / 32768 for _, a in clips(two_sets[0], 'train')]
  rf, size, after, hop = 10, 64, 700, 16  # 700 > the last crop's room: some run past the end
  it = pipeline.train_iterator(src, seed=5, receptive_field=rf, sample_size=size, batch_size=1,
                               silence_threshold=0.0, shuffle_buffer=4, context_after=after, align=hop)
  past_end = 0
  for _ in range(40):
    batch = next(it)
    crop, mask = batch['audio'][0], batch['mask'][0]
    assert crop.shape == (rf + size + after,)
    [(clip, start)] = [(c, i) for c in by_audio for i in range(len(c) - size + 1)
                       if np.array_equal(c[i:i + size], crop[rf:rf + size])]
    assert start % hop == 0
    want = np.concatenate([np.zeros(rf), clip, np.zeros(after)])[start:start + rf + size + after]
    np.testing.assert_array_equal(crop, want)
    inside = np.arange(rf + size + after) < rf + len(clip) - start
    np.testing.assert_array_equal(mask, inside.astype(np.float32))
    past_end += int(not inside.all())
  assert past_end > 0
