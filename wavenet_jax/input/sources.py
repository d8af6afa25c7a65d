"""The data of a run: one prepared dataset, or several mixed into one list of classes.

A run reads `data.source` and each `data.mix` entry. Every one is a prepared TFDS dataset
(data/prepare.py turns a raw tree into one, cached) and may keep only some of its classes
(`include`, `exclude`) and rename classes (`rename`: 'old=new' strings; several old names
may share a new one). The run's classes are the union of the renamed names, sorted, so a
config can build the swap-a-speaker transfer set: VCTK without p225 plus GTZAN's blues
named p225.
When `data.class_names_from` names a previous run, that run's class order comes first, so
the rows of a transferred class embedding keep their meaning.

Records are addressed by TFDS file instructions (file, skip, take). A host reads a
contiguous range of each part's split, disjoint from every other host's, so the hosts of a
multi-host run read disjoint shard files (a file is shared only where a range ends in it).
"""
import dataclasses
import json
import os
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from wavenet_jax.common.config_checks import ConfigError

MIX_KEYS = ('source', 'corpus', 'options', 'include', 'exclude', 'rename', 'train_split',
            'eval_split')
REPORT_FILE = 'build_report.json'  # datasets/building.py writes it next to dataset_info.json


@dataclasses.dataclass(frozen=True)
class Read:
  """A run of consecutive records of one part's TFRecord file."""
  part: int
  filename: str
  skip: int
  take: int


@dataclasses.dataclass(frozen=True)
class Part:
  key: str  # where the config defines it, for messages: 'data' or 'data.mix[1]'
  data_dir: str
  builder: Any
  table: np.ndarray  # [C_part] int32: the run's id of each of the part's classes; -1 = left out
  train_split: str
  eval_split: str

  @property
  def class_names(self):
    return list(self.builder.info.features['label'].names)

  @property
  def filtered(self) -> bool:
    return bool((self.table < 0).any())

  def split_name(self, which: str) -> str:
    """'train' / 'eval' -> this part's split; any other value is a split name itself."""
    return {'train': self.train_split, 'eval': self.eval_split}.get(which, which)


class Sources:
  """The parts of a run's data and their shared class list."""

  def __init__(self, parts, class_names):
    self.parts = list(parts)
    self.class_names = list(class_names)

  @property
  def sample_rate(self) -> int:
    return int(self.parts[0].builder.info.features['audio'].sample_rate)

  @property
  def data_dirs(self):
    return [p.data_dir for p in self.parts]

  def deserialize(self):
    """record -> example dict; one parser serves every part (checked to share a schema)."""
    return self.parts[0].builder.info.features.deserialize_example

  def label_tables(self) -> tf.Tensor:
    """[num parts, max part classes] int32: part class id -> run class id (-1 = left out)."""
    width = max(len(p.table) for p in self.parts)
    rows = [np.pad(p.table, (0, width - len(p.table)), constant_values=-1) for p in self.parts]
    return tf.constant(np.stack(rows), tf.int32)

  def host_reads(self, which, process_index=0, process_count=1):
    """This host's [Read] of every part's `which` split: a contiguous 1/process_count of each."""
    reads = []
    for i, part in enumerate(self.parts):
      instructions = _instructions(part, which)
      total = sum(r.take for r in instructions)
      lo, hi = (total * process_index) // process_count, (total * (process_index + 1)) // process_count
      reads += [dataclasses.replace(r, part=i) for r in _slice(instructions, lo, hi)]
    return reads

  def class_counts(self, which):
    """{run class name: examples} of the `which` split over all parts, from the build reports;
    None when a part has none (a slice like train[:50%], a dataset made elsewhere)."""
    total = {}
    for part in self.parts:
      counts = _report_counts(part, which)
      if counts is None:
        return None
      for name, n in counts.items():
        run_id = part.table[part.class_names.index(name)]
        if run_id >= 0:
          total[self.class_names[run_id]] = total.get(self.class_names[run_id], 0) + n
    return total

  def host_num_examples(self, which, process_index=0, process_count=1) -> int:
    """Records this host keeps per epoch (left-out classes excluded)."""
    n = 0
    all_reads = self.host_reads(which, process_index, process_count)
    for i, part in enumerate(self.parts):
      reads = [r for r in all_reads if r.part == i]
      if not part.filtered:
        n += sum(r.take for r in reads)
      elif process_count == 1 and (counts := _report_counts(part, which)) is not None:
        names = part.class_names
        n += sum(c for name, c in counts.items() if part.table[names.index(name)] >= 0)
      else:
        n += _count_kept(reads, part.table)
    return n


