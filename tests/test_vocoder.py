"""The vocoder kind: a training crop's features and conditioning are the whole clip's, generation
steps through the upsampled conditioning as the forward pass reads it, and it trains."""
import json
import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from tests import tiny
from wavenet_jax.common.config_checks import ConfigError
from wavenet_jax.generation import generate
from wavenet_jax.input import audio, lpc, mel
from wavenet_jax.kinds import registry
from wavenet_jax.kinds import vocoder as vocoder_kind
from wavenet_jax.kinds import wavenet as wavenet_kind
from wavenet_jax.models import vocoder

HOP = 16


def config(data_dir='', output='categorical', mode='stretch_conv', lookahead=1, lpc_order=0):
  c = tiny.config(data_dir)
  c.model.lpc_order = lpc_order
  c.model.kind = 'vocoder'
  c.model.mel = mel.default_config()
  c.model.mel.update(dict(num_mels=8, n_fft=64, hop=HOP, win_length=48, fmin=0.0, fmax=8000.0))
  c.model.upsample = ml_collections.ConfigDict(dict(scales=(4, 4), mode=mode, lookahead=lookahead, freq_kernel=1))
  c.data.sample_size = 4 * HOP
  if output != 'categorical':
    c.model.output, c.model.scalar_input, c.model.initial_filter_width = output, True, 3
  return c


def _model(c, seed=0):
  model = registry.of(c.model).build(c, 3)
  params = model.init(jax.random.key(seed), *registry.get('vocoder').init_inputs(model, c.model))
  # Spread the upsampler's stage taps so a wrong alignment cannot hide behind the average.
  params = jax.tree_util.tree_map_with_path(
      lambda path, p: p * (1 + 0.5 * jnp.sin(jnp.arange(p.size).reshape(p.shape)))
      if 'stage' in jax.tree_util.keystr(path) else p, params)
  return model, params


def _speech(n, seed=0):
  rng = np.random.default_rng(seed)
  t = np.arange(n)
  return (0.4 * np.sin(2 * np.pi * 0.013 * t * (1 + t / n)) * (np.sin(2 * np.pi * t / 300) > -0.3)
          + 0.03 * rng.normal(size=n)).astype(np.float32)


def _lpc_inputs(model, x, frames):
  """A linear-prediction vocoder's teacher forcing over a whole clip, in float64 numpy: x [T]
  and its frames [T / hop, M] -> (excitation classes of x_{t-1}, e_t [T + 1] (0 before the
  start), lpc inputs [T, 2]: p_t and x_{t-1})."""
  taps = np.repeat(np.asarray(lpc.filters(jnp.asarray(frames), model.features, model.sample_rate,
                                          model.lpc_order), np.float64), HOP, axis=0)  # [T, order]
  x = np.asarray(x, np.float64)
  past = np.concatenate([np.zeros(model.lpc_order), x])
  p = np.array([taps[t] @ past[t:t + model.lpc_order][::-1] for t in range(len(x))])
  classes = audio.mu_law_encode(np.clip(x - p, -1, 1), model.decoder.quantization_channels)
  silence = audio.mu_law_encode(np.zeros(1), model.decoder.quantization_channels)
  previous = np.concatenate([[0.0], x[:-1]])
  return np.concatenate([silence, classes]), np.stack([p, previous], -1).astype(np.float32)


@pytest.mark.parametrize('output,mode,lpc_order', [('categorical', 'stretch_conv', 0),
                                                   ('logistic_mixture', 'transposed', 0),
                                                   ('gaussian', 'repeat', 0), ('categorical', 'repeat', 6)])
