"""The classifiers on the NSynth encoder: pooling and heads against numpy float64, both
variants learning a separable task, the two-head loss as the sum of its parts, freezing, metrics."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from configs import _classifier
from wavenet_jax.apps import train
from wavenet_jax.checkpoints import warm_start
from wavenet_jax.kinds import nsynth_classifier, registry
from wavenet_jax.models import classifier, nsynth
from wavenet_jax.training import optim
from wavenet_jax.training import run as training_run

HOP = 16
T = 256  # 16 frames


def model_config(kind, pooling='mean'):
  c = _classifier.get_config(tiny=True, two_heads=kind == 'nsynth_autoencoder_classifier')
  m = c.model
  m.dilations = m.encoder.dilations = (1, 2, 4)
  m.encoder.hop = HOP
  m.classifier.pooling = pooling
  m.classifier.hidden = (16,)
  m.classifier.attention_channels = 8
  return c


def tones(n, seed, num_classes=4):
  """A separable task: class k is a tone near 300·(k+1) Hz at 16 kHz, random phase, level and noise."""
  rng = np.random.default_rng(seed)
  labels = rng.integers(0, num_classes, n)
  t = np.arange(T) / 16000
  freqs = 300.0 * (labels + 1) * rng.uniform(0.95, 1.05, n)
  x = rng.uniform(0.2, 0.6, (n, 1)) * np.sin(2 * np.pi * freqs[:, None] * t + rng.uniform(0, 6.3, (n, 1)))
  x += 0.02 * rng.normal(size=x.shape)
  return {'audio': x.astype(np.float32), 'mask': np.ones_like(x, np.float32), 'label': labels.astype(np.int32)}


def init(model, seed=0):
  return model.init(jax.random.key(seed), jnp.zeros((1, T)), jnp.ones((1, T)))


# ------------------------------------------------------------------- pooling and head

def np_head(p, frames, mask, pooling):
  """The head in float64 numpy: masked pooling, then the ReLU MLP."""
  p = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), p)
  frames = np.asarray(frames, np.float64)
  pooled = []
  for f, m in zip(frames, np.asarray(mask) > 0):
    valid = f[m]
    if pooling == 'mean':
      pooled.append(valid.mean(0))
    elif pooling == 'max':
      pooled.append(valid.max(0))
    elif pooling == 'stats':
      pooled.append(np.concatenate([valid.mean(0), np.sqrt(valid.var(0) + classifier.STATS_EPSILON)]))
    else:
      scores = np.tanh(valid @ p['attention']['kernel'] + p['attention']['bias']) @ p['score']['kernel'] + p['score']['bias']
      w = np.exp(scores - scores.max())
      pooled.append((w / w.sum() * valid).sum(0))
  x = np.stack(pooled)
  x = np.maximum(x @ p['hidden_0']['kernel'] + p['hidden_0']['bias'], 0)
  return x @ p['logits']['kernel'] + p['logits']['bias']


@pytest.mark.parametrize('pooling', ['mean', 'max', 'stats', 'attention'])
def test_head_matches_numpy_and_ignores_padding_frames(pooling):
  head = classifier.Head(in_features=4, num_classes=3, pooling=pooling, hidden=(5,), attention_channels=6)
  rng = np.random.default_rng(0)
  frames = rng.normal(size=(3, 7, 4)).astype(np.float32)
  mask = np.ones((3, 7), np.float32)
  mask[1, 4:] = 0
  mask[2, :1] = 0
  params = head.init(jax.random.key(0), frames, mask)
  params = jax.tree_util.tree_map(lambda a: a + 0.3 * rng.normal(size=a.shape).astype(np.float32), params)
  got = head.apply(params, frames, mask)
  np.testing.assert_allclose(got, np_head(params['params'], frames, mask, pooling), rtol=1e-5, atol=1e-5)
  poisoned = frames.copy()
  poisoned[1, 4:] = 1e3  # padding frames must not matter
  np.testing.assert_allclose(head.apply(params, poisoned, mask), got, rtol=1e-6, atol=1e-6)


def test_frame_mask_counts_a_frame_with_any_audio():
  mask = np.zeros((1, 4 * HOP), np.float32)
  mask[0, :2 * HOP + 1] = 1
  np.testing.assert_array_equal(classifier.frame_mask(jnp.asarray(mask), HOP), [[1, 1, 1, 0]])


# ------------------------------------------------------------------------- learning

@pytest.mark.parametrize('kind', ['nsynth_classifier', 'nsynth_autoencoder_classifier'])
def test_both_classifiers_learn_a_separable_task(kind):
  """Fresh weights (no pretraining), a few hundred CPU steps, >= 95% on held-out crops."""
  c = model_config(kind, pooling='attention' if kind == 'nsynth_classifier' else 'mean')
  model = registry.of(c.model).build(c, 4)
  params = init(model)
  tx = optax.adam(3e-3)
  opt_state = tx.init(params)

  @jax.jit
  def step(params, opt_state, batch):
    (loss, metrics), grads = jax.value_and_grad(
        lambda p: registry.of(c.model).objective(model, c, p, batch), has_aux=True)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, metrics

  for i in range(250):
    params, opt_state, metrics = step(params, opt_state, tones(32, seed=i))
  held_out = tones(400, seed=10_000)
  sums = jax.jit(lambda p, b: nsynth_classifier.eval_sums(model, p, b, 4))(params, held_out)
  metrics = nsynth_classifier.summarize(jax.device_get(sums), ['a', 'b', 'c', 'd'], 'held_out')
  assert metrics['accuracy'] >= 0.95, metrics
  assert metrics['examples'] == 400


def test_two_head_loss_is_the_sum_of_its_parts():
  """Total = reconstruction CE (the plain autoencoder on the same weights) + w · class CE (numpy)."""
  c = model_config('nsynth_autoencoder_classifier')
  c.train.classification_weight = 0.3
  model = registry.of(c.model).build(c, 4)
  params = jax.tree_util.tree_map(lambda a: a + 0.1, init(model))
  batch = tones(6, seed=1)
  batch['mask'][2, 200:] = 0  # a short clip: its padding is neither reconstructed nor pooled
  loss, metrics = registry.of(c.model).objective(model, c, params, batch)

  ae = nsynth.from_config(c.model)
  ae_params = {'params': {k: params['params'][k] for k in ('encoder', 'decoder')}}
  logits, targets, embedding = ae.apply(ae_params, jnp.asarray(batch['audio']))
  logits = np.asarray(logits, np.float64)
  logp = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) - logits.max(-1, keepdims=True)
  nll = -np.take_along_axis(logp, np.asarray(targets)[..., None], -1)[..., 0]
  recon = np.sum(nll * batch['mask']) / np.sum(batch['mask'])
  frame_mask = batch['mask'].reshape(6, -1, HOP).max(-1)
  class_logits = np_head(params['params']['head'], embedding, frame_mask, 'mean')
  shifted = class_logits - class_logits.max(1, keepdims=True)
  log_probs = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
  ce = -np.mean(log_probs[np.arange(6), batch['label']])
  np.testing.assert_allclose(metrics['reconstruction_loss'], recon, rtol=1e-5)
  np.testing.assert_allclose(metrics['classification_loss'], ce, rtol=1e-5)
  np.testing.assert_allclose(loss, recon + 0.3 * ce, rtol=1e-5)


@pytest.mark.parametrize('kind', ['nsynth_classifier', 'nsynth_autoencoder_classifier'])
def test_encoder_frozen_or_at_a_lower_rate(kind):
  """SGD, one step: frozen leaves the encoder exactly, lower_lr moves it scale x as far; the rest
  moves the same in all three modes."""
  c = model_config(kind)
  c.train.optimizer, c.train.momentum, c.train.learning_rate = 'sgd', 0.0, 0.1
  c.train.encoder_lr_scale = 0.25
  batch = tones(4, seed=2)
  moved = {}
  for mode in ('fine_tune', 'frozen', 'lower_lr'):
    c.train.encoder_training = mode
    model = registry.of(c.model).build(c, 4)
    params = init(model)
    tx, _ = optim.make_optimizer(c)
    grads = jax.grad(lambda p: registry.of(c.model).objective(model, c, p, batch)[0])(params)
    updates, _ = tx.update(grads, tx.init(params), params)
    moved[mode] = jax.tree_util.tree_map(lambda u: np.asarray(u, np.float64), updates['params'])
  enc = lambda mode: jax.tree_util.tree_leaves(moved[mode]['encoder'])
  assert all(np.all(u == 0) for u in enc('frozen'))
  assert any(np.any(u != 0) for u in enc('fine_tune'))
  for full, low in zip(enc('fine_tune'), enc('lower_lr')):
    np.testing.assert_allclose(low, 0.25 * full, rtol=1e-5, atol=1e-12)
  for mode in ('frozen', 'lower_lr'):
    for a, b in zip(jax.tree_util.tree_leaves(moved['fine_tune']['head']), jax.tree_util.tree_leaves(moved[mode]['head'])):
      np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-12)


# -------------------------------------------------------------------------- metrics

def test_eval_metrics_against_a_count_by_hand():
  """Accuracy, top-5, per-class accuracy and the confusion matrix from fixed logits; a padding
  example (mask 0) is not counted."""
  num_classes = 7
  rng = np.random.default_rng(3)
  logits = rng.normal(size=(12, num_classes)).astype(np.float32)
  labels = rng.integers(0, num_classes, 12).astype(np.int32)
  mask = np.ones((12, T), np.float32)
  mask[11] = 0  # evaluation padding

  class Fixed(classifier.Classifier):  # a "model" whose logits are the ones above
    def __call__(self, audio_f, mask):
      return jnp.asarray(logits)

  model = Fixed(encoder=nsynth.Encoder(), head=None)
  batch = {'audio': np.zeros((12, T), np.float32), 'mask': mask, 'label': labels}
  sums = jax.device_get(nsynth_classifier.eval_sums(model, {'params': {}}, batch, num_classes))
  names = [f'c{i}' for i in range(num_classes)]
  m = nsynth_classifier.summarize({k: np.asarray(v, np.float64) for k, v in sums.items()}, names, 'x')
  real = slice(0, 11)
  pred = logits[real].argmax(1)
  rank = (logits[real] > logits[real][np.arange(11), labels[real]][:, None]).sum(1)
  assert m['examples'] == 11
  assert m['accuracy'] == pytest.approx(np.mean(pred == labels[real]))
  assert m['top5_accuracy'] == pytest.approx(np.mean(rank < 5))
  confusion = np.zeros((num_classes, num_classes), int)
  for t, p in zip(labels[real], pred):
    confusion[t, p] += 1
  assert m['confusion'] == confusion.tolist()
  for i, name in enumerate(names):
    n = np.sum(labels[real] == i)
    expected = np.mean(pred[labels[real] == i] == i) if n else None
    assert (np.isnan(m['per_class_accuracy'][name]) if expected is None
            else m['per_class_accuracy'][name] == pytest.approx(expected))
  logp = logits[real] - np.log(np.exp(logits[real]).sum(1, keepdims=True))
  assert m['cross_entropy'] == pytest.approx(-np.mean(logp[np.arange(11), labels[real]]), rel=1e-5)
  assert 'accuracy' in nsynth_classifier.format_table(m)


def test_clip_scores_against_a_count_by_hand():
  """Clips of different lengths tiled (the last tile padded, mask 0 there), tile logits
  averaged per clip, the clip metrics counted by hand."""
  from wavenet_jax.evaluation import clip_scores
  audio, mask = clip_scores.tiles(np.arange(1, 11, dtype=np.float32), 4)
  assert audio.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 0, 0]]
  assert mask.tolist() == [[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 0, 0]]
  assert clip_scores.tiles(np.ones(3, np.float32), 4)[1].tolist() == [[1, 1, 1, 0]]

  rng = np.random.default_rng(4)
  lengths, labels, k = [1, 3, 2, 5, 1, 2], np.array([0, 1, 2, 1, 3, 0]), 6
  owners = np.repeat(np.arange(6), lengths)
  tile_logits = rng.normal(size=(len(owners), k))
  clip_logits = clip_scores.mean_over_clips(tile_logits, owners, 6)
  names = [f'c{i}' for i in range(k)]
  m = clip_scores.summarize(clip_logits, labels, names)
  hits, top5, confusion = 0, 0, np.zeros((k, k), int)
  for clip, label in enumerate(labels):
    mean = sum(tile_logits[i] for i in range(len(owners)) if owners[i] == clip) / lengths[clip]
    hits += int(np.argmax(mean) == label)
    top5 += int(sum(v > mean[label] for v in mean) < 5)
    confusion[label, np.argmax(mean)] += 1
  assert m['clips'] == 6 and m['clip_accuracy'] == hits / 6 and m['clip_top5_accuracy'] == top5 / 6
  assert m['clip_confusion'] == confusion.tolist()
  assert m['per_class_clip_accuracy']['c1'] == confusion[1, 1] / 2 and np.isnan(m['per_class_clip_accuracy']['c5'])


def test_baseline_reproduces_a_hand_computed_sklearn_fit():
  """MFCC means and stds (+ deltas) -> standardised logistic regression, fitted on the training
  clips' tiles; scored on crops and, log-probabilities averaged over tiles, on clips."""
  import librosa
  from sklearn.linear_model import LogisticRegression
  from sklearn.preprocessing import StandardScaler
  from wavenet_jax.evaluation import baseline
  rng = np.random.default_rng(6)
  rate, size = 8000, 2000

  def clip(label, seconds):
    t = np.arange(int(seconds * rate)) / rate
    f = 250 * (label + 1) * rng.uniform(0.9, 1.1)
    return label, (0.3 * np.sin(2 * np.pi * f * t) + 0.2 * rng.normal(size=t.size)).astype(np.float32)

  train = [clip(i % 3, rng.uniform(0.3, 0.8)) for i in range(18)]
  clips = [clip(i % 3, rng.uniform(0.3, 0.8)) for i in range(9)]
  crops = [(label, x[:size]) for label, x in clips]
  got = baseline.evaluate(train, crops, clips, size, rate, 4)  # a 4th class with no clip

  def features(x):
    m = librosa.feature.mfcc(y=x, sr=rate, n_mfcc=20)
    d = librosa.feature.delta(m, mode='nearest')
    return np.concatenate([m.mean(1), d.mean(1), m.std(1), d.std(1)])

  pieces = [(label, x[i:i + size]) for label, x in train for i in range(0, len(x), size)]
  x = np.stack([features(p) for _, p in pieces])
  scaler = StandardScaler().fit(x)
  fit = LogisticRegression(max_iter=2000).fit(scaler.transform(x), [label for label, _ in pieces])
  logp = lambda a: fit.predict_log_proba(scaler.transform(np.stack([features(p) for p in a])))
  crop_pred = logp([x for _, x in crops]).argmax(1)
  clip_pred = [logp([x[i:i + size] for i in range(0, len(x), size)]).mean(0).argmax() for _, x in clips]
  truth = np.array([label for label, _ in clips])
  assert got['baseline_accuracy'] == pytest.approx(np.mean(crop_pred == truth))
  assert got['baseline_clip_accuracy'] == pytest.approx(np.mean(np.array(clip_pred) == truth))
  assert got['baseline_clip_accuracy'] > 0.5  # tones in noise: it learns


