"""--mode=embeddings: saved vectors equal the checkpoint's table / independently pooled encoder outputs."""
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests import tiny
from tests.test_nsynth import np_encoder
from wavenet_jax.apps import embedding_plots, train
from wavenet_jax.checkpoints import checkpointing
from wavenet_jax.common import config_checks
from wavenet_jax.input import audio
from wavenet_jax.models.wavenet import WaveNet
from wavenet_jax.training import run as training_run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOP = 16


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
  return tiny.build_demo(str(tmp_path_factory.mktemp('demo') / 'demo'))


@pytest.fixture(scope='module')
def gc_run(demo, tmp_path_factory):
  """A tiny class-conditioned WaveNet with a null row, trained 2 steps, EMA params kept."""
  c = tiny.config(demo, steps=2)
  c.model.gc_null_class = True
  c.train.class_dropout = 0.5
  c.train.ema_decay = 0.5  # the EMA table differs from the raw one after 2 steps
  workdir = str(tmp_path_factory.mktemp('gc') / 'run')
  train.train_and_evaluate(c, workdir)
  return c, workdir


def test_gc_table_saved_exactly_labelled_and_plotted(gc_run, capsys):
  c, workdir = gc_run
  written = embedding_plots.plot_embeddings(c, workdir)['gc_embedding']
  state, meta = checkpointing.load(workdir)
  table = state['ema_params']['params']['gc_embedding']  # [K + 1, C]
  assert not np.array_equal(table, state['params']['params']['gc_embedding'])  # the EMA one is taken
  saved = np.load(written['npy'])
  assert saved.dtype == table.dtype and np.array_equal(saved, table)
  assert table.shape == (7, c.model.gc_channels)  # 6 demo classes + null

  from tensorboard.plugins.projector import projector_config_pb2, projector_plugin
  from google.protobuf import text_format
  np.testing.assert_allclose(np.loadtxt(written['tsv'], delimiter='\t', ndmin=2), table, rtol=1e-6, atol=1e-7)
  np.testing.assert_allclose(projector_plugin._read_tensor_tsv_file(written['tsv']), table, rtol=1e-6)
  with open(written['labels']) as f:
    lines = f.read().split('\n')
  assert lines[-1] == '' and lines[:-1] == meta['class_names'] + ['null']  # one line per row, no header
  config = projector_config_pb2.ProjectorConfig()
  with open(os.path.join(workdir, 'latent', 'projector_config.pbtxt')) as f:
    text_format.Parse(f.read(), config)
  assert [(e.tensor_path, e.metadata_path) for e in config.embeddings] == [('gc_embedding.tsv',
                                                                            'gc_embedding_labels.tsv')]

  assert os.path.getsize(written['pca']) > 1000 and os.path.getsize(written['tsne']) > 1000
  assert {'latent/gc_embedding_pca', 'latent/gc_embedding_tsne'} <= tiny.read_tags(os.path.join(workdir, 'latent'))
  out = capsys.readouterr().out
  assert 'clamped to 2 = (N - 1) / 3 for N = 7 points' in out and 'PCA explains' in out


def test_pca_equals_the_covariance_eigenvectors():
  x = np.random.default_rng(0).normal(size=(9, 5)) * [3.0, 2.0, 1.0, 0.5, 0.1]
  coords, ratio = embedding_plots.pca(x)
  centred = x - x.mean(0)
  values, vectors = np.linalg.eigh(np.cov(centred, rowvar=False))  # ascending
  top = vectors[:, ::-1][:, :2]
  want = centred @ top  # [N, 2], each column up to sign
  for k in range(2):
    sign = np.sign(want[:, k] @ coords[:, k])
    np.testing.assert_allclose(coords[:, k], sign * want[:, k], atol=1e-10)
  np.testing.assert_allclose(ratio, values[::-1][:2] / values.sum(), rtol=1e-10)
  np.testing.assert_array_equal(embedding_plots.pca(x[:1])[0], np.zeros((1, 2)))  # one point: nothing to spread


def test_tsne_needs_four_points_and_clamps_its_perplexity():
  x = np.random.default_rng(1).normal(size=(5, 3))
  assert embedding_plots.tsne(x[:3], 30.0, 0) == (None, 't-SNE skipped: 3 points (it needs at least 4)')
  coords, note = embedding_plots.tsne(x, 30.0, 0)
  assert coords.shape == (5, 2) and np.all(np.isfinite(coords)) and 'clamped to 1.33' in note
  assert embedding_plots.tsne(x, 1.0, 0)[1] == ''  # small enough: kept, nothing said


