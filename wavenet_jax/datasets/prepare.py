"""A corpus by name: prepare it, resolve a config's source to a prepared dir, check config.data.

`prepare(corpus, src, out, ...)` is what `python data/prepare.py CORPUS --src=RAW --out=OUT`
runs; `is_prepared(dir)`; `resolve`, which lets a config name either a prepared dir or a raw
tree (prepared once into a cache); `resolver(config.data)` is `resolve` with a config's
cache, sample rate and defaults; `check(config.data)` refuses an empty data.source of a
corpus that needs one. Light to import: a corpus's builder (and TensorFlow) loads when it
is prepared, so the config checks that call `check` stay free of TensorFlow.
"""
import hashlib
import importlib
import inspect
import json
import os

from wavenet_jax.common.config_checks import ConfigError
from wavenet_jax.datasets.prepared import DataError, is_prepared

# corpus -> (module of wavenet_jax.datasets, its build function); the function's keyword
# arguments are the corpus's options.
_CORPORA = {
    'demo': ('demo', 'build_demo'),
    'espeak': ('espeak', 'build_espeak'),
    'folder': ('folder', 'build_folder'),
    'gtzan': ('gtzan', 'build_gtzan'),
    'vctk': ('vctk', 'build_vctk'),
    'librispeech': ('librispeech', 'build_librispeech'),
    'ljspeech': ('ljspeech', 'build_ljspeech'),
    'esc50': ('esc50', 'build_esc50'),
    'nsynth': ('nsynth', 'build_nsynth'),
    'tfds': ('catalog', 'build_catalog'),
}
CORPORA = tuple(_CORPORA)
SYNTHESISED = ('demo', 'espeak')  # corpora made by their builder from no source: data.source may be empty


def check(d):
  """config.data's source, before anything is built or compiled: one line when it is missing."""
  if d.corpus not in SYNTHESISED and not d.source:
    raise ConfigError(f'data.source is empty: set --config.data.source to the raw {d.corpus} tree or '
                      f'to a directory made by `python data/prepare.py {d.corpus} --src=RAW --out=DIR`')


def _builder(corpus):
  """The build function of `corpus` (importing its module, and TensorFlow with it)."""
  module, function = _CORPORA[corpus]
  return getattr(importlib.import_module(f'wavenet_jax.datasets.{module}'), function)


def prepare(corpus, src=None, out=None, sample_rate=16000, overwrite=False, **options):
  """Builds `corpus` (from the raw tree `src`) into the dataset dir `out`; returns `out`."""
  if corpus not in _CORPORA:
    raise DataError(f'corpus {corpus!r} is not one of {CORPORA}')
  if not out:
    raise DataError(f'{corpus}: no output directory given (--out)')
  build = _builder(corpus)
  accepted = set(inspect.signature(build).parameters) - {'src', 'out', 'sample_rate', 'overwrite'}
  for key in options:
    if key not in accepted:
      raise DataError(f'{corpus}: unknown option {key!r} (accepts {sorted(accepted)})')
  kwargs = {**options, 'sample_rate': sample_rate, 'overwrite': overwrite}
  if corpus in SYNTHESISED:
    if src:
      raise DataError(f'{corpus}: is synthesised, --src={src} is not used')
    return build(out, **kwargs)
  if not src:
    raise DataError(f'{corpus}: no source directory given (--src)')
  return build(src, out, **kwargs)


def _short_hash(value):
  return hashlib.sha1(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:10]


def resolve(source, corpus, cache_dir, sample_rate=16000, **options):
  """A prepared dataset dir for `source`, preparing it into cache_dir on first use.

  source: a prepared dir (returned as is), a raw tree of `corpus`, a TFDS catalog name
  (corpus 'tfds', e.g. 'gtzan' with option tfds_data_dir), or empty for the demo.
  The cache entry is keyed by (absolute source path, sample rate, options), not by the
  tree's contents: delete the entry to pick up changed files.
  """
  source = os.fspath(source) if source else ''
  if source and is_prepared(source):
    return source
  if source and corpus == 'tfds':  # a catalog name, not a path
    out = os.path.join(cache_dir, 'tfds-' + _short_hash([source, sample_rate, options]))
  elif source:
    if not os.path.isdir(source):
      raise DataError(f'{source}: no such directory (expected a prepared dataset or a raw '
                      f'{corpus} tree)')
    out = os.path.join(cache_dir, f'{corpus}-' + _short_hash(
        [os.path.abspath(source), sample_rate, options]))
  elif corpus in SYNTHESISED:
    out = os.path.join(cache_dir, f'{corpus}-{sample_rate}-{_short_hash(options)}')
  else:
    raise DataError(f'{corpus}: no source given (a prepared dataset or a raw tree)')
  if is_prepared(out):
    print(f'reusing {corpus} dataset {out}')
    return out
  try:
    prepare(corpus, source or None, out, sample_rate=sample_rate, **options)
  except (DataError, OSError):
    # Another process sharing the cache (a second host) may have finished first; builds
    # are all-or-nothing, so a prepared `out` is a whole one.
    if not is_prepared(out):
      raise
    print(f'reusing {corpus} dataset {out}')
    return out
  print(f'prepared {corpus} dataset {out} from {source or "synthesis"}')
  return out


def resolver(d):
  """config.data -> resolve(source, corpus, options), what a run (training.run.Run) opens its
  data with: raw trees are prepared once into data.cache_dir at data.sample_rate. An empty
  source of a corpus that is not synthesised resolves to None, which input.sources reports
  under the config key that gave it."""
  def resolve_entry(source, corpus, options):
    if not source and corpus not in SYNTHESISED:
      return None
    options = dict(options)
    if corpus == 'folder' and 'label_from' not in options:
      options['label_from'] = 'pattern' if options.get('pattern') else 'folder'
    if corpus in ('folder', 'gtzan', 'vctk', 'librispeech', 'ljspeech', 'espeak'):  # split by a fraction
      options.setdefault('validation_fraction', d.validation_fraction)
    return resolve(source, corpus, os.path.expanduser(d.cache_dir), sample_rate=d.sample_rate, **options)

  return resolve_entry