def test_too_few_clips_for_a_split_or_one_class_fail_in_one_line(tmp_path):
  import soundfile
  from wavenet_jax.common.config_checks import ConfigError

  def tree(name, files):
    for relpath in files:
      path = tmp_path / name / relpath
      path.parent.mkdir(parents=True, exist_ok=True)
      t = np.arange(1600) / 16000
      soundfile.write(path, 0.3 * np.sin(2 * np.pi * 440 * t), 16000, subtype='PCM_16')
    return str(tmp_path / name)

  c = model_config('nsynth_classifier')
  c.data.corpus, c.data.cache_dir = 'folder', str(tmp_path / 'cache')
  c.data.source = tree('few', ['dog/1.wav', 'dog/2.wav', 'dog/3.wav', 'cat/1.wav'])  # cat: train only
  with pytest.raises(ConfigError) as e:
    training_run.open_run(c, str(tmp_path / 'w'))
  assert str(e.value).startswith("data.eval_split='validation': class 'cat' has no clip there, 1 in all")
  assert '\n' not in str(e.value)
  c.data.source = tree('one', ['dog/1.wav', 'dog/2.wav'])
  with pytest.raises(ConfigError, match=r'a classifier needs at least 2 classes with clips; .* has 1 \(dog\)$'):
    training_run.open_run(c, str(tmp_path / 'w'))


