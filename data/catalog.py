"""A TFDS catalog dataset already prepared in a data_dir -> prepared dataset.

  python data/prepare.py tfds --src=gtzan --out=/data/gtzan --tfds_data_dir=gs://bucket/tfds
  python data/prepare.py tfds --src=librispeech/default:2.1.1 --out=/data/libri \\
      --splits=train_clean100,dev_clean
  python data/prepare.py tfds --src=nsynth/gansynth_subset --out=/data/ns --label=pitch

src names the entry as TFDS does, NAME[/CONFIG][:VERSION]. Only data TFDS has already
prepared (`tfds build`, tfds.load) in tfds_data_dir (default: TFDS's own,
$TFDS_DATA_DIR or ~/tensorflow_datasets) is read. This tool never downloads: when the
data is not there it says where it was expected.

How the known entries (CATALOG) map onto our features:

  entry        audio, as stored       label: default (others)        extra features
  gtzan        audio int64 22,050 Hz  label, the genre               -
  vctk         speech int16 48 kHz    speaker (accent, gender)       gender, accent: Text
  librispeech  speech int16 16 kHz    speaker_id, 84 -> '84'         speaker_id, chapter_id:
                                                                     int64; subset: Text
  nsynth       audio float32 16 kHz   instrument_family              pitch, velocity,
                                      (instrument_source,            instrument_family,
                                      instrument, pitch, velocity)   instrument_source,
                                                                     qualities: int64

nsynth's label options, their class names ('040', 'bass_synthetic_033') and its extras
are data/nsynth.py's. librispeech's filename is data/librispeech.py's
(`dev-clean/84/121123/84-121123-0000.flac`), so its examples get the names, labels and
train/validation split a build from the raw corpus gives them; gtzan's is
`<genre>/<file>` as in data/gtzan.py. Any other entry: the audio is its one Audio
feature or `audio_feature`; `label` names a ClassLabel, integer or text field (nested
ones as 'instrument/family'), by default the supervised target when it is one of those.

Splits. A catalog split maps by name: train and train_* -> train; validation, valid,
val, dev and their _* forms -> validation; test and test_* -> test; any other name
stays a split of its own. `splits` picks catalog splits ('train_clean100,dev_clean';
default all). When none of the picked splits maps onto validation (gtzan and vctk have
only train), validation is drawn per class from train as in the file corpora
(folder.split_of, validation_fraction, default 0.1). LibriSpeech's subsets have
disjoint speakers, so all picked subsets are pooled and then drawn, as data/librispeech.py does.

Class names: a ClassLabel label keeps all its catalog names (a class with no usable
example stays, as ESC-50's do); any other label's names are the values a first pass
finds. That pass reads everything but the audio (tfds PartialDecoding), so an example
whose audio turns out bad still names its class. It runs only when those names or a
drawn validation are needed; TFDS's write is the second pass.

Audio: integers are 16-bit PCM (TFDS widens it to int64 for some entries), floats are
taken as they are; channels are averaged and the catalog's rate resampled to
sample_rate as for audio files. An example is skipped and reported as `<catalog
split>#<index in read order>` when its audio is empty, non-finite, beyond 16 bits, all
silence, or (stored lazily as a file) does not decode; when it has no label; and from
where a data file of its split breaks off (DataLossError). Any other read error (a
gs:// read that fails) aborts the build, which then leaves nothing.
"""
import collections
import io
import re

import numpy as np
import tensorflow_datasets as tfds

from data import common
from data import folder
from data import nsynth
from wavenet_jax import audio

# Ours <- catalog split names equal to, or starting with `name_`, one of these.
SPLIT_NAMES = {'train': ('train',), 'validation': ('validation', 'valid', 'val', 'dev'),
               'test': ('test',)}
NSYNTH_QUALITIES = ('bright', 'dark', 'distortion', 'fast_decay', 'long_release',
                    'multiphonic', 'nonlinear_env', 'percussive', 'reverb', 'tempo-synced')
