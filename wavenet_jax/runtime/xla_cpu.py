"""XLA:CPU process tuning, which must happen before JAX starts: entry points (launch.py, the
benchmarks) call `configure()` first; importing this module changes nothing.

- glibc's heap: never mmap, never trim, one arena per core plus the main heap. XLA:CPU
  mallocs each execution's temporaries (5 GB for ibab's train step) and frees them; glibc
  would hand them back to the kernel and page-fault them in again every step.
- XLA_FLAGS, on jaxlib 0.10.x only (XLA aborts on a flag it does not know; a flag the user
  set wins): YNNPACK fusions off and 512-bit vectors for XLA's own loops.
Numerics are untouched. Evidence: docs/performance.md#glibc-heap, docs/performance.md#xla-flags.
`WAVENET_JAX_CPU_TUNING=0` in the environment turns all of it off.
"""
import ctypes
import os
import platform
from importlib import metadata

SWITCH = 'WAVENET_JAX_CPU_TUNING'  # '0' turns configure() off
_FLAGS = {'ynn_fusion_type': '--xla_cpu_experimental_ynn_fusion_type=',
          'prefer_vector_width': '--xla_cpu_prefer_vector_width=512'}
# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -4, -8


def _keep_heap() -> None:
  """Make glibc reuse freed memory instead of returning it to the kernel (see above)."""
  if platform.system() != 'Linux' or platform.libc_ver()[0] != 'glibc':
    return
  try:
    libc = ctypes.CDLL('libc.so.6')
  except OSError:
    return
  # Before XLA's threads exist. One arena per core: one per thread (glibc's default) slowed
  # the train step, one for all made the generation threads queue on its lock.
  libc.mallopt(_M_ARENA_MAX, cores() + 1)
  libc.mallopt(_M_MMAP_MAX, 0)             # big blocks come from the brk heap ...
  libc.mallopt(_M_TRIM_THRESHOLD, -1)      # ... and stay mapped once freed (-1: never trim).


def cores() -> int:
  """The cores this process may run on."""
  return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count() or 1


def enabled() -> bool:
  """False when the environment says WAVENET_JAX_CPU_TUNING=0."""
  return os.environ.get(SWITCH, '1').strip() != '0'


def configure() -> None:
  """Heap tuning and XLA_FLAGS for this process (see above); nothing when not `enabled()`."""
  if not enabled():
    return
  _keep_heap()
  try:
    version = metadata.version('jaxlib')
  except metadata.PackageNotFoundError:
    return
  if not version.startswith('0.10.'):
    return
  flags = os.environ.get('XLA_FLAGS', '')
  for name, flag in _FLAGS.items():  # a flag the user set wins.
    if name not in flags:
      flags = f'{flags} {flag}'.strip()
  os.environ['XLA_FLAGS'] = flags