# ------------------------------------------------- runs: configs, pretrained starts, eval

ESC_CLASSES = (('dog', 0, 300), ('rooster', 1, 900), ('rain', 10, 2000))


def make_esc50(root):
  """A clean ESC-50-master tree: one 0.25 s clip per class per fold, 44.1 kHz, with meta/esc50.csv."""
  import csv

  import soundfile
  base = root / 'ESC-50-master'
  (base / 'audio').mkdir(parents=True)
  (base / 'meta').mkdir()
  rows = []
  rng = np.random.default_rng(5)
  for fold in range(1, 6):
    for category, target, freq in ESC_CLASSES:
      name = f'{fold}-{1000 + 10 * fold + target}-A-{target}.wav'
      t = np.arange(int(0.25 * 44_100)) / 44_100
      soundfile.write(base / 'audio' / name, 0.4 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.normal(size=t.size),
                      44_100, subtype='PCM_16')
      rows.append([name, fold, target, category, str(target in (0, 1)), 1000 + 10 * fold + target, 'A'])
  with open(base / 'meta' / 'esc50.csv', 'w', newline='') as f:
    writer = csv.writer(f)
    writer.writerow(['filename', 'fold', 'target', 'category', 'esc10', 'src_file', 'take'])
    writer.writerows(rows)
  return base