FILENAME_FIELDS = ('id', 'audio/filename', 'filename')  # of an entry not in CATALOG

# field: a feature path. name: (value, its feature) -> class name, None for the default
# (a ClassLabel's name, a string, an integer written out).
Label = collections.namedtuple('Label', 'field name', defaults=(None,))
# feature: ours. value: (catalog example, catalog split, catalog features) -> its value.
Extra = collections.namedtuple('Extra', 'feature value')
# label: the default label, an alias or a field. aliases: {option: Label}. filename:
# like Extra.value -> str, or None for the first of FILENAME_FIELDS. pool: the catalog's
# splits do not fit its labels, so all are pooled and validation is drawn.
Entry = collections.namedtuple('Entry', 'audio label aliases filename extras pool')


def _text(value):
  return value.decode('utf-8', errors='replace') if isinstance(value, bytes) else str(value)


def _int_name(value, feature):
  del feature  # a ClassLabel whose index is the number itself (MIDI pitch, velocity)
  return f'{int(value):03d}'  # as data/nsynth.py: names sort numerically


def _librispeech_subset(split):
  """TFDS's split name -> the subset folder's: train_clean100 -> train-clean-100."""
  return re.sub(r'(?<=[a-z])(\d+)$', r'-\1', split.replace('_', '-'))


def _named(field):
  """Extra: a ClassLabel field as its class name (Text), as the raw corpora store it."""
  return Extra(tfds.features.Text(), lambda ex, split, f: f[field].int2str(int(ex[field])))


def _int(*chain):
  """Extra: an integer field (a ClassLabel by its index), int64."""
  return Extra(tfds.features.Scalar(np.int64), lambda ex, split, f: int(_get(ex, chain)))


CATALOG = {
    'gtzan': Entry(
        audio='audio', label='label', aliases={},
        # data/gtzan.py's <genre>/<file>
        filename=lambda ex, split, f: (f'{f["label"].int2str(int(ex["label"]))}/'
                                       f'{_text(ex["audio/filename"])}'),
        extras={}, pool=False),
    'vctk': Entry(
        audio='speech', label='speaker', aliases={}, filename=None,
        extras={'gender': _named('gender'), 'accent': _named('accent')}, pool=False),
    'librispeech': Entry(
        audio='speech', label='speaker_id', aliases={},
        filename=lambda ex, split, f: (f'{_librispeech_subset(split)}/{ex["speaker_id"]}/'
                                       f'{ex["chapter_id"]}/{_text(ex["id"])}.flac'),
        extras={'speaker_id': _int('speaker_id'), 'chapter_id': _int('chapter_id'),
                'subset': Extra(tfds.features.Text(),
                                lambda ex, split, f: _librispeech_subset(split))},
        pool=True),
    'nsynth': Entry(
        audio='audio', label='instrument_family',
        aliases={'instrument_family': Label('instrument/family'),
                 'instrument_source': Label('instrument/source'),
                 # TFDS numbers instruments; the note id starts with magenta's name for one.
                 'instrument': Label('id', lambda v, f: _text(v).rsplit('-', 2)[0]),
                 'pitch': Label('pitch', _int_name),
                 'velocity': Label('velocity', _int_name)},
        filename=None,
        extras={'pitch': _int('pitch'), 'velocity': _int('velocity'),
                'instrument_family': _int('instrument', 'family'),
                'instrument_source': _int('instrument', 'source'),
                'qualities': Extra(
                    tfds.features.Tensor(shape=(len(NSYNTH_QUALITIES),), dtype=np.int64),
                    lambda ex, split, f: np.array([ex['qualities'][q] for q in NSYNTH_QUALITIES],
                                                  np.int64))},
        pool=False),
}


def our_split(name):
  """A catalog split's name -> ours (SPLIT_NAMES); other names are kept."""
  for ours, names in SPLIT_NAMES.items():
    if any(name == n or name.startswith(n + '_') for n in names):
      return ours
  return name


