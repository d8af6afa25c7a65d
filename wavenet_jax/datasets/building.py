"""What every prepared dataset shares: its features, its all-or-nothing write, its report.

A prepared dataset is a TFDS version directory OUT (`tfds.builder_from_directory(OUT)`
reads it) with mono int16 `audio`, a `label` whose names are the sorted class names, the
source-relative `filename`, any features its corpus adds (speaker age, ESC-50 fold, ...),
and the splits its builder names: `train` and `validation` unless the corpus has its own
(ESC-50's folds, NSynth's test set). TFDS cannot write an empty split, so a builder names
only splits that have examples; the file builders refuse (DataError) a train/validation
split that would leave validation empty, and leave out a corpus split with no examples.

Next to the data, build_report.json: sample_rate, class_names, per split the number of
examples and `counts` (split -> class -> n, so training can weigh classes without reading
the data), and every source file skipped with its reason.

TFDS writes a builder into `data_dir/<name>/<version>/`; we point data_dir at a fresh
`OUT.partial-XXXX` next to OUT, rename the finished version directory to OUT and delete
the rest, so OUT is either a whole dataset or absent, whatever fails on the way.
"""
import collections
import contextlib
import io
import json
import logging
import os
import shutil
import sys
import tempfile

import numpy as np
import tensorflow_datasets as tfds

from wavenet_jax.common import files
from wavenet_jax.datasets.prepared import DataError, is_prepared

SPLITS = ('train', 'validation')
REPORT_FILE = 'build_report.json'


def features(class_names, sample_rate, extra=None):
  """The features every dataset has, plus `extra` (name -> tfds feature) of its corpus."""
  base = {
      'audio': tfds.features.Audio(shape=(None,), dtype=np.int16, sample_rate=sample_rate,
                                   file_format=None),
      'label': tfds.features.ClassLabel(names=sorted(class_names)),
      'filename': tfds.features.Text(),
  }
  clash = sorted(set(base) & set(extra or {}))
  if clash:
    raise ValueError(f'extra features {clash} would replace common ones')
  return tfds.features.FeaturesDict({**base, **(extra or {})})


class AudioBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """Base of our builders: subclasses yield (key, example) per split from local data.

  Class names, sample rate and the files skipped on the way are known only at run time,
  so they are constructor arguments (a catalog builder would hard-code them). Skipping
  registration lets tests and notebooks define and rebuild builders freely.
  """
  VERSION = tfds.core.Version('1.0.0')
  DESCRIPTION = ''
  # TFDS looks next to a builder's code for a checksums file of its downloads. We download
  # nothing, and the lookup needs the `importlib_resources` backport for builders that
  # live in a package (as ours do), which not every environment has.
  code_path = None

  def __init__(self, *, class_names, sample_rate, data_dir, skipped=(), splits=SPLITS,
               extra_features=None):
    self.class_names = sorted(class_names)
    self.sample_rate = int(sample_rate)
    self.skipped = list(skipped)  # [(relative path, reason)]
    self.splits = tuple(splits)  # each must yield >= 1 example: TFDS refuses empty splits
    self.extra_features = dict(extra_features or {})
    self.counts = {split: collections.Counter() for split in self.splits}  # split -> label -> n
    super().__init__(data_dir=data_dir)

  def _info(self):
    # DatasetInfo directly: dataset_info_from_configs would read metadata files from the
    # folder of the builder's module (datasets/), which holds other builders' modules.
    return tfds.core.DatasetInfo(
        builder=self, description=self.DESCRIPTION,
        features=features(self.class_names, self.sample_rate, self.extra_features),
        supervised_keys=('audio', 'label'))

  def _split_generators(self, dl_manager):
    del dl_manager  # every source is local; nothing is downloaded
    return {split: self._counted(split) for split in self.splits}

  def _counted(self, split):
    for key, example in self._generate_examples(split):
      self.counts[split][example['label']] += 1
      yield key, example