def shrink(c, tmp_path):
  """The configs' tiny variant made smaller still: hop 16, three layers, 256-sample crops."""
  m = c.model
  m.dilations = m.encoder.dilations = (1, 2, 4)
  m.encoder.hop = HOP
  c.data.sample_size = T
  c.data.cache_dir = str(tmp_path / 'cache')
  c.data.shuffle_buffer = 8
  c.train.batch_size = c.eval.batch_size = 4
  c.train.log_every_steps = 1
  c.train.checkpoint_every_steps = 2
  c.train.eval_every_steps = 0
  return c


@pytest.fixture(scope='module')
def esc_runs(tmp_path_factory):
  """An ESC-50 tree and a tiny autoencoder trained 2 steps on it (the 'pretrained' start)."""
  from configs import nsynth_autoencoder
  tmp = tmp_path_factory.mktemp('esc')
  src = make_esc50(tmp)
  ae = shrink(nsynth_autoencoder.get_config('tiny'), tmp)
  ae.data.corpus, ae.data.source = 'esc50', str(src)
  ae.data.train_split, ae.data.eval_split = 'fold1+fold2+fold3+fold4', 'fold5'
  ae.train.num_train_steps = 2
  ae.train.ema_decay = 0.0
  train.train_and_evaluate(ae, str(tmp / 'ae'))
  return tmp, src