def open_builder(src, data_dir=None):
  """The catalog builder for src (NAME[/CONFIG][:VERSION]) reading its prepared data."""
  try:
    builder = tfds.builder(src, data_dir=data_dir)
  except (ValueError, AssertionError) as e:  # DatasetNotFoundError is a ValueError
    # TFDS lists every dataset it knows after the first line.
    raise common.DataError(f'tfds: cannot open {src!r}: {str(e).splitlines()[0]}') from None
  if not builder.is_prepared():
    where = builder.data_path
    try:
      versions = sorted(p.name for p in where.parent.iterdir()
                        if (p / 'dataset_info.json').exists())
    except OSError:  # no such folder (pathlib and gs:// paths raise different subclasses)
      versions = []
    found = (f'; prepared there: {", ".join(versions)} (name one as NAME[/CONFIG]:VERSION)'
             if versions else '')
    raise common.DataError(f'tfds: {src} is not prepared in {builder.data_dir_root}: expected '
                           f'{where}/dataset_info.json{found}; this tool reads prepared data '
                           f'and does not download (prepare it with `tfds build`)')
  return builder


def _chain(features, path):
  """The keys leading to `path` in nested features: 'instrument/family' -> [instrument,
  family]; a key may itself hold '/' (gtzan's 'audio/filename'). None when absent."""
  if path in features.keys():
    return [path]
  parts = path.split('/')
  for i in range(1, len(parts)):
    head = '/'.join(parts[:i])
    if head in features.keys() and isinstance(features[head], tfds.features.FeaturesDict):
      rest = _chain(features[head], '/'.join(parts[i:]))
      if rest:
        return [head] + rest
  return None


def _get(tree, chain):
  for key in chain:
    tree = tree[key]
  return tree


def _paths(features, prefix=''):
  """Every leaf feature as (path, feature), nested ones as 'a/b'."""
  for key in features.keys():
    if isinstance(features[key], tfds.features.FeaturesDict):
      yield from _paths(features[key], f'{prefix}{key}/')
    else:
      yield prefix + key, features[key]


def _is_label(feature):
  """A ClassLabel, or one integer or string per example."""
  if isinstance(feature, tfds.features.ClassLabel):
    return True
  if isinstance(feature, tfds.features.FeaturesDict) or feature.shape != ():
    return False
  return np.dtype(feature.np_dtype).kind in 'iuOSU'


def _is_lazy(feature):
  """True when TFDS stored the audio file as it is (decoded only on reading)."""
  return bool(getattr(feature.to_json_content(), 'lazy_decode', False))


# What the build reads from an entry. label: Label with its field's key chain. class_names:
# the catalog's, for a plain ClassLabel label, else None (found by the first pass).
Mapping = collections.namedtuple(
    'Mapping', 'audio rate lazy label label_chain label_feature class_names filename extras pool')


def map_features(builder, label=None, audio_feature=None):
  """The Mapping of builder's features onto ours; DataError naming the fields there are."""
  entry = CATALOG.get(builder.name)
  features = builder.info.features
  audio_key = _audio_key(builder, audio_feature or (entry.audio if entry else None))
  spec, chain = _label(builder, label, entry)
  label_feature = _get(features, chain)
  plain = isinstance(label_feature, tfds.features.ClassLabel) and spec.name is None
  return Mapping(audio=audio_key, rate=int(features[audio_key].sample_rate),
                 lazy=_is_lazy(features[audio_key]), label=spec, label_chain=chain,
                 label_feature=label_feature,
                 class_names=list(label_feature.names) if plain else None,
                 filename=entry.filename if entry and entry.filename else _filename(features),
                 extras=dict(entry.extras) if entry else {}, pool=bool(entry and entry.pool))