def build(out, make_builder, overwrite=False, num_shards=None):
  """Builds `make_builder(tmp_dir)` into the TFDS version directory `out`, all or nothing.

  `make_builder` may use tmp_dir for scratch files; it is deleted in every case. An
  existing `out` is replaced only with overwrite=True and only once the new one is done.
  num_shards: files per split (fewer for a split of fewer examples: TFDS drops empty
  files); None lets TFDS size them at 64 MiB-1 GiB, so a small split is one file. Returns `out`.
  """
  out = os.path.abspath(os.fspath(out))
  _check_out(out, overwrite)
  parent = os.path.dirname(out)
  os.makedirs(parent, exist_ok=True)
  tmp = tempfile.mkdtemp(prefix=os.path.basename(out) + '.partial-', dir=parent)
  if not sys.stderr.isatty():  # TFDS's bars would leave their cursor codes in a log
    tfds.disable_progress_bar()
  try:
    builder = make_builder(tmp)
    # TFDS prints "prepared to <temp dir>", which is wrong once we rename; we print ours. Its
    # Audio feature reads its own deprecated `dtype` while saving, and logs that it did.
    with contextlib.redirect_stdout(io.StringIO()), _without_log('`FeatureConnector.dtype` is deprecated'):
      builder.download_and_prepare(
          download_dir=os.path.join(tmp, 'downloads'),
          download_config=tfds.download.DownloadConfig(
              # Split sizes come from the writer; feature statistics would reread it all.
              compute_stats=tfds.download.ComputeStatsMode.SKIP, num_shards=num_shards))
    version_dir = os.fspath(builder.data_dir)
    report = _report(builder, out)
    with open(os.path.join(version_dir, REPORT_FILE), 'w') as f:
      json.dump(report, f, indent=1)
    _check_readable(version_dir, report)
    _swap_in(version_dir, out, tmp)
  finally:
    shutil.rmtree(tmp, ignore_errors=True)
  print_report(report)
  return out


def _check_out(out, overwrite):
  if not os.path.exists(out):
    return
  if not overwrite:
    raise DataError(f'{out}: already exists (pass overwrite=True / --overwrite to replace it)')
  # overwrite deletes OUT, so it must be something a build made (or nothing at all):
  # a mistyped --out must not wipe a home directory.
  if not (is_prepared(out) or (os.path.isdir(out) and not os.listdir(out))):
    raise DataError(f'{out}: exists and is not a prepared dataset; not overwriting it')


@contextlib.contextmanager
def _without_log(text):
  """Drops the log records that contain `text` while the block runs."""
  logger = logging.getLogger('absl')
  drop = lambda record: text not in record.getMessage()
  logger.addFilter(drop)
  try:
    yield
  finally:
    logger.removeFilter(drop)


def _swap_in(version_dir, out, tmp):
  """Moves version_dir to out; an old out goes into tmp (deleted by the caller)."""
  old = None
  if os.path.exists(out):
    old = os.path.join(tmp, 'replaced')
    os.rename(out, old)
  try:
    os.rename(version_dir, out)
  except BaseException:
    if old is not None:
      os.rename(old, out)
    raise


def _report(builder, out):
  counts = {split: {name: builder.counts[split][name] for name in builder.class_names
                    if builder.counts[split][name]}
            for split in builder.splits}
  return {
      'out': out,
      'sample_rate': builder.sample_rate,
      'class_names': builder.class_names,
      'num_examples': {split: sum(c.values()) for split, c in counts.items()},
      'counts': counts,  # split -> class -> examples
      'num_skipped': len(builder.skipped),
      'skipped': [{'path': path, 'reason': reason} for path, reason in builder.skipped],
  }


def _check_readable(version_dir, report):
  """The layout check: TFDS reads back what we counted, before OUT is touched."""
  if not is_prepared(version_dir):
    raise RuntimeError(f'{version_dir}: TFDS wrote no dataset_info.json/features.json')
  info = tfds.builder_from_directory(version_dir).info
  written = {split: info.splits[split].num_examples for split in info.splits}
  if written != report['num_examples'] or info.features['label'].names != report['class_names']:
    raise RuntimeError(f'{version_dir}: TFDS reads back splits {written} and classes '
                       f'{info.features["label"].names}, but the build wrote '
                       f'{report["num_examples"]} and {report["class_names"]}')


def print_report(report):
  for item in report['skipped']:
    print(f'skipped {item["path"]}: {item["reason"]}')
  sizes = ', '.join(f'{split} {n}' for split, n in report['num_examples'].items())
  print(f'{files.count(report["num_skipped"], "file")} skipped; wrote {report["out"]}: {sizes} examples, '
        f'{len(report["class_names"])} classes at {report["sample_rate"]} Hz')