def esc_config(tmp, src, variant='tiny,fold=5'):
  from configs import esc50
  c = shrink(esc50.get_config(variant), tmp)
  c.data.source = str(src)
  return c


def test_esc50_config_starts_from_an_autoencoder_trains_and_evaluates(esc_runs, capsys):
  from tests import tiny
  tmp, src = esc_runs
  c = esc_config(tmp, src)
  assert (c.data.train_split, c.data.eval_split) == ('fold1+fold2+fold3+fold4', 'fold5')
  c.train.init_from = str(tmp / 'ae')
  c.train.num_train_steps = 3
  workdir = str(tmp / 'cls')
  final = train.train_and_evaluate(c, workdir)
  out = capsys.readouterr().out
  assert 'Initialised encoder from' in out and '(head fresh)' in out
  assert 'accuracy' in out and 'step 3/3' in out
  assert final['examples'] == 3 * c.eval.crops_per_example  # fold5: one clip per class
  assert set(final['per_class_accuracy']) == {'dog', 'rain', 'rooster'}
  assert {'eval/accuracy', 'eval/top5_accuracy', 'eval/confusion', 'train/accuracy', 'eval/clip_accuracy',
          'eval/clip_confusion', 'eval/baseline_accuracy', 'eval/baseline_clip_accuracy'} <= tiny.read_tags(workdir)
  assert final['clips'] == 3 and 0 <= final['baseline_clip_accuracy'] <= 1
  assert 'by clip: 3 clips' in out and 'baseline (MFCC statistics' in out
  cached = list((tmp / 'cache').glob('baseline-*.json'))
  assert len(cached) == 1  # computed once for this data and these settings

  metrics = train.evaluate(c, workdir, 'fold2')  # --mode=eval on another fold
  import json
  import os
  with open(os.path.join(workdir, 'eval_fold2.json')) as f:
    saved = json.load(f)
  assert saved['step'] == 3 and saved['accuracy'] == metrics['accuracy']
  assert np.sum(saved['confusion']) == 3 * c.eval.crops_per_example
  assert os.path.exists(os.path.join(workdir, 'confusion_fold2.png'))


