"""A TFDS catalog dataset already prepared in a data_dir -> prepared dataset.

  python data/prepare.py tfds --src=gtzan --out=/data/gtzan --tfds_data_dir=gs://bucket/tfds
  python data/prepare.py tfds --src=librispeech/default:2.1.1 --out=/data/libri \\
      --splits=train_clean100,dev_clean
  python data/prepare.py tfds --src=nsynth/gansynth_subset --out=/data/ns --label=pitch

src names the entry as TFDS does, NAME[/CONFIG][:VERSION]. Only data TFDS has already
prepared (`tfds build`, tfds.load) in tfds_data_dir (default: TFDS's own,
$TFDS_DATA_DIR or ~/tensorflow_datasets) is read. This tool never downloads: when the
data is not there it says where it was expected.

How the known entries map onto our features (audio, label, class names, filename,
extras) is datasets/catalog_mapping.py's.

Splits. A catalog split maps by name: train and train_* -> train; validation, valid,
val, dev and their _* forms -> validation; test and test_* -> test; any other name
stays a split of its own. `splits` picks catalog splits ('train_clean100,dev_clean';
default all). When none of the picked splits maps onto validation (gtzan and vctk have
only train), validation is drawn per class from train as in the file corpora
(folder.split_of, validation_fraction, default 0.1). LibriSpeech's subsets have
disjoint speakers, so all picked subsets are pooled and then drawn, as datasets/librispeech.py does.

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
import io
import re

import numpy as np
import tensorflow_datasets as tfds

from wavenet_jax.datasets import catalog_mapping
from wavenet_jax.datasets import building
from wavenet_jax.datasets import folder
from wavenet_jax.datasets import nsynth
from wavenet_jax.input import audio

# Ours <- catalog split names equal to, or starting with `name_`, one of these.
SPLIT_NAMES = {'train': ('train',), 'validation': ('validation', 'valid', 'val', 'dev'),
               'test': ('test',)}


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
    raise building.DataError(f'tfds: cannot open {src!r}: {str(e).splitlines()[0]}') from None
  if not builder.is_prepared():
    where = builder.data_path
    try:
      versions = sorted(p.name for p in where.parent.iterdir()
                        if (p / 'dataset_info.json').exists())
    except OSError:  # no such folder (pathlib and gs:// paths raise different subclasses)
      versions = []
    found = (f'; prepared there: {", ".join(versions)} (name one as NAME[/CONFIG]:VERSION)'
             if versions else '')
    raise building.DataError(f'tfds: {src} is not prepared in {builder.data_dir_root}: expected '
                             f'{where}/dataset_info.json{found}; this tool reads prepared data '
                             f'and does not download (prepare it with `tfds build`)')
  return builder


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
      rows.append((catalog_mapping.filename_of(mapping, example, split, index, features),
                   catalog_mapping.class_name(mapping, example)))
  return found


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


class CatalogAudio(building.AudioBuilder, skip_registration=True):
  """Converts the catalog's examples as TFDS reads them; splits were fixed beforehand."""
  DESCRIPTION = 'A TFDS catalog dataset, prepared by wavenet_jax/datasets/catalog.py.'

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
        filename = catalog_mapping.filename_of(mapping, example, catalog_split, index, features)
        name = catalog_mapping.class_name(mapping, example)
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
      raise building.DataError(f'tfds: no usable example for split {split} in '
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
    raise building.DataError(f'tfds: {src} has no split {", ".join(missing) or "named"}; '
                             f'it has {", ".join(available)}')
  return wanted


def build_catalog(src, out, sample_rate=16000, tfds_data_dir=None, label=None,
                  audio_feature=None, splits=None, validation_fraction=None,
                  silence_threshold=folder.SILENCE_THRESHOLD, overwrite=False):
  """Prepares the catalog dataset src, as prepared in tfds_data_dir, at `out`; returns `out`."""
  folder.check_options(sample_rate, validation_fraction)
  source = open_builder(src, tfds_data_dir)
  mapping = catalog_mapping.map_features(source, label, audio_feature)
  picked = pick_splits(source, splits, src)
  mapped = {s: 'train' if mapping.pool else our_split(s) for s in picked}
  draw = 'train' in mapped.values() and 'validation' not in mapped.values()
  if validation_fraction is not None and not draw:
    raise building.DataError(f'validation_fraction={validation_fraction}: {src} has its own '
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
      raise building.DataError(f'tfds: no labelled example in {src} ({", ".join(picked)})')
    drawn, written, read_from = {}, list(ours), dict(sources)
    if draw:
      files = [folder.File(filename, name) for c in sources['train']
               for filename, name in surveyed[c] if name]
      assigned = folder.split_of(files, 0.1 if validation_fraction is None
                                 else validation_fraction)
      if 'validation' not in assigned.values():
        raise building.DataError(f'tfds: every class of {src} has a single labelled example, '
                                 f'so none is left for validation')
      drawn = {c: {i: assigned[filename] for i, (filename, name) in enumerate(surveyed[c])
                   if name} for c in sources['train']}
      read_from['validation'] = sources['train']
      written.insert(written.index('train') + 1, 'validation')
    return CatalogAudio(source=source, mapping=mapping, sources=read_from, surveyed=surveyed,
                        drawn=drawn, silence_threshold=silence_threshold,
                        class_names=class_names, sample_rate=sample_rate, splits=written,
                        data_dir=tmp)

  return building.build(out, make_builder, overwrite=overwrite)