def test_a_crops_loss_is_the_whole_clips_at_those_samples(output, mode, lpc_order):
  """kind.nll_per_target on a crop (its frames from its own context) equals the model run over
  the whole clip (frames of the whole file, zeros beyond it) at the crop's samples: inside
  the clip, and at its end where the context runs past it. With linear prediction the whole
  clip's excitation and predictions are computed in float64 numpy."""
  c = config(output=output, mode=mode, lpc_order=lpc_order, lookahead=0 if lpc_order else 1)
  model, params = _model(c)
  x = _speech(60 * HOP)
  margin = model.margin * HOP
  frames = mel.log_mel(jnp.asarray(np.pad(x, (margin, margin))[None]), model.features, model.sample_rate)
  if lpc_order:
    classes, lpc_inputs = _lpc_inputs(model, x, frames[0, model.margin:frames.shape[1] - model.margin])
    whole = model.apply(params, jnp.asarray(classes[None, :-1]), frames, jnp.asarray([1]), None,
                        jnp.asarray(lpc_inputs[None]))
    targets = jnp.asarray(classes[None])
  else:
    inputs, targets = wavenet_kind.model_inputs(c.model, jnp.asarray(np.pad(x, (1, 0))[None]))
    whole = model.apply(params, inputs[:, :-1], frames, jnp.asarray([1]))  # [1, T, C]
  whole_nll = np.asarray(wavenet_kind.target_nll(model.decoder, whole, targets[:, 1:]))[0]

  before, after = vocoder.crop_context(model)
  padded = np.pad(x, (before, after))
  size = c.data.sample_size
  for start in (30 * HOP, len(x) - size):
    crop = padded[start:start + before + size + after]
    mask = (np.arange(len(crop)) < before + len(x) - start).astype(np.float32)
    batch = {'audio': jnp.asarray(crop[None]), 'mask': jnp.asarray(mask[None]), 'label': jnp.asarray([1])}
    nll, kept = registry.get('vocoder').nll_per_target(model, c.model, params, batch)
    np.testing.assert_allclose(np.asarray(nll)[0], whole_nll[start:start + size], rtol=1e-4, atol=1e-4)
    assert np.all(np.asarray(kept) == 1)


@pytest.mark.parametrize('r9y9_taps', [False, True])
def test_generation_steps_through_the_upsampled_conditioning_as_the_forward_pass(r9y9_taps):
  c = config(output='logistic_mixture')
  if r9y9_taps:  # configs/_vocoder.py's: kernel 3, the previous sample through a 1x1 conv
    c.model.filter_width, c.model.initial_filter_width, c.model.dilations = 3, 1, (1, 2, 4, 1, 2, 4)
  model, params = _model(c, seed=1)
  frames = jnp.asarray(np.random.default_rng(0).uniform(size=(2, 6 + 2 * model.margin, 8)), jnp.float32)
  x = jnp.asarray(np.random.default_rng(1).uniform(-0.5, 0.5, (2, 6 * HOP)), jnp.float32)
  gc = jnp.asarray([0, 2])
  full = generate.full_precision(model.apply)(params, x, frames, gc)
  lc = model.apply(params, frames, method=vocoder.Vocoder.condition)
  decoder_params = {'params': params['params']['decoder']}
  stepped, _ = generate.step_through(model.decoder, decoder_params, x, gc, lc)
  assert float(jnp.max(jnp.abs(full - stepped))) <= 1e-4


