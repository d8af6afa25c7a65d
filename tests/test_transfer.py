"""The swap-a-speaker transfer study on the demo corpus with one class swapped: the report's numbers
against separately evaluated checkpoints and numpy, resuming, and its bad inputs."""
import json
import os

import numpy as np
import pytest

from configs import transfer_speaker_to_blues
from tests import tiny
from wavenet_jax.apps import train, transfer
from wavenet_jax.checkpoints import checkpointing
from wavenet_jax.common import config_checks


def study_config(demo_dir, init_from):
  """configs/transfer_speaker_to_blues.py:demo at test size: bell's clips swapped for drums."""
  c = transfer_speaker_to_blues.get_config('demo')
  small = tiny.config(demo_dir)
  c.model = small.model
  c.data.source = demo_dir
  c.data.mix = ({'source': demo_dir, 'corpus': 'demo', 'include': ('drum',), 'rename': ('drum=bell',)},)
  c.data.sample_size = 64
  c.train.batch_size = c.eval.batch_size = 2
  c.train.num_train_steps = 4
  c.train.log_every_steps = 2
  c.transfer.every_steps = 2
  c.transfer.generate_num_samples = 1200
  c.train.init_from = init_from
  return c


@pytest.fixture(scope='module')
def study(tmp_path_factory):
  tmp = tmp_path_factory.mktemp('transfer')
  demo_dir = tiny.build_demo(tmp / 'demo')
  train.train_and_evaluate(tiny.config(demo_dir, steps=3), str(tmp / 'speech'))
  c = study_config(demo_dir, str(tmp / 'speech'))
  numbers = transfer.study(c, str(tmp / 'swap'))
  return c, str(tmp / 'swap'), numbers


def test_report_numbers_equal_separately_evaluated_checkpoints(study):
  c, workdir, numbers = study
  report = os.path.join(workdir, 'report')
  for name in ('report.md', 'nll_per_class.png', 'changes.png', 'numbers.json', 'history.json'):
    assert os.path.exists(os.path.join(report, name)), name
  with open(os.path.join(report, 'history.json')) as f:
    history = json.load(f)
  assert numbers['steps'] == [0, 2, 4] == sorted(int(s) for s in history)
  names = numbers['class_names']
  assert names[0] == 'bell' and numbers['swapped_class'] == 'bell'  # the speech run's class order kept

  tables = {}
  for step in numbers['steps']:
    separate = train.evaluate(c, workdir, step=step)  # --mode=eval of that checkpoint
    for k in names:
      assert numbers['nll_bits'][k][numbers['steps'].index(step)] == pytest.approx(
          separate['bits_per_sample_per_class'][k], abs=1e-9)
    state, _ = checkpointing.load(os.path.join(workdir, 'checkpoints', str(step)))
    tables[step] = np.asarray(state['params']['params']['gc_embedding'], np.float64)
    np.testing.assert_array_equal(history[str(step)]['embedding'], tables[step])
    for cls, rel in history[str(step)]['audio'].items():
      assert os.path.exists(os.path.join(report, rel)), rel

  # The step-0 model is the speech model as trained: the study starts from it.
  speech = checkpointing.load(c.train.init_from)[0]['params']['params']['gc_embedding']
  np.testing.assert_array_equal(tables[0], speech)
  drift = np.linalg.norm(tables[4] - tables[0], axis=1) / np.linalg.norm(tables[0], axis=1)
  for i, k in enumerate(names):
    assert numbers['embedding_drift'][k] == pytest.approx(drift[i], rel=1e-12)
    start, end = numbers['nll_bits'][k][0], numbers['nll_bits'][k][-1]
    assert numbers['relative_nll_change'][k] == pytest.approx((end - start) / start, rel=1e-12)
  others = [k for k in names if k != 'bell']
  assert numbers['others_mean_embedding_drift'] == pytest.approx(np.mean([numbers['embedding_drift'][k] for k in others]))
  text = open(os.path.join(report, 'report.md')).read()
  assert '## 1.' in text and '## 2.' in text and '## 3.' in text and 'bell (swapped)' in text


def test_measures_against_numpy():
  steps = [0, 10, 20, 30]
  assert transfer.steps_to_fraction(steps, [6.0, 5.0, 4.5, 4.0], 0.5) == 10  # fell 1 of 2 by step 10
  assert transfer.steps_to_fraction(steps, [6.0, 5.5, 4.2, 4.0], 0.9) == 20
  assert transfer.steps_to_fraction(steps, [4.0, 4.1, 4.2, 4.3], 0.5) is None
  rng = np.random.default_rng(0)
  a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
  np.testing.assert_allclose(transfer.embedding_drift(a, b),
                             [np.sqrt(((b[i] - a[i])**2).sum() / (a[i]**2).sum()) for i in range(3)])
  tone = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
  noise = rng.normal(size=16000) * 0.3
  p_tone, p_noise = transfer.spectral_profile([tone], 16000), transfer.spectral_profile([noise], 16000)
  assert transfer.spectral_distance(p_tone, p_tone) == 0
  assert transfer.spectral_distance(p_tone, p_noise) > 10  # a pure tone is far from white noise


def test_relaunch_resumes_without_retraining(study, capsys):
  c, workdir, numbers = study
  history_path = os.path.join(workdir, 'report', 'history.json')
  with open(history_path) as f:
    history = json.load(f)
  del history['4']  # as if killed after step 4's checkpoint, before its measurement
  with open(history_path, 'w') as f:
    json.dump(history, f)
  again = transfer.study(c, workdir)
  out = capsys.readouterr().out
  assert 'transfer study: step 4 measured' in out and 'step 2 measured' not in out
  assert 'step 3/4' not in out  # nothing retrained
  assert again['nll_bits'] == numbers['nll_bits']


def test_bad_study_configs_fail_in_one_line(study, tmp_path):
  c, _, _ = study
  bad = c.copy_and_resolve_references()
  bad.transfer.swapped_class = 'p225'
  with pytest.raises(config_checks.ConfigError, match=r"transfer.swapped_class='p225': not a class of this run"):
    transfer.study(bad, str(tmp_path / 'a'))
  bad = c.copy_and_resolve_references()
  bad.train.init_from = ''
  with pytest.raises(config_checks.ConfigError, match='train.init_from is empty'):
    transfer.study(bad, str(tmp_path / 'b'))
  with pytest.raises(ValueError, match=':blues=/path/to/genres'):
    transfer_speaker_to_blues.get_config()
  bad = c.copy_and_resolve_references()
  bad.transfer.generate_classes = ('cello',)
  with pytest.raises(config_checks.ConfigError, match=r"^transfer.generate_classes: 'cello' is not a class of this "
                                                       r"run \(bell, brass, chirp\)$"):
    transfer.generated_classes(bad, ['bell', 'brass', 'chirp'])


def test_demo_variant_data_is_the_demo_with_bell_swapped_for_drums(study):
  """The shipped :demo config's data (no source: the synthesised demo, also in its mix entry)."""
  from wavenet_jax.input import sources
  c, _, _ = study
  shipped = transfer_speaker_to_blues.get_config('demo').data
  seen = []

  def resolve(source, corpus, options):  # the demo, wherever the cache would put it
    seen.append((source, corpus))
    return c.data.source

  src = sources.from_config(shipped, resolve)
  assert seen == [('', 'demo'), ('', 'demo')]
  assert sorted(src.class_names) == ['bell', 'brass', 'chirp', 'drum', 'flute', 'pluck']
  counts = src.host_num_examples('train', 0, 1)
  assert counts == 6 * 4  # 5 classes of 4 clips, and bell = the 4 drum clips again
