"""Training: it learns, it resumes exactly, it runs over devices and processes, it refuses bad input."""
import os
import signal
import socket
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests import tiny
from wavenet_jax.apps import train
from wavenet_jax.common import config_checks
from wavenet_jax.kinds import registry
from wavenet_jax.runtime import sharding
from wavenet_jax.training import optim, steps
from wavenet_jax.training import run as training_run
from wavenet_jax.training import loop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope='module')
def demo_dir(tmp_path_factory):
  return tiny.build_demo(str(tmp_path_factory.mktemp('demo') / 'prepared'))


def _sine_chord(freqs, n, rate=16000, phase=0.0):
  t = np.arange(n) / rate
  return (0.8 / len(freqs) * sum(np.sin(2 * np.pi * f * t + phase) for f in freqs)).astype(np.float32)


@pytest.mark.parametrize('conditioned', [False, True])
def test_learns_a_sine_chord(conditioned):
  """ibab's end-to-end check: the loss falls >= 50x. With GC, two classes, two chords."""
  c = tiny.config('', batch_size=4)
  c.model.dilations = (1, 2, 4, 8, 16, 32, 64, 128)
  c.model.residual_channels = c.model.dilation_channels = 16
  c.model.skip_channels = 32
  c.model.quantization_channels = 256
  c.train.learning_rate = 2e-2
  model = registry.of(c.model).build(c, 2 if conditioned else 0)
  rf = model.receptive_field
  chords = [(155.56, 196.0, 233.08), (261.63, 329.63, 392.0)]  # ibab's test chord, and C major.
  n = rf + 600
  labels = np.array([0, 1, 0, 1] if conditioned else [0, 0, 0, 0], np.int32)
  audio = np.stack([_sine_chord(chords[l], n, phase=0.5 * i) for i, l in enumerate(labels)])
  batch = {'audio': audio, 'mask': np.ones_like(audio), 'label': labels}
  mesh = sharding.make_mesh()
  tx, schedule = optim.make_optimizer(c)
  params = model.init(jax.random.key(0), jnp.zeros((1, 8), jnp.int32),
                      jnp.zeros((1,), jnp.int32) if conditioned else None)
  state = steps.TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params),
                           ema_params=None, rng=jax.random.PRNGKey(0))
  step = steps.make_train_step(registry.of(c.model), model, c, tx, schedule, mesh)
  gbatch = sharding.global_batch(batch, mesh)
  losses = []
  for _ in range(250):
    state, metrics = step(state, gbatch)
    losses.append(float(metrics['loss']))
  assert losses[0] / min(losses[-10:]) >= 50, (losses[0], losses[-10:])
  if conditioned:  # each class's chord is predicted well only under its own id.
    swapped = dict(batch, label=1 - labels)
    nll, mask = registry.get('wavenet').nll_per_target(model, c.model, state.params, sharding.global_batch(swapped, mesh))
    assert float(jnp.mean(nll)) > 5 * min(losses[-10:])


# The best a head can do on a perfectly predicted sample at the floor scale e^-7: the 16-bit
# bin's mass at the peak of the density (logistic: width / 4s; Gaussian: width / (s sqrt(2 pi))).
_BIN = 2.0**-15
_FLOOR_NLL = {'logistic_mixture': -np.log(_BIN / (4 * np.exp(-7.0))),
              'gaussian': -np.log(_BIN / (np.exp(-7.0) * np.sqrt(2 * np.pi)))}