def test_linear_prediction_generation_is_the_training_forward_pass():
  """A linear-prediction vocoder generating by argmax, in chunks that cut frames: every sample
  is p_t + the excitation the teacher-forced forward pass (inputs and predictions from the
  generated samples, in float64 numpy) picks, and one pass draws what the chunks draw."""
  from wavenet_jax.generation import vocoding
  c = config(lpc_order=4)
  model, params = _model(c, seed=2)
  frames = np.random.default_rng(5).uniform(0.2, 0.9, (2, 7, 8)).astype(np.float32)
  g = ml_collections.ConfigDict(dict(seed=3, temperature=0.0, top_k=0, top_p=1.0, chunk_size=24))
  gc = jnp.asarray([0, 2])
  chunked = np.concatenate([np.asarray(c) for c in vocoding.draw_chunks(model, params, frames, gc, g, 'ibab')], 1)
  g.chunk_size = 7 * HOP
  whole = np.concatenate([np.asarray(c) for c in vocoding.draw_chunks(model, params, frames, gc, g, 'ibab')], 1)
  np.testing.assert_array_equal(chunked, whole)
  assert chunked.shape == (2, 7 * HOP) and np.std(chunked) > 0
  padded = jnp.asarray(np.pad(frames, ((0, 0), (model.margin,) * 2, (0, 0))))
  for b in range(2):
    classes, lpc_inputs = _lpc_inputs(model, chunked[b], frames[b])
    logits = generate.full_precision(model.apply)(params, jnp.asarray(classes[None, :-1]), padded[b:b + 1],
                                                  gc[b:b + 1], None, jnp.asarray(lpc_inputs[None]))
    picked = audio.mu_law_decode(np.argmax(np.asarray(logits[0]), -1), model.decoder.quantization_channels)
    np.testing.assert_allclose(chunked[b], np.clip(lpc_inputs[:, 0] + picked, -1, 1), atol=1e-5)


def test_trains_through_the_pipeline_and_eval_scores_resynthesis_beside_griffin_lim(tmp_path):
  import soundfile
  from wavenet_jax.apps import train
  from wavenet_jax.evaluation import speech_scores
  demo_dir = tiny.build_demo(str(tmp_path / 'demo'))
  c = config(str(demo_dir), output='logistic_mixture')
  metrics = train.train_and_evaluate(c, str(tmp_path / 'run'))
  assert np.isfinite(metrics['bits_per_sample']) and metrics['targets'] > 0

  c.eval.vocode_clips, c.eval.vocode_seconds = 2, 0.1
  metrics = train.evaluate(c, str(tmp_path / 'run'))
  assert metrics['vocode_clips'] == 2
  with open(tmp_path / 'run' / 'eval_validation.json') as f:
    assert json.load(f)['griffin_lim_stoi'] == metrics['griffin_lim_stoi']
  # The means are those of each written triple, scored again here.
  rows = {'': [], 'griffin_lim_': []}
  for i in range(2):
    read = lambda name: soundfile.read(tmp_path / 'run' / 'eval_validation_audio' / f'{i:02d}_{name}.wav')[0]
    original = read('original')
    assert len(original) == 1600  # cut to 0.1 s at 16 kHz, whole hops of 16
    rows[''].append(speech_scores.scores(original, read('vocoded'), c.model.mel, 16000))
    rows['griffin_lim_'].append(speech_scores.scores(original, read('griffin_lim'), c.model.mel, 16000))
  for prefix, scored in rows.items():
    for key, value in speech_scores.mean_scores(scored).items():
      if value is None:  # PESQ needs a quarter second
        assert metrics[prefix + key] is None
      else:
        assert metrics[prefix + key] == pytest.approx(value, rel=0.02, abs=0.02), prefix + key
  tags = tiny.read_tags(str(tmp_path / 'run' / 'eval'))
  assert {'resynthesis/00/original', 'resynthesis/01/griffin_lim', 'eval/stoi', 'eval/griffin_lim_lsd_db'} <= tags
  images = tiny.plugin_tags(str(tmp_path / 'run' / 'eval'), 'images')
  assert {f'resynthesis/0{i}/{k}/spectrogram' for i in (0, 1) for k in ('original', 'vocoded', 'griffin_lim')} <= images