def _audio_key(builder, key):
  """The top-level Audio feature named `key`, or the only one when key is None."""
  features = builder.info.features
  audio_keys = [k for k in features.keys() if isinstance(features[k], tfds.features.Audio)]
  if key is None and len(audio_keys) != 1:
    raise common.DataError(f'tfds: {builder.name} has Audio features '
                           f'{", ".join(audio_keys) or "none"}; name one with --audio_feature')
  key = key or audio_keys[0]
  if key not in audio_keys:
    raise common.DataError(f'tfds: {builder.name} has no Audio feature {key!r} (its Audio '
                           f'features: {", ".join(audio_keys) or "none"})')
  if not features[key].sample_rate:
    raise common.DataError(f'tfds: {builder.name}: Audio feature {key!r} declares no sample rate')
  return key


def _label(builder, label, entry):
  """(Label, its field's key chain) for the label option (None: the entry's default)."""
  features = builder.info.features
  aliases = entry.aliases if entry else {}
  if label is None and entry:
    label = entry.label
  elif label is None:
    keys = builder.info.supervised_keys  # (input, target) when the target is one field
    label = keys[1] if keys and len(keys) == 2 and isinstance(keys[1], str) else None
  spec = aliases.get(label) or Label(label)
  chain = _chain(features, spec.field) if label else None
  if chain is None or not _is_label(_get(features, chain)):
    fields = [path for path, feature in _paths(features) if _is_label(feature)]
    choices = ', '.join(list(aliases) + [p for p in fields if p not in aliases]) or 'none'
    raise common.DataError(
        f'tfds: label={label!r} is not a label field of {builder.name}; one of {choices}'
        if label else f'tfds: {builder.name} has no default label; name one with --label '
        f'(one of {choices})')
  return spec, chain


def _filename(features):
  """(example, split, features) -> filename from the first of FILENAME_FIELDS there is,
  or None (the build then names examples <split>#<index>)."""
  for path in FILENAME_FIELDS:
    chain = _chain(features, path)
    if chain and _is_label(_get(features, chain)) and np.dtype(
        _get(features, chain).np_dtype).kind in 'OSU':  # one string per example
      return lambda ex, split, f, chain=chain: _text(_get(ex, chain))
  return None


def class_name(mapping, example):
  """The example's class name, or None when it has no label."""
  value = _get(example, mapping.label_chain)
  if mapping.label.name is not None:
    name = mapping.label.name(value, mapping.label_feature)
  elif isinstance(mapping.label_feature, tfds.features.ClassLabel):
    # TFDS writes -1 for an example whose label is unknown.
    name = mapping.label_feature.int2str(int(value)) if int(value) >= 0 else None
  else:
    name = _text(value) if isinstance(value, bytes) else str(int(value))
  return name or None


def _tf_reason(error):
  """TF's error message without the op and function names around it."""
  return re.sub(r'\{\{.*?\}\}\s*|\s*\[Op:.*', '', error.message.splitlines()[0])


def read(builder, split, decoders=None):
  """(index, example, None) of a catalog split in its stored order, or at the end
  (index of the first example lost, None, why) when a data file of it breaks off."""
  import tensorflow as tf  # as nsynth.py: on first use, so CLI errors come first
  dataset = builder.as_dataset(split=split, shuffle_files=False, decoders=decoders)
  iterator = iter(tfds.as_numpy(dataset))
  index = 0
  while True:
    try:
      example = next(iterator)
    except StopIteration:
      return
    # Truncated or corrupt data; an unreachable gs:// path or a permission error is not
    # the data's fault, so it aborts the build instead of being reported as skipped.
    except tf.errors.DataLossError as e:
      yield index, None, f'data unreadable from this example on (DataLossError: {_tf_reason(e)})'
      return
    yield index, example, None
    index += 1


