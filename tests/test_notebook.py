"""notebooks/colab_tpu.ipynb runs top to bottom (on CPU, tiny model, synthetic GTZAN folder).

Its code cells are plain Python (commands go through its own `sh` helper, not IPython's
`!`), so executing them in order in one namespace is what a kernel would do.
"""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(ROOT, 'notebooks', 'colab_tpu.ipynb')


def test_notebook_cells_run_top_to_bottom(monkeypatch, capsys):
  with open(NOTEBOOK) as f:
    nb = json.load(f)
  assert nb['nbformat'] == 4
  cells = [''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code']
  assert not any(line.lstrip().startswith(('!', '%')) for cell in cells for line in cell.splitlines())
  monkeypatch.setenv('NOTEBOOK_TEST', '1')
  monkeypatch.setenv('WAVENET_JAX_REPO', ROOT)
  namespace = {'__name__': '__notebook__'}
  for i, source in enumerate(cells):
    exec(compile(source, f'{NOTEBOOK} code cell {i + 1}', 'exec'), namespace)
  out = capsys.readouterr().out
  assert 'step 2/2' in out and '3 classes' in out
  # every genre and unconditioned, from silence and from the prime, each played
  wavs = sorted(os.path.basename(p) for p in namespace['generated'])
  stems = [f'{g}{p}_seed0.wav' for g in ('blues', 'classical', 'metal', 'unconditioned')
           for p in ('', '_blues.00000')]
  assert wavs == sorted(stems)
  assert all(os.path.exists(p[:-4] + '.png') for p in namespace['generated'])
