"""Parallel WaveGAN: its players at causal=False against direct float64 numpy convolutions, its
sampling, its two-player loss and optimizers, and a run trained, resumed, evaluated and vocoded."""
import contextlib
import io
import re
import shutil

import jax
import numpy as np
import pytest

from tests import tiny
from wavenet_jax.models import parallel_wavegan


def centred_conv(x, kernel, bias, dilation):
  """x [B, T, C_in], kernel [k, C_in, C_out]: out[t] = sum_j x[t + (j - (k-1)/2)·d] @ kernel[j], zeros outside."""
  k, (b, t, _) = kernel.shape[0], x.shape
  out = np.zeros((b, t, kernel.shape[2])) + bias
  for time in range(t):
    for j in range(k):
      s = time + (j - (k - 1) // 2) * dilation
      if 0 <= s < t:
        out[:, time] += x[:, s] @ kernel[j]
  return out


def sigmoid(x):
  return 1 / (1 + np.exp(-x))


def as64(tree):
  return jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), tree)


def numpy_generator(p, dilations, noise, lc):
  """The non-causal WaveNet in float64 numpy: params p (as64), noise [B, T], lc [B, T, M] -> [B, T]."""
  x = noise[..., None] @ p['first']['kernel'] + p['first']['bias']  # [B, T, R]
  zs = []
  for i, dilation in enumerate(dilations):
    layer = p[f'layer_{i}']
    fg = centred_conv(x, layer['filter_gate']['kernel'], layer['filter_gate']['bias'], dilation) + lc @ p['lc_proj'][i]
    f, gate = np.split(fg, 2, axis=-1)
    z = np.tanh(f) * sigmoid(gate)
    x = (x + z @ layer['dense']['kernel'] + layer['dense']['bias']) * np.sqrt(0.5)
    zs.append(z @ p['skip_kernel'][i])
  h = (sum(zs) + p['skip_bias']) * np.sqrt(1 / len(dilations))
  h = np.maximum(np.maximum(h, 0) @ p['out1']['kernel'] + p['out1']['bias'], 0)
  return (h @ p['out2']['kernel'] + p['out2']['bias'])[..., 0]


def test_the_generator_is_a_non_causal_wavenet():
  g = parallel_wavegan.Generator(num_layers=4, stacks=2, filter_width=3, residual_channels=4, gate_channels=6,
                                 skip_channels=5, lc_channels=3)
  rng = np.random.default_rng(0)
  noise, lc = rng.standard_normal((2, 20)).astype(np.float32), rng.standard_normal((2, 20, 3)).astype(np.float32)
  params = tiny.random_params(g, noise, lc)
  got = np.asarray(tiny.apply(g, params, noise, lc))
  assert g.dilations == (1, 2, 1, 2)
  want = numpy_generator(as64(params['params']), g.dilations, noise, lc)
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def tiny_vocoder(**upsample):
  """A ParallelVocoder of 4 mel bands every 4 samples (upsampler scales 2, 2, lookahead 1, and
  `upsample`'s settings), a generator of 4 layers in 2 stacks at 8 kHz."""
  from wavenet_jax.input import mel
  from wavenet_jax.models.upsample import Upsampler
  features = mel.settings(dict(mel.default_config(), num_mels=4, n_fft=16, hop=4, win_length=16, fmin=0.0,
                               fmax=4000.0))
  return parallel_wavegan.ParallelVocoder(
      upsampler=Upsampler(num_mels=4, scales=(2, 2), lookahead=1, **upsample),
      generator=parallel_wavegan.Generator(num_layers=4, stacks=2, residual_channels=4, gate_channels=6,
                                           skip_channels=5, lc_channels=4),
      features=features, sample_rate=8000)


