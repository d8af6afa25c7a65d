"""XLA:CPU tuning that must be set before JAX starts (entry points call `configure()` first).

jaxlib 0.10's CPU backend routes matmul-containing fusions to YNNPACK; for the WaveNet
train step that is slower than XLA's own emitters (ibab-default step, 2-core CPU: 6.5 s
off vs 7.7 s on; generation unchanged). The flag only exists in the jaxlib line it was
measured on, and XLA aborts on unknown flags, so it is added only there.
"""
import os
from importlib import metadata

_FLAG = '--xla_cpu_experimental_ynn_fusion_type='


def configure() -> None:
  try:
    version = metadata.version('jaxlib')
  except metadata.PackageNotFoundError:
    return
  flags = os.environ.get('XLA_FLAGS', '')
  if version.startswith('0.10.') and 'ynn_fusion_type' not in flags:
    os.environ['XLA_FLAGS'] = f'{flags} {_FLAG}'.strip()