@pytest.mark.parametrize('kind', ['nsynth_classifier', 'nsynth_autoencoder_classifier'])
def test_pretrained_start_takes_our_autoencoder_modules(esc_runs, kind):
  from wavenet_jax.checkpoints import checkpointing
  from wavenet_jax.runtime import sharding
  tmp, src = esc_runs
  c = esc_config(tmp, src, 'tiny' + (',autoencoder' if kind != 'nsynth_classifier' else ''))
  run = training_run.open_run(c, str(tmp / f'init_{kind}'))
  tx, _ = optim.make_optimizer(c)
  fresh = run.init_state(tx).params
  params, modules = warm_start.params_from(str(tmp / 'ae'), fresh, sharding.make_mesh(), c)
  ae_params = checkpointing.load(str(tmp / 'ae'))[0]['params']['params']
  expected = ['encoder'] + (['decoder'] if kind != 'nsynth_classifier' else [])
  assert sorted(modules) == sorted(expected)
  for name in expected:
    jax.tree_util.tree_map(np.testing.assert_array_equal, params['params'][name], ae_params[name])
  jax.tree_util.tree_map(np.testing.assert_array_equal, params['params']['head'], fresh['params']['head'])


def test_pretrained_start_from_magentas_checkpoint(esc_runs, tmp_path):
  """A TF1 checkpoint with magenta's names (tests/test_magenta.py writes it) starts both modules."""
  from tests import test_magenta
  from wavenet_jax.checkpoints import magenta
  from wavenet_jax.runtime import sharding
  tmp, src = esc_runs
  c = esc_config(tmp, src, 'tiny,autoencoder')
  tensors = test_magenta.random_tensors(c.model, seed=3)
  prefix = test_magenta.save_tf1(str(tmp_path / 'model.ckpt-200000'), tensors)
  run = training_run.open_run(c, str(tmp_path / 'run'))
  fresh = run.init_state(optim.make_optimizer(c)[0]).params
  params, modules = warm_start.params_from(prefix, fresh, sharding.make_mesh(), c)
  imported = magenta.import_magenta_nsynth(prefix, c.model)['params']
  assert sorted(modules) == ['decoder', 'encoder']
  for name in modules:
    jax.tree_util.tree_map(np.testing.assert_array_equal, params['params'][name], imported[name])
  np.testing.assert_array_equal(params['params']['encoder']['start']['kernel'],
                                tensors['ae_startconv/W'][0])