@pytest.mark.parametrize('mode,freq_kernel', [('stretch_conv', 1), ('stretch_conv', 3), ('transposed', 1)])
def test_the_vocoder_conditions_the_generator_on_the_upsampled_frames(mode, freq_kernel):
  """ParallelVocoder = the generator (float64 numpy) on the upsampler's output (tested against
  numpy in test_upsample), whether each layer's projection is taken at the frame rate and then
  stretched (a channelwise upsampler) or after the stretch (freq_kernel 3 mixes the bands)."""
  model = tiny_vocoder(mode=mode, freq_kernel=freq_kernel)
  upsampler, generator = model.upsampler, model.generator
  assert upsampler.channelwise == (freq_kernel == 1)
  rng = np.random.default_rng(3)
  m, num_frames = model.margin, 6
  frames = rng.uniform(0, 1, (2, num_frames + 2 * m, 4)).astype(np.float32)
  noise = rng.standard_normal((2, num_frames * 4)).astype(np.float32)
  params = tiny.random_params(model, noise, frames)
  got = np.asarray(tiny.apply(model, params, noise, frames))
  lc = upsampler.apply({'params': params['params']['upsampler']}, frames)
  halo = upsampler.halo * 4
  lc = np.asarray(lc, np.float64)[:, halo:lc.shape[1] - halo]  # [B, F·hop, M]: the F frames' samples
  want = numpy_generator(as64(params['params']['generator']), generator.dilations, noise, lc)
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_the_discriminator_scores_every_sample_through_dilated_centred_convs():
  d = parallel_wavegan.Discriminator(num_layers=4, filter_width=3, channels=5)
  audio = np.random.default_rng(1).uniform(-1, 1, (2, 24)).astype(np.float32)
  params = tiny.random_params(d, audio)
  got = np.asarray(tiny.apply(d, params, audio))
  assert d.dilations == (1, 1, 2)
  p = as64(params['params'])
  x = audio[..., None].astype(np.float64)
  for i, dilation in enumerate(d.dilations):
    x = centred_conv(x, p[f'conv_{i}']['kernel'], p[f'conv_{i}']['bias'], dilation)
    x = np.where(x > 0, x, 0.2 * x)
  want = centred_conv(x, p['last']['kernel'], p['last']['bias'], 1)[..., 0]
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_chunks_and_batches_of_files_equal_one_pass_over_each():
  """Files of 11, 3 and 7 frames in chunks of 3 frames, 2 windows per call (short windows padded
  and masked): each file's audio is the one pass over it with its own key's noise."""
  from wavenet_jax.generation import parallel_vocoding
  model = tiny_vocoder()
  assert parallel_vocoding.halo_frames(model) == 2  # dilations 1, 2, 1, 2: 6 samples each side
  rng = np.random.default_rng(2)
  items = [rng.uniform(0, 1, (n, 4)).astype(np.float32) for n in (11, 3, 7)]
  keys = [jax.random.key(k) for k in (5, 6, 7)]
  m = model.margin
  params = tiny.random_params(model, np.zeros((1, 8), np.float32), np.zeros((1, 2 + 2 * m, 4), np.float32))
  got = parallel_vocoding.vocode(model, params, items, keys, chunk_frames=3, batch_size=2)
  for frames, key, audio in zip(items, keys, got):
    noise = parallel_vocoding.noise(key, len(frames) * 4)
    whole = tiny.apply(model, params, noise[None], np.pad(frames, ((m, m), (0, 0)))[None])[0]
    np.testing.assert_allclose(audio, np.clip(np.asarray(whole), -1, 1), rtol=0, atol=1e-5)
    assert audio.shape == (len(frames) * 4,) and np.abs(audio).max() <= 1


# --- the kind: two players in one loss ------------------------------------------------------

def pwg_config(data_dir=''):
  """configs/demo_pwg.py at test size: 8 mel bands every 16 samples, 4 + 3 layers of 8 channels."""
  from configs import demo_pwg
  c = demo_pwg.get_config()
  c.data.corpus, c.data.source = 'demo', str(data_dir)
  c.data.sample_size = 128
  c.model.mel.update(dict(num_mels=8, n_fft=64, hop=16, win_length=48, fmin=0.0, fmax=8000.0))
  c.model.upsample.update(dict(scales=(4, 4), lookahead=1))
  c.model.generator.update(dict(num_layers=4, stacks=2, residual_channels=8, gate_channels=8, skip_channels=8))
  c.model.discriminator.update(dict(num_layers=3, channels=8))
  c.train.stft_resolutions = ((64, 16, 48), (32, 8, 16))
  c.train.batch_size = c.eval.batch_size = 2
  c.train.log_every_steps = 1
  c.eval.vocode_clips = 0
  return c