@pytest.mark.parametrize('output', ['logistic_mixture', 'gaussian'])
def test_continuous_heads_learn_a_sine_chord_and_generate_each_class(output):
  """16-bit NLL from ~11.5 nats down by more than log(50) (each sample >= 50x likelier) to
  within 2.5 nats of what the log-scale floor allows (~6.1 reached by either), each chord only under its own class id;
  then finite, non-silent audio per class."""
  from configs import demo
  c = demo.get_config()
  c.model.output, c.model.scalar_input, c.model.num_mixtures = output, True, 3
  c.model.initial_filter_width = 2
  c.model.dilations = (1, 2, 4, 8, 16, 32, 64, 128)
  c.model.residual_channels = c.model.dilation_channels = 16
  c.model.skip_channels = 32
  c.train.num_train_steps = 400
  c.train.learning_rate = 3e-3  # cosine to 0: the demo's schedule
  c.train.grad_clip_norm = 1.0  # r9y9's: a sample far out under a narrow scale has a huge gradient
  model = registry.of(c.model).build(c, 2)
  chords = [(155.56, 196.0, 233.08), (261.63, 329.63, 392.0)]
  labels = np.array([0, 1, 0, 1], np.int32)
  audio = np.stack([_sine_chord(chords[l], model.receptive_field + 600, phase=0.5 * i)
                    for i, l in enumerate(labels)])
  batch = {'audio': audio, 'mask': np.ones_like(audio), 'label': labels}
  mesh = sharding.make_mesh()
  tx, schedule = optim.make_optimizer(c)
  params = model.init(jax.random.key(0), jnp.zeros((1, 8), jnp.float32), jnp.zeros((1,), jnp.int32))
  state = steps.TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params),
                           ema_params=None, rng=jax.random.PRNGKey(0))
  step = steps.make_train_step(registry.of(c.model), model, c, tx, schedule, mesh)
  gbatch = sharding.global_batch(batch, mesh)
  losses = []
  for _ in range(c.train.num_train_steps):
    state, metrics = step(state, gbatch)
    losses.append(float(metrics['loss']))
  final = min(losses[-10:])
  assert losses[0] > 10 and final < losses[0] - np.log(50) and final < _FLOOR_NLL[output] + 2.5, (losses[0], final)
  swapped = dict(batch, label=1 - labels)
  nll, _ = registry.get('wavenet').nll_per_target(model, c.model, state.params, sharding.global_batch(swapped, mesh))
  assert float(jnp.mean(nll)) > final + 2

  from wavenet_jax.generation import generate
  keys = jnp.stack([jax.random.key(i) for i in range(2)])
  wavs = generate.to_audio(model, generate.generate(model, state.params, keys, 2000, jnp.asarray([0, 1]), 1.0))
  assert wavs.dtype == np.float32 and np.all(np.isfinite(wavs))
  assert np.all(np.sqrt(np.mean(wavs[:, 500:] ** 2, axis=1)) > 0.05), np.sqrt(np.mean(wavs ** 2, axis=1))


def test_mol_variants_switch_the_head_and_pass_the_checks():
  import importlib
  for name in ('default', 'vctk', 'gtzan', 'demo'):
    module = importlib.import_module(f'configs.{name}')
    c = module.get_config('mol')
    assert (c.model.output, c.model.num_mixtures, c.model.scalar_input) == ('logistic_mixture', 10, True)
    registry.get('wavenet').check(c)
    assert module.get_config().model.output == 'categorical'
    with pytest.raises(ValueError, match=f'configs/{name}.py: unknown variant'):
      module.get_config('mixture')