def survey(builder, mapping, splits):
  """First pass, everything but the audio -> {catalog split: [(filename, class name)]}."""
  features = builder.info.features
  # Leaving the audio out of the parse spec, not only out of decoding, saves its copy.
  rest = tfds.decode.PartialDecoding({key: True for key in features.keys()
                                      if key != mapping.audio})
  found = {}
  for split in splits:
    rows = found[split] = []
    for index, example, error in read(builder, split, rest):
      if error:
        break  # the writing pass reports it, as it meets the same break
      if index and index % 50_000 == 0:
        print(f'surveyed {split}#{index}')
      rows.append((filename_of(mapping, example, split, index, features),
                   class_name(mapping, example)))
  return found


def filename_of(mapping, example, split, index, features):
  if mapping.filename is None:
    return f'{split}#{index}'
  return mapping.filename(example, split, features)


def to_float(value, rate, lazy):
  """The catalog's audio value -> (float32 [T] mono, its rate); ValueError saying why not."""
  if lazy:  # the file's bytes
    import soundfile
    try:
      x, rate = soundfile.read(io.BytesIO(value), dtype='float32', always_2d=True)  # [T, C]
    except Exception as e:  # as audio.load: decoders raise a zoo of types
      raise ValueError(f'cannot decode audio ({type(e).__name__}: {e})') from None
  else:
    x = np.asarray(value)  # [T] or [T, C]
    if x.dtype.kind in 'iu' and x.size:
      low, high = int(x.min()), int(x.max())
      if low < -32768 or high > 32767:
        raise ValueError(f'samples {low}..{high} are not 16-bit PCM')
      x = x.astype(np.float32) / 32768
  x = np.asarray(x, np.float32)
  if x.ndim == 2:
    x = x.mean(axis=1)
  if x.size == 0:
    raise ValueError('no samples')
  if not np.all(np.isfinite(x)):
    raise ValueError('non-finite samples')
  return x, int(rate)


class CatalogAudio(common.AudioBuilder, skip_registration=True):
  """Converts the catalog's examples as TFDS reads them; splits were fixed beforehand."""
  DESCRIPTION = 'A TFDS catalog dataset, prepared by data/catalog.py.'

  def __init__(self, *, source, mapping, sources, surveyed, drawn, silence_threshold, **kwargs):
    self._source = source  # the catalog builder
    self._mapping = mapping
    self._sources = sources  # our split -> [catalog splits]
    self._surveyed = surveyed  # {catalog split: [(filename, class name)]} or None
    self._drawn = drawn  # {catalog split: {index: our split}} where validation is drawn
    self._silence_threshold = silence_threshold
    self._reported = set()
    super().__init__(extra_features={k: e.feature for k, e in mapping.extras.items()}, **kwargs)

  def _skip(self, where, reason):
    # A catalog split feeding train and drawn validation is read once for each.
    if where not in self._reported:
      self._reported.add(where)
      self.skipped.append((where, reason))

  def _generate_examples(self, split):
    mapping, features = self._mapping, self._source.info.features
    # Lazily stored audio is decoded here, so a file that does not decode is one skip,
    # not an error ending TFDS's read.
    decoders = {mapping.audio: tfds.decode.SkipDecoding()} if mapping.lazy else None
    written = 0
    for catalog_split in self._sources[split]:
      for index, example, error in read(self._source, catalog_split, decoders):
        where = f'{catalog_split}#{index}'
        if error:
          self._skip(where, error)
          break
        filename = filename_of(mapping, example, catalog_split, index, features)
        name = class_name(mapping, example)
        if self._surveyed is not None:
          rows = self._surveyed[catalog_split]
          if index >= len(rows) or rows[index] != (filename, name):
            raise RuntimeError(f'{where}: reads as {(filename, name)}, but the first pass read '
                               f'{rows[index] if index < len(rows) else "nothing"} there; did '
                               f'the data change during the build?')
        if name is None:
          self._skip(where, f'no {mapping.label.field} label')
          continue
        if catalog_split in self._drawn and self._drawn[catalog_split][index] != split:
          continue
        try:
          x, rate = to_float(example[mapping.audio], mapping.rate, mapping.lazy)
          reason = folder.silence_reason(x, self._silence_threshold)
          if reason:
            raise ValueError(reason)
        except ValueError as e:
          self._skip(where, str(e))
          continue
        x = nsynth.resample(x, rate, self.sample_rate)  # [T] float32
        written += 1
        yield where, {'audio': audio.to_int16(x), 'label': name, 'filename': filename,
                      **{k: e.value(example, catalog_split, features)
                         for k, e in mapping.extras.items()}}
    if not written:
      skipped = [item for item in self.skipped if item[0].split('#')[0] in self._sources[split]]
      raise common.DataError(f'tfds: no usable example for split {split} in '
                             f'{", ".join(self._sources[split])} ({len(skipped)} skipped: '
                             f'{folder.summary(skipped)})')


