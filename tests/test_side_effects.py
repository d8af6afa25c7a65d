"""Importing the package changes no process state; figures leave matplotlib's backend alone;
the CPU tuning happens only when an entry point asks for it, and can be switched off."""
import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What a user's shell may set that would hide a change (or make one).
_UNSET = ('XLA_FLAGS', 'MPLBACKEND', 'WAVENET_JAX_CPU_TUNING')


def run_python(code, **env):
  """Runs code in a fresh interpreter (cwd: the repository) -> the JSON its last line prints."""
  clean = {k: v for k, v in os.environ.items() if k not in _UNSET}
  out = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], cwd=ROOT, capture_output=True,
                       text=True, timeout=120, env=dict(clean, **env))
  assert out.returncode == 0, out.stderr[-3000:]
  return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_every_module_changes_no_process_state():
  state = run_python('''
      import importlib, json, os, pkgutil, signal
      import matplotlib

      def state():
        return {'xla_flags': os.environ.get('XLA_FLAGS'),
                'backend': repr(dict.__getitem__(matplotlib.rcParams, 'backend')),
                'signals': [repr(signal.getsignal(s)) for s in (signal.SIGINT, signal.SIGTERM)]}

      before = state()
      import wavenet_jax
      names = [m.name for m in pkgutil.walk_packages(wavenet_jax.__path__, 'wavenet_jax.')]
      for name in names:
        importlib.import_module(name)
      print(json.dumps({'before': before, 'after': state(), 'modules': names}))
  ''')
  assert state['after'] == state['before']
  assert state['after']['xla_flags'] is None
  assert {'wavenet_jax.apps.train', 'wavenet_jax.input.pipeline', 'wavenet_jax.common.plots',
          'wavenet_jax.runtime.xla_cpu'} <= set(state['modules'])


def test_the_kinds_and_the_sampling_modes_load_no_tensorflow():
  """The registry with every kind, the config checks (a sweep checks all its runs) and the
  modes that sample from a checkpoint import no TensorFlow: seconds saved at every launch."""
  state = run_python('''
      import json, sys
      from wavenet_jax.kinds import registry
      registry.names()
      from wavenet_jax.training import checks
      from wavenet_jax.apps import encode_synthesize, generate_files, vocode
      print(json.dumps({'tensorflow': 'tensorflow' in sys.modules}))
  ''')
  assert state == {'tensorflow': False}


def test_figures_leave_the_backend_alone_and_are_rgb_images(tmp_path):
  # A fresh interpreter: the backend is still undecided there, so any choice would show.
  result = run_python(f'''
      import json
      import matplotlib
      import numpy as np
      from wavenet_jax.common import plots

      backend = lambda: repr(dict.__getitem__(matplotlib.rcParams, 'backend'))
      before = backend()
      rng = np.random.default_rng(0)
      images = [
          plots.spectrogram_image(rng.standard_normal(4000), 8000, 'noise'),
          plots.confusion_image([[3, 1], [0, 4]], ['a', 'b'], 'confusion'),
          plots.scatter_image(rng.standard_normal((6, 2)), list('aabbcc'), 'legend'),
          plots.scatter_image(rng.standard_normal((3, 2)), list('xyz'), 'annotated', annotate=True),
      ]
      fig, axes = plots.figure((4, 3), ncols=2)
      axes[1].plot([0, 1], [1, 0])
      plots.save_figure(fig, {str(tmp_path / 'two.png')!r})
      shapes = [list(i.shape) for i in images]
      dtypes = [str(i.dtype) for i in images]
      print(json.dumps({{'before': before, 'after': backend(), 'shapes': shapes, 'dtypes': dtypes,
                        'resolved': matplotlib.get_backend()}}))
  ''')
  assert result['after'] == result['before']
  assert result['resolved'].lower() == 'agg'  # what an undecided backend resolves to without a display
  assert all(len(s) == 3 and s[2] == 3 and s[0] > 50 and s[1] > 50 for s in result['shapes'])
  assert set(result['dtypes']) == {'uint8'}
  assert os.listdir(tmp_path) == ['two.png']  # the temp file renamed, not left behind
  assert (tmp_path / 'two.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_figures_in_this_process_keep_its_backend():
  import matplotlib

  from wavenet_jax.common import plots
  before = matplotlib.get_backend()
  image = plots.confusion_image(np.eye(3, dtype=int), ['a', 'b', 'c'])
  assert matplotlib.get_backend() == before
  assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3


_CONFIGURE = '''
    import json, os
    from wavenet_jax.runtime import xla_cpu
    xla_cpu.configure()
    print(json.dumps({'xla_flags': os.environ.get('XLA_FLAGS')}))
'''


def test_cpu_tuning_switched_off_sets_no_flags():
  assert run_python(_CONFIGURE, WAVENET_JAX_CPU_TUNING='0')['xla_flags'] is None


@pytest.mark.skipif(not metadata.version('jaxlib').startswith('0.10.'),
                    reason='the XLA:CPU flags are only added on the jaxlib line they were measured on')
def test_cpu_tuning_sets_the_flags_on_jaxlib_0_10():
  flags = run_python(_CONFIGURE)['xla_flags']
  assert '--xla_cpu_experimental_ynn_fusion_type=' in flags
  assert '--xla_cpu_prefer_vector_width=512' in flags


def test_tensorflow_is_hidden_once_and_a_late_call_does_not_fail(monkeypatch):
  from wavenet_jax.input import pipeline
  calls = []

  def initialised(devices, kind):
    calls.append(kind)
    raise RuntimeError('Visible devices cannot be modified after being initialized')

  monkeypatch.setattr(pipeline.tf.config, 'list_physical_devices', lambda kind: [f'/physical_device:{kind}:0'])
  monkeypatch.setattr(pipeline.tf.config, 'set_visible_devices', initialised)
  monkeypatch.setattr(pipeline, '_tf_hidden_from_accelerators', False)
  pipeline.keep_tf_off_accelerators()
  pipeline.keep_tf_off_accelerators()
  assert calls == ['GPU', 'TPU']