def test_launch_demo_end_to_end_and_eval(demo_dir, tmp_path):
  workdir = str(tmp_path / 'run')
  common = [sys.executable, 'launch.py', '--config=configs/demo.py', f'--workdir={workdir}',
            f'--config.data.source={demo_dir}', '--config.data.sample_size=64',
            '--config.model.dilations=(1,2,4)', '--config.model.skip_channels=16',
            '--config.train.batch_size=2', '--config.eval.batch_size=2']
  out = subprocess.run(common + ['--config.train.num_train_steps=3', '--config.train.log_every_steps=1',
                                 '--config.train.checkpoint_every_steps=2'],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert out.returncode == 0, out.stderr[-3000:]
  assert 'step 3/3' in out.stdout and 'bits/sample' in out.stdout
  assert sorted(os.listdir(os.path.join(workdir, 'checkpoints'))) == ['2', '3']
  import json
  for step in (2, None):  # eval.step=2, then the latest
    ev = subprocess.run(common + ['--mode=eval'] + ([f'--config.eval.step={step}'] if step else []),
                        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert ev.returncode == 0, ev.stderr[-3000:]
    metrics = json.load(open(os.path.join(workdir, 'eval_validation.json')))
    assert metrics['step'] == (step or 3) and len(metrics['bits_per_sample_per_class']) >= 6
    assert 0 < metrics['bits_per_sample'] <= 8
  ev = subprocess.run(common + ['--mode=eval', '--config.eval.step=7'], cwd=ROOT, capture_output=True, text=True,
                      timeout=300)
  assert ev.returncode == 2
  where = os.path.join(workdir, 'checkpoints')
  assert ev.stderr.strip().splitlines()[-1] == f'error: {where}: no checkpoint at step 7 (eval.step); it has 2, 3'

  # --mode=generate: every class, from silence and from a prime wav, in chunks.
  from wavenet_jax.input import audio
  prime = str(tmp_path / 'my prime.wav')
  audio.write_wav(prime, 0.5 * np.sin(np.arange(3000) * 0.07), 44100)  # resampled to 16 kHz
  gen = subprocess.run(common + ['--mode=generate', '--config.generate.num_samples=300',
                                 '--config.generate.chunk_size=128', '--config.generate.class_ids=(0,2)',
                                 f"--config.generate.primes=('{prime}',)", '--config.generate.batch_size=3'],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert gen.returncode == 0, gen.stderr[-3000:]
  import soundfile
  names = metrics['bits_per_sample_per_class']
  first, third = sorted(names)[0], sorted(names)[2]
  files = sorted(os.listdir(os.path.join(workdir, 'generated')))
  assert files == sorted([f'{first}_my prime_seed0.png', f'{first}_my prime_seed0.wav',
                          f'{third}_my prime_seed0.png', f'{third}_my prime_seed0.wav'])
  wav, rate = soundfile.read(os.path.join(workdir, 'generated', f'{first}_my prime_seed0.wav'))
  prime_len = len(audio.trim_silence(audio.load(prime, 16000), 0.1))
  assert rate == 16000 and len(wav) == prime_len + 300


def test_mixture_head_trains_evaluates_and_generates_16_bit_files_from_a_prime(demo_dir, tmp_path):
  import soundfile
  from wavenet_jax.apps import generate_files
  from wavenet_jax.input import audio
  c = tiny.config(demo_dir, steps=3)
  c.model.output, c.model.scalar_input, c.model.initial_filter_width = 'logistic_mixture', True, 4
  workdir = str(tmp_path / 'run')
  metrics = train.train_and_evaluate(c, workdir)
  assert 8 < metrics['bits_per_sample'] < 20  # 16-bit levels (uniform: 16); barely trained
  prime = str(tmp_path / 'prime.wav')
  wave = (0.5 * np.sin(np.arange(400) * 0.07)).astype(np.float32)
  audio.write_wav(prime, wave, 16000)
  c.generate.class_ids, c.generate.primes, c.generate.num_samples = (1,), (prime,), 50
  c.generate.prime_silence_threshold = 0.0
  [path] = generate_files.generate_files(c, workdir)
  wav, rate = soundfile.read(path, dtype='int16')
  assert rate == 16000 and len(wav) == 450
  np.testing.assert_array_equal(wav[:400], soundfile.read(prime, dtype='int16')[0])  # the prime, bit for bit
  assert np.std(wav[400:]) > 0


def test_resume_equals_straight_run(demo_dir, tmp_path):
  c = tiny.config(demo_dir, steps=3)
  c.train.generate_every_steps = 6
  c.train.generate_num_samples = 50
  train.train_and_evaluate(c, str(tmp_path / 'a'))
  c.train.num_train_steps = 6
  train.train_and_evaluate(c, str(tmp_path / 'a'))
  train.train_and_evaluate(c, str(tmp_path / 'b'))
  resumed = tiny.read_scalars(str(tmp_path / 'a'), 'train/loss')
  tags = tiny.read_tags(str(tmp_path / 'b'))
  assert {'generated/bell', 'generated/pluck'} <= tags, tags
  # TensorBoard's Images tab shows the spectrograms beside the Audio tab's clips: a tag of its own each.
  workdir_b = str(tmp_path / 'b')
  assert {'generated/bell/spectrogram', 'generated/pluck/spectrogram'} <= tiny.plugin_tags(workdir_b, 'images')
  assert {'generated/bell', 'generated/pluck'} <= tiny.plugin_tags(workdir_b, 'audio')
  straight = tiny.read_scalars(str(tmp_path / 'b'), 'train/loss')
  assert sorted(straight) == [1, 2, 3, 4, 5, 6] and sorted(resumed) == sorted(straight)
  np.testing.assert_allclose([resumed[s] for s in range(1, 7)], [straight[s] for s in range(1, 7)],
                             rtol=1e-5)


def test_sigterm_checkpoints_and_relaunch_resumes(demo_dir, tmp_path):
  workdir = str(tmp_path / 'run')
  cmd = [sys.executable, 'launch.py', '--config=configs/demo.py', f'--workdir={workdir}',
         f'--config.data.source={demo_dir}', '--config.data.sample_size=64',
         '--config.model.dilations=(1,2)', '--config.model.skip_channels=16',
         '--config.train.batch_size=2', '--config.eval.batch_size=2', '--config.train.log_every_steps=1',
         '--config.train.checkpoint_every_steps=100000']
  proc = subprocess.Popen(cmd + ['--config.train.num_train_steps=100000'], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
  lines = []
  deadline = time.time() + 240
  while time.time() < deadline:
    line = proc.stdout.readline()
    lines.append(line)
    if line.startswith('step 3/'):
      break
  proc.send_signal(signal.SIGTERM)
  rest, _ = proc.communicate(timeout=120)
  assert proc.returncode == 0, ''.join(lines) + rest
  saved = [l for l in rest.splitlines() if l.startswith('Received SIGTERM: saved step')]
  assert saved, rest
  step = int(saved[0].split('saved step ')[1].split()[0])
  assert step >= 3 and os.path.isdir(os.path.join(workdir, 'checkpoints', str(step)))
  again = subprocess.run(cmd + [f'--config.train.num_train_steps={step + 2}'], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
  assert again.returncode == 0, again.stderr[-3000:]
  assert f'(step {step})' in again.stdout and f'step {step + 2}/{step + 2}' in again.stdout
  assert 'step 1/' not in again.stdout


def _free_port():
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


def _worker(args, env_extra=None):
  env = dict(os.environ, **(env_extra or {}))
  return subprocess.Popen([sys.executable, 'tests/mp_worker.py', *args], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_four_devices_split_the_batch(demo_dir, tmp_path):
  out = str(tmp_path / 'view.npz')
  p = _worker([demo_dir, str(tmp_path / 'run'), out], {'XLA_FLAGS': '--xla_force_host_platform_device_count=4'})
  _, err = p.communicate(timeout=300)
  assert p.returncode == 0, err[-3000:]
  view = np.load(out)
  assert int(view['devices']) == 4 and int(view['global_rows']) == 8
  assert list(view['shard_rows']) == [2, 2, 2, 2]
  assert int(view['step']) == 2


def test_two_processes_train_identical_params(tmp_path):
  from wavenet_jax.datasets import demo as demo_data
  # Four shard files per split: each process must read its own two.
  demo_dir = demo_data.build_demo(str(tmp_path / 'demo'), train_per_class=4, validation_per_class=1,
                                  clip_seconds=0.25, num_shards=4)
  addr = f'127.0.0.1:{_free_port()}'
  outs = [str(tmp_path / f'view{i}.npz') for i in range(2)]
  env = {'XLA_FLAGS': '--xla_force_host_platform_device_count=1'}
  procs = [_worker([demo_dir, str(tmp_path / 'run'), outs[i], addr, '2', str(i)], env) for i in range(2)]
  for p in procs:
    _, err = p.communicate(timeout=300)
    assert p.returncode == 0, err[-3000:]
  views = [np.load(o) for o in outs]
  for v in views:
    assert int(v['processes']) == 2 and int(v['devices']) == 2 and int(v['global_rows']) == 4
    assert int(v['step']) == 2
  # The hosts read disjoint halves of the split, fed different examples, and ended with the
  # same parameters.
  records = [set(v['records']) for v in views]
  assert not records[0] & records[1]
  assert len(records[0]) + len(records[1]) == 24 and abs(len(records[0]) - len(records[1])) <= 1
  files = [{r.rsplit(':', 1)[0] for r in rec} for rec in records]
  assert len(files[0]) == len(files[1]) == 2 and not files[0] & files[1]  # disjoint shard files
  assert not np.array_equal(views[0]['local_first'], views[1]['local_first'])
  names = [k for k in views[0].files if k.startswith('[')]
  assert names
  for k in names:
    np.testing.assert_array_equal(views[0][k], views[1][k])


# ------------------------------------------------------------------------ bad input

def test_bfloat16_steps_learn_like_float32_and_keep_float32_state(demo_dir, tmp_path):
  """train.compute_dtype='bfloat16': the demo model at test size, 300 steps, ends within 3% of the
  float32 run's validation bits/sample; params and optimizer state stay float32."""
  from wavenet_jax.checkpoints import checkpointing
  results = {}
  for dtype in ('float32', 'bfloat16'):
    c = tiny.config(demo_dir, batch_size=4, steps=300)
    c.train.compute_dtype = dtype
    c.train.checkpoint_every_steps = c.train.log_every_steps = 300
    results[dtype] = train.train_and_evaluate(c, str(tmp_path / dtype))['bits_per_sample']
  assert abs(results['bfloat16'] / results['float32'] - 1) <= 0.03, results
  assert results['float32'] < 7.0  # it learnt (8 bits/sample is uniform over 256 classes)
  state, _ = checkpointing.Checkpointer(str(tmp_path / 'bfloat16'), read_only=True).restore(300)
  assert {str(x.dtype) for x in jax.tree_util.tree_leaves((state['params'], state['opt_state']))
          if jnp.issubdtype(x.dtype, jnp.floating)} == {'float32'}


@pytest.mark.parametrize('key,value,needle', [
    ('model.dilations', (1, 0, 2), 'model.dilations'),
    ('model.dilations', (1, 2.5), 'model.dilations'),
    ('data.sample_size', 0, 'data.sample_size'),
    ('model.gc_cardinality', 2, 'model.gc_cardinality'),
    ('data.augment.snr_db', (30.0, 10.0), 'data.augment.snr_db'),
    ('data.exclude', ('nope',), 'data.exclude'),
    ('train.compute_dtype', 'float16', "train.compute_dtype='float16'"),
    ('train.class_dropout', 0.5, 'model.gc_null_class=True'),
    ('generate.guidance', 2.0, 'needs a null class'),
    ('data.source', '/nonexistent/audio', '/nonexistent/audio'),
])
def test_bad_config_fails_in_one_line_before_writing(demo_dir, tmp_path, key, value, needle):
  c = tiny.config(demo_dir)
  *path, name = key.split('.')
  node = c
  for part in path:
    node = node[part]
  node[name] = value
  workdir = tmp_path / 'run'
  with pytest.raises(ValueError) as e:
    train.train_and_evaluate(c, str(workdir))
  assert needle in str(e.value) and '\n' not in str(e.value)
  assert not workdir.exists()


@pytest.mark.parametrize('settings,needle', [
    ({'model.output': 'mixture'}, "model.output='mixture'"),
    ({'model.output': 'logistic_mixture', 'model.scalar_input': True, 'model.num_mixtures': 0}, 'model.num_mixtures=0'),
    ({'model.output': 'gaussian'}, 'model.scalar_input=False'),  # one-hot input
    ({'model.output': 'gaussian', 'model.scalar_input': True, 'model.mu_law': 'nsynth'}, "model.mu_law='nsynth'"),
    ({'model.output': 'logistic_mixture', 'model.scalar_input': True, 'generate.top_k': 5}, 'generate.top_k=5'),
    ({'model.output': 'logistic_mixture', 'model.scalar_input': True, 'generate.top_p': 0.9}, 'generate.top_p=0.9'),
])
def test_bad_output_head_settings_fail_in_one_line_before_writing(demo_dir, tmp_path, settings, needle):
  c = tiny.config(demo_dir)
  for key, value in settings.items():
    group, name = key.split('.')
    c[group][name] = value
  with pytest.raises(ValueError) as e:
    train.train_and_evaluate(c, str(tmp_path / 'run'))
  assert needle in str(e.value) and '\n' not in str(e.value)
  assert not (tmp_path / 'run').exists()


def test_source_without_audio_and_workdir_that_is_a_file(demo_dir, tmp_path):
  empty = tmp_path / 'empty'
  empty.mkdir()
  (empty / 'notes.txt').write_text('no audio here')
  c = tiny.config(str(empty))
  c.data.corpus = 'folder'
  with pytest.raises(ValueError, match=str(empty)):
    train.train_and_evaluate(c, str(tmp_path / 'run'))
  afile = tmp_path / 'file'
  afile.write_text('keep me')
  with pytest.raises(config_checks.ConfigError, match='is a file'):
    train.train_and_evaluate(tiny.config(demo_dir), str(afile))
  assert afile.read_text() == 'keep me'


def test_launch_reports_bad_input_in_one_line(demo_dir, tmp_path):
  base = [sys.executable, 'launch.py', '--config=configs/demo.py', f'--workdir={tmp_path / "run"}']
  typo = subprocess.run(base + ['--config.train.batch_sise=4'], cwd=ROOT, capture_output=True, text=True)
  assert typo.returncode == 2, typo.stderr[-2000:]
  assert typo.stderr.strip().splitlines()[-1] == (
      "error: --config.train.batch_sise: the config has no key 'batch_sise' "
      '(did you mean "batch_size" instead of "batch_sise"?)')
  bad = subprocess.run(base + [f'--config.data.source={demo_dir}', '--config.data.sample_size=0'],
                       cwd=ROOT, capture_output=True, text=True)
  assert bad.returncode == 2
  assert bad.stderr.strip().splitlines()[-1].startswith('error: data.sample_size=0')
  assert not (tmp_path / 'run').exists()


@pytest.fixture(scope='module')
def trained_workdir(demo_dir, tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp('trained') / 'run')
  train.train_and_evaluate(tiny.config(demo_dir, steps=1), workdir)
  return workdir


@pytest.mark.parametrize('key,value,needle', [
    ('num_samples', 0, 'generate.num_samples'),
    ('temperature', -1.0, 'generate.temperature'),
    ('top_p', 0.0, 'generate.top_p'),
    ('top_k', -1, 'generate.top_k'),
    ('top_k', 64, "generate.top_k=64: must be below the model's 64 output classes"),
    ('class_ids', (99,), 'generate.class_ids'),
    ('class_ids', (-1,), 'it has no null class'),
    ('guidance', -0.5, 'generate.guidance'),
    ('guidance', 2.0, 'no null class to guide against'),
    ('primes', ('/nonexistent/prime.wav',), '/nonexistent/prime.wav'),
])
def test_generate_rejects_bad_options_before_compiling(demo_dir, trained_workdir, key, value, needle):
  from wavenet_jax.apps import generate_files
  c = tiny.config(demo_dir, steps=1)
  workdir = trained_workdir
  c.generate[key] = value
  with pytest.raises(ValueError) as e:
    generate_files.generate_files(c, workdir)
  assert needle in str(e.value) and '\n' not in str(e.value)
  assert not os.path.exists(os.path.join(workdir, 'generated'))


def test_generation_failing_midway_leaves_no_partial_file(demo_dir, trained_workdir, tmp_path, monkeypatch):
  """A batch whose generation fails after its wavs were opened leaves neither them nor a temp
  file; the batches written before it stay whole."""
  from wavenet_jax.apps import generate_files
  from wavenet_jax.generation import generate
  real, calls = generate.generate_chunks, []

  def failing(*args, **kwargs):
    calls.append(1)
    for i, chunk in enumerate(real(*args, **kwargs)):
      if len(calls) == 2 and i == 1:
        raise RuntimeError('device lost')
      yield chunk

  monkeypatch.setattr(generate, 'generate_chunks', failing)
  c = tiny.config(demo_dir, steps=1)
  c.generate.num_samples, c.generate.chunk_size, c.generate.batch_size = 40, 16, 2
  c.generate.out_dir = str(tmp_path / 'out')
  with pytest.raises(RuntimeError, match='device lost'):
    generate_files.generate_files(c, trained_workdir)
  left = sorted(os.listdir(tmp_path / 'out'))
  assert [f for f in left if f.endswith('.wav')] == ['bell_seed0.wav', 'brass_seed0.wav'], left
  assert not [f for f in left if 'tmp' in f], left


def test_generate_without_checkpoint_says_so(tmp_path):
  from wavenet_jax.apps import generate_files
  from wavenet_jax.checkpoints import checkpointing
  c = tiny.config('unused')
  with pytest.raises(checkpointing.CheckpointError, match='no checkpoints'):
    generate_files.generate_files(c, str(tmp_path))


def test_class_dropout_drops_at_its_rate():
  labels = jnp.arange(20000) % 5
  out = np.asarray(steps.drop_classes(jax.random.key(0), labels, 0.3, 5))
  dropped = out == 5
  assert abs(dropped.mean() - 0.3) < 0.015  # 0.3 ± 4.6 standard errors
  np.testing.assert_array_equal(out[~dropped], np.asarray(labels)[~dropped])


def test_null_class_trains_and_generates_unconditioned(demo_dir, tmp_path):
  """Class dropout moves the null row (only it can: no other example uses it); -1 generates from it."""
  from wavenet_jax.apps import generate_files
  from wavenet_jax.checkpoints import checkpointing
  rows = {}
  for rate in (0.0, 0.5):
    c = tiny.config(demo_dir, batch_size=4, steps=3)
    c.model.gc_null_class = True
    c.train.class_dropout = rate
    workdir = str(tmp_path / f'run{rate}')
    train.train_and_evaluate(c, workdir)
    state, meta = checkpointing.load(workdir)
    assert meta['null_class_id'] == 6 and meta['gc_cardinality'] == 7
    rows[rate] = np.asarray(state['params']['params']['gc_embedding'])
  init = training_run.open_run(c, str(tmp_path / 'fresh')).init_state(optim.make_optimizer(c)[0]).params
  init_row = np.asarray(init['params']['gc_embedding'])[6]
  np.testing.assert_array_equal(rows[0.0][6], init_row)  # never used without dropout
  assert np.abs(rows[0.5][6] - init_row).max() > 1e-4
  c.generate.class_ids = (-1, 2)
  c.generate.num_samples = 20
  paths = generate_files.generate_files(c, workdir)
  assert [os.path.basename(p) for p in paths] == ['unconditioned_seed0.wav', 'chirp_seed0.wav']
  c.generate.guidance = 3.0  # classifier-free guidance against the null row
  c.generate.out_dir = str(tmp_path / 'guided')
  guided = generate_files.generate_files(c, workdir)
  assert [os.path.basename(p) for p in guided] == ['unconditioned_seed0.wav', 'chirp_seed0.wav']


def test_gtzan_config_trains_on_a_raw_tree_and_without_one_says_where(tmp_path):
  """The user's command on a GTZAN tree as downloaded: prepared once into the cache, then trained."""
  from tests import corpus_trees
  corpus_trees.make_gtzan(tmp_path)
  base = [sys.executable, 'launch.py', '--config=configs/gtzan.py', f'--workdir={tmp_path / "run"}',
          f'--config.data.cache_dir={tmp_path / "cache"}']
  missing = subprocess.run(base, cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert missing.returncode == 2
  assert 'data.source is empty' in missing.stderr and 'prepare.py gtzan' in missing.stderr
  tiny_model = ['--config.data.sample_size=64', '--config.model.dilations=(1,2,4)',
                '--config.model.residual_channels=8', '--config.model.dilation_channels=8',
                '--config.model.skip_channels=16', '--config.train.batch_size=2',
                '--config.eval.batch_size=2', '--config.train.log_every_steps=1']
  out = subprocess.run(base + tiny_model + [f'--config.data.source={tmp_path / "genres"}',
                                            '--config.train.num_train_steps=2'],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert out.returncode == 0, out.stderr[-3000:]
  assert 'prepared gtzan dataset' in out.stdout and '3 classes' in out.stdout
  assert 'step 2/2' in out.stdout and 'blues' in out.stdout
  # A successful run's stderr is quiet: no TensorFlow notices, deprecations or progress-bar cursor codes.
  for noise in ('oneDNN', 'deprecated', 'E0000', 'Traceback', '\r', '\x1b['):
    assert noise not in out.stderr, (noise, out.stderr[-3000:])
  # The WaveNet-Audio generation command: every genre and unconditioned, from silence and from a prime.
  prime = tmp_path / 'prime one.wav'
  corpus_trees.write(prime, corpus_trees.sine(440, 0.5, 0.05, 16_000), 16_000)
  gen = subprocess.run(base + [f"--config.generate.primes=('{prime}',)", '--config.generate.num_samples=200',
                               '--config.generate.chunk_size=100', '--mode=generate'],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert gen.returncode == 0, gen.stderr[-3000:]
  for noise in ('oneDNN', 'deprecated', 'E0000', 'Traceback', '\r', '\x1b['):
    assert noise not in gen.stderr, (noise, gen.stderr[-3000:])
  assert gen.stdout.strip().splitlines()[-1].startswith('wrote 8 wav files (+ a spectrogram PNG each)')
  written = sorted(os.listdir(tmp_path / 'run' / 'generated'))
  stems = [f'{g}{p}_seed0' for g in ('blues', 'jazz', 'rock', 'unconditioned') for p in ('', '_prime one')]
  assert written == sorted([s + '.png' for s in stems] + [s + '.wav' for s in stems])
  import soundfile
  from wavenet_jax.input import audio
  primed, _ = soundfile.read(tmp_path / 'run' / 'generated' / 'jazz_prime one_seed0.wav')
  trimmed = audio.trim_silence(audio.load(str(prime), 16_000), 0.1)
  assert 0 < len(trimmed) and len(primed) == len(trimmed) + 200  # the trimmed prime, then 200 more


def test_stop_signal_outside_the_main_thread_installs_nothing_and_says_so(capsys):
  """Python lets only the main thread set handlers: a run in another thread must still start."""
  import threading
  before, errors = signal.getsignal(signal.SIGTERM), []

  def body():
    try:
      with loop._StopSignal() as stop:
        assert stop.received is None
    except Exception as e:  # signal.signal raises ValueError off the main thread
      errors.append(e)

  thread = threading.Thread(target=body)
  thread.start()
  thread.join()
  assert not errors and signal.getsignal(signal.SIGTERM) is before
  assert 'SIGTERM/SIGINT will not checkpoint and stop this run' in capsys.readouterr().out