def pick_splits(builder, splits, src):
  """The catalog splits named by `splits` ('a,b', a list, or None for all)."""
  available = list(builder.info.splits.keys())
  if not splits:
    return available
  wanted = [s.strip() for s in (splits.split(',') if isinstance(splits, str) else splits)]
  missing = [s for s in wanted if s not in available]
  if missing or not wanted:
    raise common.DataError(f'tfds: {src} has no split {", ".join(missing) or "named"}; '
                           f'it has {", ".join(available)}')
  return wanted


def build_catalog(src, out, sample_rate=16000, tfds_data_dir=None, label=None,
                  audio_feature=None, splits=None, validation_fraction=None,
                  silence_threshold=folder.SILENCE_THRESHOLD, overwrite=False):
  """Prepares the catalog dataset src, as prepared in tfds_data_dir, at `out`; returns `out`."""
  folder.check_options(sample_rate, validation_fraction)
  source = open_builder(src, tfds_data_dir)
  mapping = map_features(source, label, audio_feature)
  picked = pick_splits(source, splits, src)
  mapped = {s: 'train' if mapping.pool else our_split(s) for s in picked}
  draw = 'train' in mapped.values() and 'validation' not in mapped.values()
  if validation_fraction is not None and not draw:
    raise common.DataError(f'validation_fraction={validation_fraction}: {src} has its own '
                           f'validation split, so none is drawn')
  ours = [s for s in SPLIT_NAMES if s in mapped.values()] + list(dict.fromkeys(
      s for s in mapped.values() if s not in SPLIT_NAMES))
  sources = {s: [c for c in picked if mapped[c] == s] for s in ours}

  def make_builder(tmp):
    # Inside build, so that a refused `out` fails before the first pass reads everything.
    surveyed = survey(source, mapping, picked) if draw or mapping.class_names is None else None
    class_names = mapping.class_names or sorted(
        {name for rows in surveyed.values() for _, name in rows if name})
    if not class_names:
      raise common.DataError(f'tfds: no labelled example in {src} ({", ".join(picked)})')
    drawn, written, read_from = {}, list(ours), dict(sources)
    if draw:
      files = [folder.File(filename, name) for c in sources['train']
               for filename, name in surveyed[c] if name]
      assigned = folder.split_of(files, 0.1 if validation_fraction is None
                                 else validation_fraction)
      if 'validation' not in assigned.values():
        raise common.DataError(f'tfds: every class of {src} has a single labelled example, '
                               f'so none is left for validation')
      drawn = {c: {i: assigned[filename] for i, (filename, name) in enumerate(surveyed[c])
                   if name} for c in sources['train']}
      read_from['validation'] = sources['train']
      written.insert(written.index('train') + 1, 'validation')
    return CatalogAudio(source=source, mapping=mapping, sources=read_from, surveyed=surveyed,
                        drawn=drawn, silence_threshold=silence_threshold,
                        class_names=class_names, sample_rate=sample_rate, splits=written,
                        data_dir=tmp)

  return common.build(out, make_builder, overwrite=overwrite)