def _instructions(part, which):
  split = part.split_name(which)
  try:
    info = part.builder.info.splits[split]
  except (KeyError, ValueError) as e:
    raise ConfigError(f'{part.key}: {part.data_dir} has no split {split!r} (its splits: '
                      f'{", ".join(sorted(part.builder.info.splits))}): {e}') from None
  return [Read(0, os.path.join(part.data_dir, os.path.basename(f.filename)), f.skip, f.take)
          for f in info.file_instructions if f.take]


def _slice(reads, lo, hi):
  """The records [lo, hi) of the concatenation of `reads`, as reads."""
  out, start = [], 0
  for r in reads:
    a, b = max(lo, start), min(hi, start + r.take)
    if a < b:
      out.append(dataclasses.replace(r, skip=r.skip + a - start, take=b - a))
    start += r.take
  return out


def _report_counts(part, which):
  """{class: n} of a plain split (or 'a+b') from the builder's report; None if unknown."""
  path = os.path.join(part.data_dir, REPORT_FILE)
  if not os.path.isfile(path):
    return None
  with open(path) as f:
    counts = json.load(f).get('counts', {})
  total = {}
  for split in part.split_name(which).split('+'):
    if split not in counts:
      return None  # a slice such as train[:50%]
    for name, n in counts[split].items():
      total[name] = total.get(name, 0) + n
  return total


def _count_kept(reads, table):
  """Reads every label of `reads` (one pass, labels only) and counts the kept ones."""
  spec = {'label': tf.io.FixedLenFeature([], tf.int64)}
  kept = 0
  for r in reads:
    ds = tf.data.TFRecordDataset(r.filename).skip(r.skip).take(r.take).batch(1024)
    for batch in ds.map(lambda x: tf.io.parse_example(x, spec)['label']).as_numpy_iterator():
      kept += int(np.sum(table[batch] >= 0))
  return kept


# ------------------------------------------------------------------------- from a config

def _pairs(key, value):
  """('old=new', ...) -> {old: new}."""
  out = {}
  for item in value:
    if not isinstance(item, str) or item.count('=') != 1 or not all(item.split('=')):
      raise ConfigError(f"{key}: {item!r} is not 'old=new'")
    old, new = item.split('=')
    out[old.strip()] = new.strip()
  return out


def _check_names(key, wanted, names, data_dir):
  missing = [n for n in wanted if n not in names]
  if missing:
    raise ConfigError(f'{key}: {", ".join(map(repr, missing))} not among the classes of {data_dir} '
                      f'({", ".join(names)})')


def _part(key, data_dir, entry):
  builder = tfds.builder_from_directory(data_dir)
  names = list(builder.info.features['label'].names)
  include, exclude = list(entry.get('include') or ()), list(entry.get('exclude') or ())
  rename = _pairs(f'{key}.rename', entry.get('rename') or ())
  for sub, wanted in (('include', include), ('exclude', exclude), ('rename', list(rename))):
    _check_names(f'{key}.{sub}', wanted, names, data_dir)
  kept = [n for n in names if (not include or n in include) and n not in exclude]
  if not kept:
    raise ConfigError(f'{key}: include/exclude leave none of the classes of {data_dir}')
  return builder, {n: rename.get(n, n) for n in kept}