def test_bad_starts_and_class_counts_fail_in_one_line(esc_runs, demo_wavenet_run):
  from wavenet_jax.checkpoints import checkpointing
  from wavenet_jax.common import config_checks
  from wavenet_jax.runtime import sharding
  tmp, src = esc_runs
  c = esc_config(tmp, src)
  c.model.classifier.num_classes = 50
  with pytest.raises(config_checks.ConfigError, match=r'model.classifier.num_classes=50: the dataset has 3 classes'):
    training_run.open_run(c, str(tmp / 'bad'))
  c = esc_config(tmp, src)
  run = training_run.open_run(c, str(tmp / 'bad'))
  fresh = run.init_state(optim.make_optimizer(c)[0]).params
  with pytest.raises(checkpointing.CheckpointError, match=r"has no parameter \['params'\]\['encoder'\].*a wavenet checkpoint does not fit"):
    warm_start.params_from(demo_wavenet_run, fresh, sharding.make_mesh(), c)
  c.train.init_modules = ('decoder',)
  with pytest.raises(config_checks.ConfigError, match=r"train.init_modules: this model has no module 'decoder'"):
    warm_start.params_from(str(tmp / 'ae'), fresh, sharding.make_mesh(), c)


def test_cpu_recipe_pretrains_then_fine_tunes_at_its_real_size(esc_runs, tmp_path, capsys):
  """`:cpu,pretrain` (the plain autoencoder of the CPU recipe) runs two steps on the ESC-50
  tree, then `:cpu` starts its encoder from it: both configs build and run at their real size."""
  from configs import esc50, speaker_id
  tmp, src = esc_runs
  finals = {}
  for variant in ('cpu,pretrain', 'cpu'):
    c = esc50.get_config(variant)
    c.data.source, c.data.cache_dir = str(src), str(tmp / 'cache')
    c.train.batch_size = c.eval.batch_size = 2
    c.train.num_train_steps = c.train.checkpoint_every_steps = 2
    c.train.eval_every_steps = 0
    if variant == 'cpu':
      c.train.init_from = str(tmp_path / 'pretrain')
    finals[variant] = train.train_and_evaluate(c, str(tmp_path / variant.split(',')[-1]))
  out = capsys.readouterr().out
  assert 0 < finals['cpu,pretrain']['bits_per_sample'] <= 8
  assert 'Initialised encoder from' in out and 'stats-pooling head' in out
  final = finals['cpu']
  assert final['clips'] == 3 and 0 <= final['clip_accuracy'] <= 1 and 0 <= final['baseline_clip_accuracy'] <= 1
  spk, esc = speaker_id.get_config('cpu'), esc50.get_config('cpu')
  assert spk.model == esc.model and spk.train == esc.train and spk.data.augment == esc.data.augment


@pytest.fixture(scope='module')
def demo_wavenet_run(tmp_path_factory):
  from tests import tiny
  tmp = tmp_path_factory.mktemp('wn')
  c = tiny.config(tiny.build_demo(tmp / 'demo'), steps=1)
  c.train.checkpoint_every_steps = 1
  train.train_and_evaluate(c, str(tmp / 'run'))
  return str(tmp / 'run')


