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

The builders and the library side (`prepare`, the same as this command; `resolve`, which
lets a config name a prepared dir or a raw tree) are wavenet_jax.datasets: this script is
the command line only.
"""
import argparse
import os
import sys

if __name__ == '__main__':  # before TensorFlow loads: its oneDNN notices are noise; a user's own setting wins
  os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '0')
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')

from wavenet_jax.datasets import espeak, nsynth, prepare


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('corpus', choices=prepare.CORPORA)
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
  parser.add_argument('--audio_feature', help='tfds: the Audio feature of an entry '
                      'wavenet_jax/datasets/catalog.py does not know, when it has several')
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
    prepare.prepare(args.corpus, args.src, args.out, sample_rate=args.sample_rate,
                    overwrite=args.overwrite, **options)
  except prepare.DataError as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  except KeyboardInterrupt:  # building.build removed its partial build
    print(f'\ninterrupted: nothing written for {args.out}', file=sys.stderr)
    return 130
  return 0


if __name__ == '__main__':
  sys.exit(main())

# $ python data/prepare.py demo --out=/tmp/demo
# 0 files skipped; wrote /tmp/demo: train 192, validation 24 examples, 6 classes at 16000 Hz
