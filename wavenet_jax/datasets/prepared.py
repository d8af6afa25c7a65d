"""What a prepared dataset is, known without loading TensorFlow: a check of a directory, and
the one error of preparing one (what prepare, resolve and every builder raise)."""
import os

from wavenet_jax.common.errors import UserError


class DataError(UserError, ValueError):
  """Bad input to a build (a path, a corpus, an option); the message names it."""


def is_prepared(path):
  """True when `path` is a TFDS version directory (what builder_from_directory reads)."""
  path = os.fspath(path)
  return all(os.path.isfile(os.path.join(path, f)) for f in ('dataset_info.json', 'features.json'))