def make_librispeech(root):
  """LibriSpeech/dev-clean/<speaker>/<chapter>/<speaker>-<chapter>-NNNN.flac, 16 kHz: 3 speakers."""
  import soundfile
  rng = np.random.default_rng(6)
  for speaker, chapter, pitch in ((84, 121123, 120), (174, 50561, 210), (251, 136532, 330)):
    folder = root / 'LibriSpeech' / 'dev-clean' / str(speaker) / str(chapter)
    folder.mkdir(parents=True)
    for i in range(5):
      t = np.arange(4000) / 16000
      voice = sum(np.sin(2 * np.pi * pitch * h * t) / h for h in (1, 2, 3)) * 0.2
      soundfile.write(folder / f'{speaker}-{chapter}-{i:04d}.flac', voice + 0.01 * rng.normal(size=t.size), 16000)
  return root / 'LibriSpeech'


def test_speaker_id_two_heads_through_launch_and_another_architecture_fails(tmp_path):
  """`configs/speaker_id.py:tiny,autoencoder` trains and evaluates through launch.py, reporting
  both heads; evaluating that workdir with the encoder-only variant fails in one line."""
  import json
  import os
  import subprocess
  import sys
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  src = make_librispeech(tmp_path)
  launch = lambda variant: [sys.executable, 'launch.py', f'--config=configs/speaker_id.py:{variant}']
  common = [f'--workdir={tmp_path / "run"}', f'--config.data.source={src}',
            f'--config.data.cache_dir={tmp_path / "cache"}', '--config.model.dilations=(1,2,4)',
            '--config.model.encoder.dilations=(1,2,4)', f'--config.model.encoder.hop={HOP}',
            f'--config.data.sample_size={T}', '--config.train.batch_size=4', '--config.eval.batch_size=4',
            '--config.train.log_every_steps=1']
  two_heads = launch('tiny,autoencoder')
  out = subprocess.run(two_heads + common + ['--config.train.num_train_steps=2'], cwd=root,
                       capture_output=True, text=True, timeout=300)
  assert out.returncode == 0, out.stderr[-3000:]
  assert 'classification' in out.stdout and 'reconstruction' in out.stdout and 'step 2/2' in out.stdout
  ev = subprocess.run(two_heads + common + ['--mode=eval'], cwd=root, capture_output=True, text=True, timeout=300)
  assert ev.returncode == 0, ev.stderr[-3000:]
  with open(tmp_path / 'run' / 'eval_validation.json') as f:
    metrics = json.load(f)
  assert set(metrics['per_class_accuracy']) == {'84', '174', '251'}
  assert 0 <= metrics['accuracy'] <= 1 and 0 < metrics['bits_per_sample'] <= 8  # both heads
  wrong = subprocess.run(launch('tiny') + common + ['--mode=eval'], cwd=root,
                         capture_output=True, text=True, timeout=300)
  assert wrong.returncode == 2
  line = [l for l in wrong.stderr.splitlines() if l.startswith('error:')]
  assert line == [f"error: model.kind='nsynth_classifier': {tmp_path / 'run' / 'checkpoints'} holds a "
                  "'nsynth_autoencoder_classifier' run; train this config in another --workdir"], wrong.stderr[-2000:]


def test_config_variants():
  from configs import esc50, speaker_id
  assert speaker_id.get_config('tiny,autoencoder').model.kind == 'nsynth_autoencoder_classifier'
  assert speaker_id.get_config().model.encoder.hop == 512  # magenta's h512_bo16
  assert esc50.get_config('fold=2,esc10').data.train_split == 'fold1+fold3+fold4+fold5'
  assert esc50.get_config('fold=2,esc10').data.options == ('esc10=true',)
  with pytest.raises(ValueError, match="unknown config variant 'small'"):
    speaker_id.get_config('small')
  with pytest.raises(ValueError, match='fold=6'):
    esc50.get_config('fold=6')
  with pytest.raises(ValueError, match='tiny and cpu: pick one'):
    speaker_id.get_config('tiny,cpu')
  with pytest.raises(ValueError, match='pretrain and autoencoder'):
    esc50.get_config('cpu,pretrain,autoencoder')
  assert speaker_id.get_config('cpu,pretrain').model.kind == 'nsynth_autoencoder'