def test_the_shipped_configs_are_r9y9s_model_and_pass_their_checks():
  from configs import demo_vocoder, ljspeech_vocoder, vctk_vocoder
  for module, default in ((ljspeech_vocoder, 'logistic_mixture'), (vctk_vocoder, 'logistic_mixture'),
                         (demo_vocoder, 'categorical')):
    for head, output in (('', default), ('mol', 'logistic_mixture'), ('gaussian', 'gaussian'),
                         ('categorical', 'categorical'), ('lpc', 'categorical')):
      c = module.get_config(head or None)
      assert c.model.output == output and c.model.kind == 'vocoder'
      assert c.model.lpc_order == (16 if head == 'lpc' else 0 if head else c.model.lpc_order)
      vocoder_kind.check(c)
  lj = ljspeech_vocoder.get_config()
  kind = registry.of(lj.model)
  model = kind.build(lj, kind.num_classes(lj, 1))  # one speaker: no speaker embedding
  d = model.decoder
  assert (len(d.dilations), d.filter_width, d.residual_channels, 2 * d.dilation_channels, d.skip_channels,
          d.num_mixtures, d.gc_cardinality) == (24, 3, 128, 256, 128, 10, 0)
  assert model.hop == 256 and model.features == mel.settings(mel.default_config()) and lj.data.sample_rate == 22050
  assert vctk_vocoder.get_config().model.gc_cardinality == -1
  assert demo_vocoder.get_config().data.corpus == 'espeak'
  with pytest.raises(ValueError, match='unknown variant'):
    ljspeech_vocoder.get_config('wavenet')


@pytest.mark.parametrize('key,value,needle', [
    ('model.upsample.scales', (4, 2), 'their product must be model.mel.hop=16'),
    ('model.upsample.mode', 'linear', "model.upsample.mode='linear'"),
    ('data.sample_size', 40, 'data.sample_size=40'),
    ('model.mel.fmax', 9000.0, 'fmax (9000.0)'),
    ('model.upsample.freq_kernel', 2, 'model.upsample.freq_kernel=2: must be an odd integer >= 1'),
    ('model.lpc_order', -1, 'model.lpc_order=-1: must be an integer >= 0'),
    ('model.lpc_order', 32, 'must be below half of model.mel.n_fft=64'),
])
def test_bad_settings_fail_in_one_line(key, value, needle):
  c = config()
  *path, name = key.split('.')
  node = c
  for part in path:
    node = node[part]
  node[name] = value
  with pytest.raises(ConfigError) as e:
    vocoder_kind.check(c)
  assert needle in str(e.value) and '\n' not in str(e.value)


def test_linear_prediction_needs_the_categorical_head_in_one_line():
  with pytest.raises(ConfigError, match=r"model.lpc_order=4: .*\(model.output='categorical'") as e:
    vocoder_kind.check(config(output='gaussian', lpc_order=4))
  assert '\n' not in str(e.value)


# --- --mode=vocode ------------------------------------------------------------------------

@pytest.fixture(scope='module')
def vocoder_run(tmp_path_factory):
  """(workdir, config, model, params) of a random-weight mixture vocoder saved as training does."""
  from wavenet_jax.checkpoints import checkpointing
  c = config(output='logistic_mixture')
  model, params = _model(c, seed=4)
  workdir = tmp_path_factory.mktemp('vocoder') / 'run'
  meta = {'step': 0, 'data_position': 0, 'class_names': ['a', 'b', 'c'], 'sample_rate': 16000,
          'receptive_field': 0, 'gc_cardinality': 3, 'model': c.model.to_dict(), 'null_class_id': None,
          'data_dirs': []}
  ckpt = checkpointing.Checkpointer(str(workdir))
  ckpt.save(0, {'step': np.int32(0), 'params': params, 'ema_params': None}, meta)
  ckpt.wait()
  ckpt.close()
  return str(workdir), c, model, params


def _vocode_config(workdir, source, **generate_options):
  from configs import default
  c = default.get_config()
  c.vocode.checkpoint, c.vocode.input, c.vocode.class_id = workdir, str(source), 2
  c.generate.seed = 7
  for k, v in generate_options.items():
    c.generate[k] = v
  return c