def _pick(tree, modules):
  return {m: tree['params'][m] for m in modules}


def test_one_gradient_trains_each_player_on_its_own_loss():
  """The objective's loss is L_G + L_D (LSGAN, lambda_adv 4) recomposed in float64 from the
  players' outputs; its gradient is, for the generator and upsampler, L_G's with the
  discriminator fixed, for the discriminator L_D's with the generated audio fixed. Before
  train.discriminator_start_steps: the STFT loss alone, the discriminator's gradient zero."""
  from wavenet_jax.input import stft_loss
  from wavenet_jax.kinds import registry
  from wavenet_jax.models.parallel_wavegan import ParallelVocoder
  from wavenet_jax.training import steps
  c = pwg_config()
  c.train.discriminator_start_steps = 5
  kind = registry.of(c.model)
  model = kind.build(c, 0)
  params = tiny.random_params(model, *kind.init_inputs(model, c.model))
  rng = np.random.default_rng(0)
  audio = (0.3 * rng.standard_normal((2, kind.context(model) + 128 + kind.context_after(model)))).astype(np.float32)
  batch = {'audio': audio, 'mask': np.ones_like(audio), 'label': np.zeros(2, np.int32)}
  key = jax.random.PRNGKey(3)  # raw key data, as the train step passes
  resolutions = tuple(map(tuple, c.train.stft_resolutions))
  generated, target = jax.jit(lambda p: kind._generated(model, p, batch, key))(params)
  score = jax.jit(lambda p, x: model.apply(p, x, method=ParallelVocoder.discriminate))  # noqa: E731

  def generator_loss(p, adversarial):
    g, _ = kind._generated(model, p, batch, key)
    loss = sum(stft_loss.losses(g, target, resolutions))
    return loss + 4.0 * jax.numpy.mean((score(p, g) - 1) ** 2) if adversarial else loss

  def discriminator_loss(p):
    return jax.numpy.mean((score(p, target) - 1) ** 2) + jax.numpy.mean(score(p, generated) ** 2)

  # jitted: one compile each instead of hundreds of eager ops (seconds each on 2 cores)
  objective = jax.jit(jax.value_and_grad(lambda p, step: kind.objective(model, c, p, batch, None, step, key),
                                         has_aux=True))
  generator_grad = jax.jit(jax.grad(generator_loss), static_argnums=1)
  for step, adversarial in ((4, False), (5, True)):
    (loss, metrics), grads = objective(params, step)
    sc, mag = (float(v) for v in stft_loss.losses(generated, target, resolutions))
    fake, real = (np.asarray(score(params, x), np.float64) for x in (generated, target))
    want = sc + mag + (4.0 * np.mean((fake - 1) ** 2) + np.mean((real - 1) ** 2) + np.mean(fake ** 2)
                       if adversarial else 0.0)
    np.testing.assert_allclose(float(loss), want, rtol=1e-5)
    np.testing.assert_allclose(float(metrics['stft_loss']), sc + mag, rtol=1e-5)
    want_g = generator_grad(params, adversarial)
    for got, expected in zip(jax.tree_util.tree_leaves(_pick(grads, ('generator', 'upsampler'))),
                             jax.tree_util.tree_leaves(_pick(want_g, ('generator', 'upsampler')))):
      np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    got_d = jax.tree_util.tree_leaves(_pick(grads, ('discriminator',)))
    if adversarial:
      for got, expected in zip(got_d, jax.tree_util.tree_leaves(_pick(jax.jit(jax.grad(discriminator_loss))(params),
                                                                      ('discriminator',)))):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    else:
      assert all(not np.any(np.asarray(g)) for g in got_d)
  # train.compute_dtype='bfloat16': the players in bfloat16, the losses still float32.
  half, _ = jax.jit(lambda p: kind.objective(model, c, steps.compute_params(p, jax.numpy.bfloat16), batch, None, 5,
                                             key))(params)
  assert half.dtype == np.float32 and abs(float(half) / float(loss) - 1) < 0.05