def _entries(d):
  """[(key, entry dict)] for data.source and each data.mix entry, unknown keys refused."""
  options = options_of('data.options', d.options)
  if d.pattern:
    options['pattern'] = d.pattern
  main = {'source': d.source, 'corpus': d.corpus, 'options': options, 'include': d.include,
          'exclude': d.exclude, 'rename': d.rename, 'train_split': d.train_split,
          'eval_split': d.eval_split}
  entries = [('data', main)]
  for i, entry in enumerate(d.mix):
    key = f'data.mix[{i}]'
    if not hasattr(entry, 'keys'):
      raise ConfigError(f'{key}: must be a dict with keys {", ".join(MIX_KEYS)}')
    entry = dict(entry)
    unknown = sorted(set(entry) - set(MIX_KEYS))
    if unknown:
      raise ConfigError(f'{key}: unknown key {unknown[0]!r} (known: {", ".join(MIX_KEYS)})')
    entry.setdefault('corpus', 'folder')
    entry.setdefault('train_split', d.train_split)
    entry.setdefault('eval_split', d.eval_split)
    entries.append((key, entry))
  return entries


def options_of(key, items):
  """data.options ('k=v', ...) -> prepare options; numbers and booleans parsed."""
  options = {}
  for k, v in _pairs(key, items).items():
    try:
      options[k] = json.loads(v.lower() if v.lower() in ('true', 'false') else v)
    except ValueError:
      options[k] = v
  return options


def from_config(d, resolve, class_names_of=None, saved_names=None) -> Sources:
  """Sources of the ConfigDict `d` (config.data); resolve(source, corpus, options) -> data dir,
  or None when the corpus needs a source and the entry gives none (datasets.prepare.resolver),
  class_names_of(path) -> the class names of the run that data.class_names_from names.
  saved_names: the class names of the checkpoint a run resumes or evaluates: the classes are
  those, in that order; the data may lack some, a class beyond them is an error."""
  parts, renamed = [], {}
  for key, entry in _entries(d):
    options = entry.get('options') or ()
    options = options_of(f'{key}.options', options) if not hasattr(options, 'keys') else dict(options)
    data_dir = resolve(entry['source'], entry['corpus'], options)
    if not data_dir:
      raise ConfigError(f'{key}.source: required (a prepared dataset or a raw tree)')
    builder, mapping = _part(key, data_dir, entry)
    rate = int(builder.info.features['audio'].sample_rate)
    if rate != d.sample_rate:
      raise ConfigError(f'data.sample_rate={d.sample_rate}: {data_dir} ({key}) holds audio at {rate} Hz')
    if parts and (builder.info.features.get_serialized_info()
                  != parts[0][1].info.features.get_serialized_info()):
      raise ConfigError(f'{key}: {data_dir} stores other features than {parts[0][2]}; '
                        f'prepare both with data/prepare.py')
    parts.append((key, builder, data_dir, entry))
    renamed[key] = mapping
  names = sorted({new for mapping in renamed.values() for new in mapping.values()})
  if saved_names:
    extra = [n for n in names if n not in saved_names]
    if extra:
      raise ConfigError(f'data: class {extra[0]!r}' + (f' (and {len(extra) - 1} more)' if len(extra) > 1 else '')
                        + f' is not among the checkpoint\'s {len(saved_names)} classes ({", ".join(saved_names)}); '
                        'train on these data in another --workdir')
    names = list(saved_names)
  elif d.class_names_from:
    first = list(class_names_of(d.class_names_from) or [])
    names = first + [n for n in names if n not in first]
  index = {n: i for i, n in enumerate(names)}
  out = []
  for key, builder, data_dir, entry in parts:
    own = list(builder.info.features['label'].names)
    table = np.array([index[renamed[key][n]] if n in renamed[key] else -1 for n in own], np.int32)
    out.append(Part(key, data_dir, builder, table, entry['train_split'], entry['eval_split']))
  return Sources(out, names)