def test_vocoding_in_chunks_and_batches_equals_one_pass_over_each_file(vocoder_run, tmp_path):
  """Resynthesis of two files of different lengths (audio and .npy), batched, in chunks that
  cut frames: each wav is what one scan over that file's whole conditioning draws."""
  import soundfile
  from wavenet_jax.apps import vocode
  from wavenet_jax.input import audio
  workdir, c, model, params = vocoder_run
  src = tmp_path / 'in'
  (src / 'sub').mkdir(parents=True)
  audio.write_wav(str(src / 'sub' / 'speech.wav'), _speech(7 * HOP + 5, seed=2), 16000)  # padded to 8 frames
  npy = np.random.default_rng(3).uniform(0.1, 0.9, (5, 8)).astype(np.float32)
  np.save(src / 'tts.npy', npy)
  written = vocode.vocode_files(_vocode_config(workdir, src, chunk_size=24, batch_size=2), str(tmp_path / 'w'))
  out = tmp_path / 'w' / 'vocoded'
  assert sorted(written) == sorted([str(out / 'sub' / 'speech.wav'), str(out / 'tts.wav')])
  assert (out / 'tts.png').exists() and (out / 'sub' / 'speech.png').exists()
  for name, frames in [('tts', npy), ('sub/speech', vocode.read_frames(model, str(src / 'sub' / 'speech.wav')))]:
    wav, rate = soundfile.read(out / f'{name}.wav', dtype='float32')
    assert rate == 16000 and wav.shape == (len(frames) * HOP,)
    whole = model.apply(params, jnp.asarray(np.pad(frames, ((model.margin,) * 2, (0, 0)))[None]),
                        method=vocoder.Vocoder.condition)  # one pass over the file
    alone = generate.generate(model.decoder, {'params': params['params']['decoder']}, jax.random.key(7)[None],
                              len(frames) * HOP, jnp.asarray([2]), 1.0, lc=whole)
    np.testing.assert_array_equal(wav, np.asarray(alone[0]))
    assert np.std(wav) > 0


@pytest.mark.parametrize('array,needle', [
    (np.zeros((4, 5), np.float32), 'this vocoder takes [frames, 8]'),
    (np.zeros((4, 8), np.int16), 'dtype int16'),
    (np.full((4, 8), np.nan, np.float32), 'non-finite'),
    (np.full((4, 8), 40.0, np.float32), 'values in [40, 40]'),
])
def test_bad_mels_fail_in_one_line_naming_the_file_and_write_nothing(vocoder_run, tmp_path, array, needle):
  from wavenet_jax.apps import vocode
  src = tmp_path / 'in'
  src.mkdir()
  np.save(src / 'bad.npy', array)
  with pytest.raises(ConfigError) as e:
    vocode.vocode_files(_vocode_config(vocoder_run[0], src), str(tmp_path / 'w'))
  assert str(e.value).startswith(str(src / 'bad.npy')) and needle in str(e.value) and '\n' not in str(e.value)
  assert not (tmp_path / 'w' / 'vocoded').exists()


def test_audio_sampled_below_twice_fmax_is_refused_in_one_line(vocoder_run, tmp_path):
  from wavenet_jax.apps import vocode
  from wavenet_jax.input import audio
  src = tmp_path / 'in'
  src.mkdir()
  audio.write_wav(str(src / 'narrow.wav'), _speech(800), 4000)  # this vocoder's fmax is 8 kHz
  with pytest.raises(audio.AudioError) as e:
    vocode.vocode_files(_vocode_config(vocoder_run[0], src), str(tmp_path / 'w'))
  assert str(e.value) == f'{src / "narrow.wav"}: recorded at 4000 Hz; needs at least 16000 Hz'
  assert not (tmp_path / 'w' / 'vocoded').exists()