def radam_step(g, t, lr, eps, b1=0.9, b2=0.999):
  """Rectified Adam's update at step t (1-based) after t equal gradients g, in float64 numpy
  (Liu et al. 2020, Algorithm 2): m̂ = g and v̂ = g² exactly."""
  rho_inf = 2 / (1 - b2) - 1
  rho = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
  if rho <= 5:
    return -lr * g
  r = np.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
  return -lr * r * g / (np.abs(g) + eps)


def test_each_player_has_its_own_optimizer_clipping_and_schedule_and_the_discriminator_waits():
  """Constant gradients for 10 steps: the generator's group (generator + upsampler) takes
  RAdam's steps at its rate, halved every 3 steps, its gradient clipped to norm 10 over its
  group; the discriminator's nothing before step 6, then RAdam from its own step 1 (not the
  run's 7th: its rectification and schedule count from its start) at its rate, clipped to 1."""
  import jax.numpy as jnp
  from wavenet_jax.training import optim
  c = pwg_config()
  t = c.train
  t.learning_rate, t.adam_epsilon, t.grad_clip_norm, t.lr_decay_steps, t.lr_decay_rate = 1e-2, 1e-6, 10.0, 3, 0.5
  t.discriminator.update(dict(learning_rate=1e-3, grad_clip_norm=1.0))
  t.discriminator_start_steps = 6
  optim.check_groups(c)
  tx, _ = optim.make_optimizer(c)
  shapes = {'upsampler': 3, 'generator': 4, 'discriminator': 5}
  params = {'params': {m: {'w': jnp.zeros(n)} for m, n in shapes.items()}}
  grads = {'params': {'upsampler': {'w': jnp.full(3, 2.0)}, 'generator': {'w': jnp.full(4, 6.0)},
                      'discriminator': {'w': jnp.full(5, 2.0)}}}
  g_clipped = np.concatenate([np.full(3, 2.0), np.full(4, 6.0)]) * 10 / np.sqrt(3 * 4 + 4 * 36)
  d_clipped = np.full(5, 2.0) / np.sqrt(5 * 4)
  # rtol 3e-2: optax takes rho_t = rho_inf - 2t·b2^t / (1 - b2^t) in float32, ~0.03 off float64's
  # near the threshold of 5; the unrectified and rectified steps differ 10-100x.
  state = tx.init(params)
  for step in range(10):
    updates, state = tx.update(grads, state, params)
    got_g = np.concatenate([np.asarray(updates['params'][m]['w'], np.float64) for m in ('upsampler', 'generator')])
    np.testing.assert_allclose(got_g, radam_step(g_clipped, step + 1, 1e-2 * 0.5 ** (step // 3), 1e-6), rtol=3e-2)
    got_d = np.asarray(updates['params']['discriminator']['w'], np.float64)
    if step < 6:
      assert not np.any(got_d), step
    else:
      own = step - 6
      np.testing.assert_allclose(got_d, radam_step(d_clipped, own + 1, 1e-3 * 0.5 ** (own // 3), 1e-6), rtol=3e-2)


# --- training, resuming, evaluating and vocoding a run ---------------------------------------

STEPS, START = 40, 30
LINE = re.compile(r'^step (\d+)/\d+  (loss [^)]*\))')


def _train(c, workdir):
  """(the run's eval metrics, {step: its log line's metrics}, stdout)."""
  from wavenet_jax.apps import train
  out = io.StringIO()
  with contextlib.redirect_stdout(out):
    metrics = train.train_and_evaluate(c, str(workdir))
  lines = {int(m.group(1)): m.group(2) for m in map(LINE.match, out.getvalue().splitlines()) if m}
  return metrics, lines, out.getvalue()


@pytest.fixture(scope='module')
def pwg_run(tmp_path_factory):
  """configs/demo_pwg.py at test size on the demo corpus: 40 steps at 1e-2, the discriminator
  from step 30, evaluated every 5 steps, every 5th step kept."""
  root = tmp_path_factory.mktemp('pwg')
  c = pwg_config(tiny.build_demo(str(root / 'demo')))
  c.train.update(dict(num_train_steps=STEPS, discriminator_start_steps=START, learning_rate=1e-2,
                      eval_every_steps=5, checkpoint_every_steps=5, max_checkpoints_to_keep=10))
  return (c, root / 'run') + _train(c, root / 'run')


def test_the_demo_recipe_learns_and_resumed_across_the_discriminators_start_is_the_straight_run(pwg_run, tmp_path):
  """Its STFT loss on the validation crops falls by 15% from step 5 to 40; a copy of the run cut
  back to step 25 (a kill after that checkpoint) and relaunched logs steps 26-40 as the straight
  run did, the discriminator joining at 30, and ends in the same state: both players' params
  and both optimizers."""
  from wavenet_jax.checkpoints import checkpointing
  c, workdir, metrics, lines, out = pwg_run
  evals = [float(v) for v in re.findall(r'^eval step \d+: validation: STFT loss (\S+)', out, re.M)]
  assert len(evals) == STEPS // 5 and evals[-1] == pytest.approx(metrics['stft_loss'], abs=1e-4)
  assert evals[-1] < 0.85 * evals[0], evals
  assert sorted(lines) == list(range(1, STEPS + 1))
  assert 'adversarial 0.0000' in lines[START] and 'adversarial 0.0000' not in lines[START + 1]

  resumed = tmp_path / 'resumed'
  shutil.copytree(workdir, resumed)
  for step in checkpointing.Checkpointer(str(resumed)).all_steps():
    if step > 25:
      shutil.rmtree(resumed / 'checkpoints' / str(step))
  _, again, text = _train(c, resumed)
  assert '(step 25)' in text and sorted(again) == list(range(26, STEPS + 1))
  assert {s: lines[s] for s in again} == again
  (a, _), (b, _) = checkpointing.load(str(workdir)), checkpointing.load(str(resumed))
  leaves_a, leaves_b = jax.tree_util.tree_leaves_with_path(a), jax.tree_util.tree_leaves_with_path(b)
  assert [p for p, _ in leaves_a] == [p for p, _ in leaves_b]
  assert any('discriminator' in jax.tree_util.keystr(p) for p, _ in leaves_a if 'opt_state' in jax.tree_util.keystr(p))
  for (path, x), (_, y) in zip(leaves_a, leaves_b):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=jax.tree_util.keystr(path))


def _one_pass(model, params, frames, seed, name):
  """A file's audio as one pass of the generator over its frames, with its name's noise."""
  from wavenet_jax.generation import parallel_vocoding
  from wavenet_jax.kinds.parallel_wavegan import file_key
  m = model.margin
  noise = parallel_vocoding.noise(file_key(seed, name), len(frames) * model.hop)
  return np.clip(np.asarray(tiny.apply(model, params, noise[None], np.pad(frames, ((m, m), (0, 0)))[None])[0]), -1, 1)


def test_eval_and_vocode_make_each_file_in_one_pass_from_its_names_noise(pwg_run, tmp_path):
  """--mode=eval resynthesises a clip beside Griffin-Lim; --mode=vocode makes a wav and a .npy,
  batched and in chunks of 3 frames, each equal to one pass with its name's noise (the .npy
  vocoded alone: the same samples); a bad .npy or a speaker for this speakerless vocoder is one
  line, nothing written."""
  import soundfile
  from configs import default
  from wavenet_jax.apps import train, vocode
  from wavenet_jax.checkpoints import trained
  from wavenet_jax.common.config_checks import ConfigError
  from wavenet_jax.generation import vocoding
  from wavenet_jax.input import audio
  c, workdir = pwg_run[:2]
  model, params, _ = trained.load_vocoder(str(workdir))
  e = c.copy_and_resolve_references()
  e.eval.vocode_clips, e.eval.vocode_seconds = 1, 0.1
  metrics = train.evaluate(e, str(workdir))
  assert metrics['vocode_clips'] == 1 and 0 <= metrics['stoi'] <= 1 and 'griffin_lim_stoi' in metrics
  clips = workdir / 'eval_validation_audio'
  original = soundfile.read(clips / '00_original.wav', dtype='float32')[0]
  np.testing.assert_allclose(soundfile.read(clips / '00_vocoded.wav', dtype='float32')[0],
                             _one_pass(model, params, vocoding.audio_frames(model, original), e.generate.seed, '00'),
                             atol=1e-4)

  src = tmp_path / 'in'
  (src / 'sub').mkdir(parents=True)
  audio.write_wav(str(src / 'sub' / 'speech.wav'), original[:7 * 16 + 5], 16000)
  npy = np.random.default_rng(3).uniform(0.1, 0.9, (5, 8)).astype(np.float32)
  np.save(src / 'tts.npy', npy)
  v = default.get_config()
  v.vocode.checkpoint, v.vocode.input = str(workdir), str(src)
  v.generate.update(dict(seed=7, chunk_size=48, batch_size=2))
  vocode.vocode_files(v, str(tmp_path / 'w'))
  v.vocode.input = str(src / 'tts.npy')
  vocode.vocode_files(v, str(tmp_path / 'alone'))
  out = tmp_path / 'w' / 'vocoded'
  for name, frames in [('tts', npy), ('sub/speech', vocode.read_frames(model, str(src / 'sub' / 'speech.wav')))]:
    wav, rate = soundfile.read(out / f'{name}.wav', dtype='float32')
    assert rate == 16000 and wav.shape == (len(frames) * 16,) and (out / f'{name}.png').exists()
    np.testing.assert_allclose(wav, _one_pass(model, params, frames, 7, name), atol=1e-4)
  np.testing.assert_array_equal(soundfile.read(out / 'tts.wav')[0],
                                soundfile.read(tmp_path / 'alone' / 'vocoded' / 'tts.wav')[0])

  np.save(src / 'tts.npy', np.full((4, 8), np.nan, np.float32))
  v.vocode.input = str(src)
  with pytest.raises(ConfigError, match=r'tts.npy: non-finite values$'):
    vocode.vocode_files(v, str(tmp_path / 'bad'))
  v.vocode.class_id = 2
  with pytest.raises(ConfigError, match=r'^vocode.class_id=2: this vocoder is not speaker-conditioned; leave it out$'):
    vocode.vocode_files(v, str(tmp_path / 'bad'))
  assert not (tmp_path / 'bad').exists() or not any((tmp_path / 'bad').rglob('*.wav'))


def test_the_shipped_configs_are_kan_bayashis_recipe_and_pass_their_checks():
  """ljspeech_pwg: the paper's sizes (generator + upsampler 1.33 M parameters, as
  kan-bayashi's parallel_wavegan.v1 without weight norm's gains), 22,050 Hz, his optimizers."""
  from configs import demo_pwg, ljspeech_pwg, vctk_pwg
  from wavenet_jax.kinds import registry
  from wavenet_jax.training import checks, optim
  for module in (ljspeech_pwg, vctk_pwg, demo_pwg):
    c = module.get_config()
    assert c.model.kind == 'parallel_wavegan'
    registry.of(c.model).check(c)
    optim.check(c.train)
    optim.check_groups(c)
  c = ljspeech_pwg.get_config()
  kind = registry.of(c.model)
  model = kind.build(c, kind.num_classes(c, 1))
  g, d = model.generator, model.discriminator
  assert ((g.num_layers, g.stacks, g.filter_width, g.residual_channels, g.gate_channels, g.skip_channels),
          (d.num_layers, d.channels, d.negative_slope)) == ((30, 3, 3, 64, 128, 64), (10, 64, 0.2))
  shapes = jax.eval_shape(model.init, jax.random.key(0), *kind.init_inputs(model, c.model))['params']
  count = lambda m: sum(int(np.prod(x.shape)) for x in jax.tree_util.tree_leaves(shapes[m]))  # noqa: E731
  assert count('generator') + count('upsampler') == 1_332_453
  t = c.train
  assert (model.hop, model.features.fmin, c.data.sample_rate, c.data.sample_size, t.batch_size) == (256, 80.0, 22050,
                                                                                                     25600, 6)
  assert (t.optimizer, t.learning_rate, t.adam_epsilon, t.grad_clip_norm, t.lr_decay_steps) == ('radam', 1e-4, 1e-6,
                                                                                                10.0, 200_000)
  d_settings = optim.group_settings(c, 'discriminator')
  assert (d_settings.optimizer, d_settings.learning_rate, d_settings.grad_clip_norm) == ('radam', 5e-5, 1.0)
  assert (t.discriminator_start_steps, t.num_train_steps, t.lambda_adv) == (100_000, 400_000, 4.0)
  assert tuple(map(tuple, t.stft_resolutions)) == ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240))
  assert checks.check_config(demo_pwg.get_config()).name == 'parallel_wavegan'


@pytest.mark.parametrize('key,value,needle', [
    ('model.generator.filter_width', 2, 'model.generator.filter_width=2: must be odd'),
    ('model.generator.stacks', 3, 'model.generator.num_layers=4: must be a multiple of model.generator.stacks=3'),
    ('model.discriminator.channels', 0, 'model.discriminator.channels=0: must be an integer >= 1'),
    ('train.discriminator_start_steps', -1, 'train.discriminator_start_steps=-1'),
    ('train.stft_resolutions', ((64, 16, 128),), '(64, 16, 128) must be (fft size, hop, window length <= fft size)'),
    ('train.stft_resolutions', ((512, 16, 128),), 'data.sample_size=128: must exceed half of every fft size'),
    ('train.discriminator.optimizer', 'adamw', "train.discriminator.optimizer='adamw': must be adam, sgd"),
    ('train.discriminator.lr_decay_rate', 2.0, 'train.discriminator.lr_decay_rate=2.0: must be in (0, 1]'),
    ('train.discriminator.learning_rat', 1e-3, 'train.discriminator.learning_rat: not a train setting'),
])
def test_bad_settings_fail_in_one_line(key, value, needle):
  from wavenet_jax.common.config_checks import ConfigError
  from wavenet_jax.training import checks
  c = pwg_config()
  *path, name = key.split('.')
  node = c
  for part in path:
    node = node[part]
  with node.unlocked() if hasattr(node, 'unlocked') else contextlib.nullcontext():
    node[name] = value
  with pytest.raises(ConfigError) as e:
    checks.check_config(c)
  assert needle in str(e.value) and '\n' not in str(e.value), str(e.value)


def test_the_two_player_step_splits_its_batch_over_the_devices(tmp_path):
  """Two host devices, one example each, 3 steps with the discriminator joining at step 2:
  the losses and both players' params equal the same steps on one device."""
  import os
  import subprocess
  import sys
  out = tmp_path / 'mesh.npz'
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=2')
  proc = subprocess.run([sys.executable, 'tests/mesh_worker.py', 'parallel_wavegan', '3', str(out),
                         'train.discriminator_start_steps=2'], cwd=root, env=env, capture_output=True, text=True,
                        timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  got = np.load(out)
  assert int(got['devices']) == 2
  np.testing.assert_allclose(got['all_losses'], got['one_losses'], rtol=1e-5)
  names = [k[3:] for k in got.files if k.startswith('all[')]
  assert any('discriminator' in n for n in names) and any('generator' in n for n in names)
  for n in names:
    np.testing.assert_allclose(got['all' + n], got['one' + n], rtol=1e-4, atol=1e-6, err_msg=n)
