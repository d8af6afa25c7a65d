"""XLA:CPU tuning that must be set before JAX starts (entry points call `configure()` first).

jaxlib 0.10's CPU backend routes matmul-containing fusions to YNNPACK; for the WaveNet
train step that is slower than XLA's own emitters (ibab-default step, 2-core CPU: 6.5 s
off vs 7.7 s on; generation unchanged). The flag only exists in the jaxlib line it was
measured on, and XLA aborts on unknown flags, so it is added only there. The same goes
for `--xla_cpu_prefer_vector_width=512`: XLA's own loops (gates, activations, copies,
reductions) otherwise use 256-bit vectors on AVX-512 CPUs (ibab step 4.8 s -> 4.3 s on a
2-core Zen 5); CPUs without AVX-512 split the wide vectors, as LLVM legalises them.

XLA:CPU mallocs each execution's temporaries (5 GB for the ibab-default train step) and
frees them at the end. glibc serves blocks that large with a fresh mmap (or, from a
thread's own arena, always with mmap), so every step page-faulted and zeroed all 5 GB
again: a third of the step was kernel time. Never mmapping and never trimming lets the
next step reuse the same pages (ibab step 6.8 s -> 5.0 s); a block too big for a thread's
arena then comes from the main (brk) heap. Memory only changes hands inside the process;
numerics are untouched.

How many arenas: glibc's default (8 per core) gives every thread its own, and the train
step got slower (2-core Zen 4: 6.5-7.8 s -> 8.1-10.7 s, even with the heaps padded). One
arena for every thread made batched generation queue on its lock: each Eigen dot in the
sampling scan mallocs its packing buffers, and the stream groups' threads and Eigen's pool
all took the one lock for them, hundreds of times a sample. One arena per core plus the
main heap serves both (2-core Zen 4, alternating runs: train step 6.83/6.88 s -> 6.37/6.43
s; 16 streams 30,000-32,000 -> 39,000-47,000 samples/s, 64 streams 23,700-33,800 ->
31,400-43,200; 1-4 streams unchanged).
"""
import ctypes
import os
import platform
from importlib import metadata

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
  libc.mallopt(_M_ARENA_MAX, cores() + 1)  # before XLA's threads exist (see above).
  libc.mallopt(_M_MMAP_MAX, 0)             # big blocks come from the brk heap ...
  libc.mallopt(_M_TRIM_THRESHOLD, -1)      # ... and stay mapped once freed (-1: never trim).


def cores() -> int:
  """The cores this process may run on."""
  return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count() or 1


def configure() -> None:
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