def test_a_vocoder_config_takes_the_model_of_the_checkpoint_it_vocodes_with(vocoder_run):
  """launch.py's step before --mode=vocode: a config file's model.* (nested mel and upsampler
  settings, tuples) made the checkpoint's, and an override that contradicts it refused."""
  from configs import demo_vocoder
  from wavenet_jax.checkpoints import saved_model
  workdir, trained_config = vocoder_run[:2]
  c = demo_vocoder.get_config()
  saved_model.adopt(c, workdir, chosen={'vocode.input'}, note=None)
  assert c.model.to_dict() == trained_config.model.to_dict()
  assert c.model.upsample.scales == (4, 4) and c.model.output == 'logistic_mixture'
  c = demo_vocoder.get_config()
  c.model.mel.hop = 32
  with pytest.raises(ConfigError, match=r'^--config.model.mel.hop=32: the checkpoints in .* were trained with 16; '):
    saved_model.adopt(c, workdir, chosen={'model.mel.hop'}, note=None)


def test_what_a_vocoder_cannot_honour_is_refused_in_one_line(vocoder_run, tmp_path):
  """vocode.class_id on a vocoder without speakers; --mode=embeddings on any vocoder: nothing written."""
  from configs import default
  from wavenet_jax.apps import embedding_plots, vocode
  from wavenet_jax.checkpoints import checkpointing
  c = config(output='logistic_mixture')
  c.model.gc_cardinality = 0
  model = registry.of(c.model).build(c, 0)
  params = model.init(jax.random.key(0), *registry.get('vocoder').init_inputs(model, c.model))
  workdir = str(tmp_path / 'single')
  meta = {'step': 0, 'data_position': 0, 'class_names': ['a'], 'sample_rate': 16000, 'receptive_field': 0,
          'gc_cardinality': 0, 'model': c.model.to_dict(), 'null_class_id': None, 'data_dirs': []}
  ckpt = checkpointing.Checkpointer(workdir)
  ckpt.save(0, {'step': np.int32(0), 'params': params, 'ema_params': None}, meta)
  ckpt.wait()
  ckpt.close()
  np.save(tmp_path / 'x.npy', np.zeros((2, 8), np.float32))
  with pytest.raises(ConfigError, match=r'^vocode.class_id=2: this vocoder is not speaker-conditioned '
                                        r'\(trained with model.gc_cardinality=0\); leave it out$'):
    vocode.vocode_files(_vocode_config(workdir, tmp_path / 'x.npy'), str(tmp_path / 'w'))
  unset = _vocode_config(workdir, '')
  unset.vocode.class_id = -1
  with pytest.raises(ConfigError, match=r'^vocode.input is unset: name a file or a folder$'):
    vocode.vocode_files(unset, str(tmp_path / 'w'))
  e = default.get_config()
  e.latent.checkpoint = vocoder_run[0]
  with pytest.raises(checkpointing.CheckpointError, match=r"a vocoder checkpoint \(model.kind 'vocoder'\) has no "
                                                          'embeddings to plot'):
    embedding_plots.plot_embeddings(e, str(tmp_path / 'w'))
  assert not (tmp_path / 'w').exists() or not os.listdir(tmp_path / 'w')


def test_a_wavenet_checkpoint_cannot_vocode(tmp_path):
  from wavenet_jax.apps import train, vocode
  from wavenet_jax.checkpoints import checkpointing
  demo_dir = tiny.build_demo(str(tmp_path / 'demo'))
  train.train_and_evaluate(tiny.config(str(demo_dir), steps=1), str(tmp_path / 'run'))
  np.save(tmp_path / 'x.npy', np.zeros((2, 8), np.float32))
  with pytest.raises(checkpointing.CheckpointError, match="model.kind 'wavenet' is not a vocoder"):
    vocode.vocode_files(_vocode_config(str(tmp_path / 'run'), tmp_path / 'x.npy'), str(tmp_path / 'w'))


