"""How a TFDS catalog dataset's features map onto ours (datasets/catalog.py builds with it):
which feature is the audio, which the label and its class names, the filename, extras.

The known entries (CATALOG):

  entry        audio, as stored       label: default (others)        extra features
  gtzan        audio int64 22,050 Hz  label, the genre               -
  vctk         speech int16 48 kHz    speaker (accent, gender)       gender, accent: Text
  librispeech  speech int16 16 kHz    speaker_id, 84 -> '84'         speaker_id, chapter_id:
                                                                     int64; subset: Text
  ljspeech     speech int16 22,050 Hz speaker: 'LJ', one class       text, text_normalized: Text
  nsynth       audio float32 16 kHz   instrument_family              pitch, velocity,
                                      (instrument_source,            instrument_family,
                                      instrument, pitch, velocity)   instrument_source,
                                                                     qualities: int64

nsynth's label options, their class names ('040', 'bass_synthetic_033') and its extras
are datasets/nsynth.py's. librispeech's and ljspeech's filenames are datasets/librispeech.py's
(`dev-clean/84/121123/84-121123-0000.flac`) and datasets/ljspeech.py's (`wavs/LJ001-0001.wav`),
so their examples get the names, labels and train/validation split a build from the raw
corpus gives them; gtzan's is
`<genre>/<file>` as in datasets/gtzan.py. Any other entry: the audio is its one Audio
feature or `audio_feature`; `label` names a ClassLabel, integer or text field (nested
ones as 'instrument/family'), by default the supervised target when it is one of those.
"""
import collections
import re

import numpy as np
import tensorflow_datasets as tfds

from wavenet_jax.datasets import building

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
  return f'{int(value):03d}'  # as datasets/nsynth.py: names sort numerically


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
        # datasets/gtzan.py's <genre>/<file>
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
    'ljspeech': Entry(
        # One speaker: the label is datasets/ljspeech.py's default class, whatever the id.
        audio='speech', label='speaker', aliases={'speaker': Label('id', lambda v, f: 'LJ')},
        filename=lambda ex, split, f: f'wavs/{_text(ex["id"])}.wav',  # datasets/ljspeech.py's
        extras={key: Extra(tfds.features.Text(), lambda ex, split, f, key=key: _text(ex[key]))
                for key in ('text', 'text_normalized')},
        pool=False),
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
    raise building.DataError(f'tfds: {builder.name} has Audio features '
                             f'{", ".join(audio_keys) or "none"}; name one with --audio_feature')
  key = key or audio_keys[0]
  if key not in audio_keys:
    raise building.DataError(f'tfds: {builder.name} has no Audio feature {key!r} (its Audio '
                           f'features: {", ".join(audio_keys) or "none"})')
  if not features[key].sample_rate:
    raise building.DataError(f'tfds: {builder.name}: Audio feature {key!r} declares no sample rate')
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
    raise building.DataError(
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


def filename_of(mapping, example, split, index, features):
  if mapping.filename is None:
    return f'{split}#{index}'
  return mapping.filename(example, split, features)
