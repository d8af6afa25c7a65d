"""Makes the repository root importable (`wavenet_jax`, `data`) for every test, and shares
compiled programs between the tests of a run.

Most of a CPU test's time is XLA compiling small programs, and many tests (and the
`launch.py` subprocesses they start, which inherit the environment) compile the same
ones: JAX's persistent compilation cache in a directory of this run keeps them (a
repeated tiny launch: 21 s -> 10 s). The directory is new per run and removed after it,
so nothing carries over between runs; a cache the caller set is left alone.
"""
import os
import shutil
import tempfile

_OWN_CACHE = None
if 'JAX_COMPILATION_CACHE_DIR' not in os.environ:
  _OWN_CACHE = tempfile.mkdtemp(prefix='wavenet_jax_test_xla_cache_')
  os.environ['JAX_COMPILATION_CACHE_DIR'] = _OWN_CACHE
  os.environ.setdefault('JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS', '0.05')
  os.environ.setdefault('JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES', '0')


def pytest_unconfigure(config):
  if _OWN_CACHE and not hasattr(config, 'workerinput'):
    shutil.rmtree(_OWN_CACHE, ignore_errors=True)


# Tests that train for hundreds of steps or through launch.py subprocesses take 20-160 s
# each; most others take a second. xdist hands tests out in collection order, so these go
# first (the longest first) and the short ones fill both workers' last minutes, instead of
# one worker finishing a long test alone at the end.
_LONG_FIRST = ('tests/test_generate.py::test_trained_demo_model_generates_the_class_it_is_given',
               'tests/test_train.py', 'tests/test_classifier.py', 'tests/test_notebook.py',
               'tests/test_sweep.py', 'tests/test_nsynth.py', 'tests/test_transfer.py',
               'tests/test_latent.py', 'tests/test_importers_ibab.py')


def pytest_collection_modifyitems(config, items):
  def rank(item):
    return next((i for i, prefix in enumerate(_LONG_FIRST) if item.nodeid.startswith(prefix)),
                len(_LONG_FIRST))
  items.sort(key=rank)  # stable: each group keeps its own order