def test_folded_segments_condition_as_the_whole_file_and_join_with_a_linear_crossfade(vocoder_run):
  from wavenet_jax.generation import folding, vocoding
  _, _, model, params = vocoder_run
  frames = np.random.default_rng(8).uniform(0.1, 0.9, (11, 8)).astype(np.float32)
  size, overlap, m = 4, 2, model.margin
  segments = folding.windows(frames, size, overlap, m)  # 3 segments: frames [-2, 4), [2, 8), [6, 12)
  assert segments.shape == (3, m + overlap + size + m, 8)
  lc = vocoding.Conditioning(model, params, segments, with_margins=True)[:, :]  # [3, (overlap + size)·hop, 8]
  padded = np.pad(frames, ((m + overlap, 12 - 11 + m), (0, 0)))  # the file, 2 frames of silence before
  whole = model.apply(params, jnp.asarray(padded[None]), method=vocoder.Vocoder.condition)[0]  # one pass
  for k in range(3):
    np.testing.assert_allclose(lc[k], whole[k * size * HOP:(k * size + overlap + size) * HOP], atol=1e-5)
  # Constant segments 1, 2, 3 of 4 samples after 4 of overlap: a fade over 2 samples before each seam.
  joined = folding.join(np.repeat([[1.0], [2.0], [3.0]], 8, axis=1), 4, 4)
  np.testing.assert_allclose(joined, [1, 1, 1.25, 1.75, 2, 2, 2.25, 2.75, 3, 3, 3, 3])


def test_folded_vocoding_is_each_segment_sampled_alone_then_crossfaded(vocoder_run, tmp_path):
  """A file cut into 3 segments of 4 frames (overlap 2), sampled 2 at a time in chunks that cut
  frames: the wav is each segment generated alone over its slice of the file's conditioning
  (its own key), joined in numpy; bad fold settings fail in one line first."""
  import soundfile
  from wavenet_jax.apps import vocode
  from wavenet_jax.generation import vocoding
  workdir, c, model, params = vocoder_run
  frames = np.random.default_rng(9).uniform(0.1, 0.9, (11, 8)).astype(np.float32)
  np.save(tmp_path / 'tts.npy', frames)
  for key, bad in (('fold_frames', -1), ('overlap_frames', True)):
    config = _vocode_config(workdir, tmp_path / 'tts.npy')
    config.vocode[key] = bad
    with pytest.raises(ConfigError, match=f'vocode.{key}={bad!r}: must be an integer >= 0'):
      vocode.vocode_files(config, str(tmp_path / 'w'))
  config = _vocode_config(workdir, tmp_path / 'tts.npy', chunk_size=24, batch_size=2)
  config.vocode.fold_frames, config.vocode.overlap_frames = 4, 2
  vocode.vocode_files(config, str(tmp_path / 'w'))
  wav, _ = soundfile.read(tmp_path / 'w' / 'vocoded' / 'tts.wav', dtype='float32')
  m, size, overlap = model.margin, 4 * HOP, 2 * HOP
  padded = np.pad(frames, ((m + 2, 1 + m), (0, 0)))
  whole = model.apply(params, jnp.asarray(padded[None]), method=vocoder.Vocoder.condition)  # [1, 14·hop, 8]
  alone = [np.asarray(vocoding.to_audio(model, generate.generate(
      model.decoder, {'params': params['params']['decoder']}, jax.random.fold_in(jax.random.key(7), k)[None],
      overlap + size, jnp.asarray([2]), 1.0, c.model.mu_law, lc=whole[:, k * size:k * size + overlap + size]),
      c.model.mu_law))[0] for k in range(3)]
  expected = np.concatenate([a[overlap:] for a in alone])
  w = (np.arange(HOP) + 0.5) / HOP  # the fade: the last half of the overlap
  for k in (1, 2):
    expected[k * size - HOP:k * size] = (1 - w) * alone[k - 1][-HOP:] + w * alone[k][overlap - HOP:overlap]
  assert wav.shape == (11 * HOP,) and np.std(wav) > 0
  np.testing.assert_allclose(wav, expected[:11 * HOP], atol=1 / 32768)
