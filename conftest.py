"""Shares compiled programs between the tests of a run. (`wavenet_jax` is imported as installed:
requirements.txt installs the project, `pip install -e .`; `configs`, `data` and `benchmarks`,
which are not installed, from the checkout, whose root pytest puts on sys.path for this file.)

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
