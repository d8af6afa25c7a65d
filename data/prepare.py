"""Prepare a corpus as a TFDS dataset directory that every mode reads.

Each raw corpus is read in the layout it is downloaded in:

  python data/prepare.py demo --out=/tmp/demo
  python data/prepare.py espeak --out=/tmp/speech [--voices=en-us+m1,en-us+f2]
  python data/prepare.py folder --src=my_sounds --out=/data/mine [--pattern='^(\\w+)-']
  python data/prepare.py gtzan --src=genres --out=/data/gtzan
  python data/prepare.py vctk --src=VCTK-Corpus-0.92 --out=/data/vctk [--mic=2]
  python data/prepare.py librispeech --src=LibriSpeech --out=/data/libri [--subsets=dev-clean]
  python data/prepare.py ljspeech --src=LJSpeech-1.1 --out=/data/lj --sample_rate=22050
  python data/prepare.py esc50 --src=ESC-50-master --out=/data/esc50 [--esc10]
  python data/prepare.py nsynth --src=nsynth --out=/data/nsynth [--label=pitch]
  python data/prepare.py tfds --src=NAME[/CONFIG][:VERSION] --out=/data/x [--tfds_data_dir=D]
      (a TFDS catalog dataset already prepared in D: gtzan, vctk, librispeech, ljspeech, nsynth, ...)

Options of the file corpora: --validation_fraction (not esc50, whose folds are its
splits), --silence_threshold. The dataset's build_report.json lists what was skipped.

Library side: `prepare` (the same as the command), `is_prepared`, and `resolve`, which
lets a config name either a prepared dir or a raw tree (prepared once into a cache);
`resolver(config.data)` is `resolve` with a config's cache, sample rate and defaults.
"""
import argparse
import hashlib
import inspect
import json
import os
import sys

if __name__ == '__main__':  # before TensorFlow loads: its oneDNN notices are noise; a user's own setting wins
  os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '0')
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')

if __name__ == '__main__':  # TF's C++ start-up chatter would bury the report; a user's own setting wins.
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from data import catalog
from data import common
from data import demo
from data import esc50
from data import espeak
from data import folder
from data import gtzan
from data import librispeech
from data import ljspeech
from data import nsynth
from data import vctk

DataError = common.DataError
is_prepared = common.is_prepared

# corpus -> its build function; the function's keyword arguments are the corpus's options.
_CORPORA = {
    'demo': demo.build_demo,
    'espeak': espeak.build_espeak,
    'folder': folder.build_folder,
    'gtzan': gtzan.build_gtzan,
    'vctk': vctk.build_vctk,
    'librispeech': librispeech.build_librispeech,
    'ljspeech': ljspeech.build_ljspeech,
    'esc50': esc50.build_esc50,
    'nsynth': nsynth.build_nsynth,
    'tfds': catalog.build_catalog,
}
CORPORA = tuple(_CORPORA)
SYNTHESISED = common.SYNTHESISED  # made here, from no source


def prepare(corpus, src=None, out=None, sample_rate=16000, overwrite=False, **options):
  """Builds `corpus` (from the raw tree `src`) into the dataset dir `out`; returns `out`."""
  if corpus not in _CORPORA:
    raise DataError(f'corpus {corpus!r} is not one of {CORPORA}')
  if not out:
    raise DataError(f'{corpus}: no output directory given (--out)')
  build = _CORPORA[corpus]
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
  data with: raw trees are prepared once into data.cache_dir at data.sample_rate."""
  def resolve_entry(source, corpus, options):
    options = dict(options)
    if corpus == 'folder' and 'label_from' not in options:
      options['label_from'] = 'pattern' if options.get('pattern') else 'folder'
    if corpus in ('folder', 'gtzan', 'vctk', 'librispeech', 'ljspeech', 'espeak'):  # split by a fraction
      options.setdefault('validation_fraction', d.validation_fraction)
    return resolve(source, corpus, os.path.expanduser(d.cache_dir), sample_rate=d.sample_rate, **options)

  return resolve_entry


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('corpus', choices=CORPORA)
  parser.add_argument('--src', help='raw tree to read (not for demo, espeak); for tfds the catalog '
                      'name, NAME[/CONFIG][:VERSION]')
  parser.add_argument('--out', required=True, help='dataset directory to write')
  parser.add_argument('--sample_rate', type=int, default=16000)
  parser.add_argument('--overwrite', action='store_true', help='replace an existing --out')
  parser.add_argument('--pattern', help='folder: regex whose group 1 is the label')
  parser.add_argument('--validation_fraction', type=float,
                      help='folder, gtzan, vctk, librispeech, ljspeech, espeak, tfds '
                      'without a validation split (default 0.1)')
  parser.add_argument('--silence_threshold', type=float,
                      help='all but demo, espeak: a file no louder than this frame RMS is skipped')
  parser.add_argument('--mic', type=int, help='vctk 0.92: microphone 1 or 2 (default 1)')
  parser.add_argument('--subsets', help='librispeech: e.g. train-clean-100,dev-clean '
                      '(default all found)')
  parser.add_argument('--speaker', help='ljspeech: the one class\'s name (default LJ)')
  parser.add_argument('--voices', help='espeak: eSpeak NG voices, comma separated (default '
                      f'{",".join(espeak.VOICES)})')
  parser.add_argument('--num_sentences', type=int,
                      help=f'espeak: how many sentences each voice says (default {len(espeak.SENTENCES)})')
  parser.add_argument('--esc10', action='store_true', default=None,
                      help='esc50: only the 10 classes of ESC-10')
  parser.add_argument('--label', help=f'nsynth: one of {", ".join(nsynth.LABELS)} '
                      '(default instrument_family); tfds: an alias of the entry or a label '
                      'field, nested as a/b')
  parser.add_argument('--tfds_data_dir', help='tfds: where the catalog dataset is prepared '
                      '(default: TFDS\'s own)')
  parser.add_argument('--audio_feature', help='tfds: the Audio feature of an entry data/'
                      'catalog.py does not know, when it has several')
  parser.add_argument('--splits', help='tfds: catalog splits to read, e.g. '
                      'train_clean100,dev_clean (default all)')
  parser.add_argument('--clip_seconds', type=float, help='demo (default 1.0)')
  parser.add_argument('--train_per_class', type=int, help='demo (default 32)')
  parser.add_argument('--validation_per_class', type=int, help='demo (default 4)')
  parser.add_argument('--num_shards', type=int, help='demo: files per split (default one)')
  args = parser.parse_args(argv)
  options = {k: v for k, v in vars(args).items()
             if v is not None and k not in ('corpus', 'src', 'out', 'sample_rate', 'overwrite')}
  if args.pattern is not None and args.corpus == 'folder':
    options['label_from'] = 'pattern'
  try:
    prepare(args.corpus, args.src, args.out, sample_rate=args.sample_rate,
            overwrite=args.overwrite, **options)
  except DataError as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  except KeyboardInterrupt:  # common.build removed its partial build
    print(f'\ninterrupted: nothing written for {args.out}', file=sys.stderr)
    return 130
  return 0


if __name__ == '__main__':
  sys.exit(main())

# $ python data/prepare.py demo --out=/tmp/demo
# 0 files skipped; wrote /tmp/demo: train 192, validation 24 examples, 6 classes at 16000 Hz