def tiny_autoencoder_config(demo):
  from configs import nsynth_autoencoder
  c = nsynth_autoencoder.get_config('tiny')
  c.data.source = demo
  m = c.model
  m.dilations = m.encoder.dilations = (1, 2, 4)
  m.encoder.hop = HOP
  c.data.sample_size = 272 * HOP  # longer than the 4,000-sample demo clips: 22 padding frames each
  c.data.shuffle_buffer = 8
  c.train.batch_size = c.eval.batch_size = 4
  c.train.num_train_steps = 1
  c.train.log_every_steps = c.train.checkpoint_every_steps = 1
  return c


def test_autoencoder_vectors_are_mean_pooled_encoder_outputs(demo, tmp_path):
  c = tiny_autoencoder_config(demo)
  workdir = str(tmp_path / 'ae')
  train.train_and_evaluate(c, workdir)
  c.latent.split, c.latent.max_examples = 'train', 10  # of 24 clips; 10 is not a batch multiple
  written = embedding_plots.plot_embeddings(c, workdir)['encoder_train']
  vectors = np.load(written['npy'])
  ids = np.load(os.path.join(workdir, 'latent', 'encoder_train_label_ids.npy'))

  state, _ = checkpointing.load(workdir)
  params = state['ema_params']['params']['encoder']
  run = training_run.open_run(c, workdir)
  crops = [dict(zip(b, v)) for b in run.eval_batches('train') for v in zip(*b.values())][:10]
  want = []
  for crop in crops:
    scaled = audio.nsynth_scalar(audio.mu_law_encode(crop['audio'][None], 256, 'nsynth'), 256)
    frames = np_encoder(params, scaled, c.model.encoder)[0]  # [272, E], float64
    valid = int(np.ceil(crop['mask'].sum() / HOP))
    assert valid == 250  # the clip, then padding the vector must not average in
    want.append(frames[:valid].mean(0))
  assert vectors.shape == (10, 4) and vectors.dtype == np.float32
  np.testing.assert_allclose(vectors, np.stack(want), rtol=1e-4, atol=1e-5)
  np.testing.assert_array_equal(ids, [crop['label'] for crop in crops])
  with open(written['labels']) as f:
    assert f.read().splitlines() == [run.class_names[i] for i in ids]
  np.testing.assert_allclose(np.loadtxt(written['tsv'], delimiter='\t'), vectors, rtol=1e-6, atol=1e-7)
  assert os.path.getsize(written['pca']) > 1000 and os.path.getsize(written['tsne']) > 1000
  assert {'latent/encoder_train_pca', 'latent/encoder_train_tsne'} <= tiny.read_tags(os.path.join(workdir, 'latent'))

  c.latent.max_examples = 0
  with pytest.raises(config_checks.ConfigError, match=r'latent.max_examples=0: must be an integer >= 1'):
    embedding_plots.plot_embeddings(c, workdir)


def test_unconditioned_wavenet_fails_in_one_line(tmp_path):
  from configs import demo
  c = demo.get_config()
  c.model.dilations = (1, 2)
  c.model.gc_cardinality = 0
  model = WaveNet.from_config(c.model)
  params = model.init(jax.random.key(0), jnp.zeros((1, 3), jnp.int32))
  ckpt = checkpointing.Checkpointer(str(tmp_path / 'run'))
  ckpt.save(0, {'step': np.int32(0), 'params': params}, {
      'step': 0, 'class_names': [], 'gc_cardinality': 0, 'model': c.model.to_dict(), 'null_class_id': None})
  ckpt.wait()
  ckpt.close()
  out = subprocess.run([sys.executable, 'launch.py', '--config=configs/demo.py', f'--workdir={tmp_path / "run"}',
                        '--mode=embeddings'], cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert out.returncode == 2, out.stderr[-3000:]
  lines = [l for l in out.stderr.splitlines() if l.startswith('error:')]
  assert len(lines) == 1 and 'Traceback' not in out.stderr, out.stderr[-3000:]
  assert 'unconditioned WaveNet (model.gc_cardinality 0) has no embedding to plot' in lines[0]
