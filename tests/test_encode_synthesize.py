"""encode / synthesize / interpolate: files in, files out, checked against independent computations."""
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import soundfile

from configs import default
from tests.test_nsynth import audio_batch, np_encoder
from wavenet_jax.apps import encode_synthesize
from wavenet_jax.checkpoints import checkpointing, trained
from wavenet_jax.generation import encoding, generate
from wavenet_jax.input import audio
from wavenet_jax.models import nsynth
from wavenet_jax.models.wavenet import WaveNet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOP, RATE, E = 16, 16000, 4


def tiny_config(output='categorical'):
  c = nsynth.tiny_config()
  c.dilations = c.encoder.dilations = (1, 2, 4)
  c.encoder.hop = HOP
  c.kind = 'nsynth_autoencoder'
  c.output, c.num_mixtures = output, 3
  return c


def save_run(workdir, state, model_config):
  """A checkpoint as train.py writes one (state + meta), without training."""
  meta = {'step': 0, 'data_position': 0, 'class_names': ['x'], 'sample_rate': RATE,
          'receptive_field': 0, 'gc_cardinality': 0, 'model': model_config.to_dict(),
          'null_class_id': None, 'data_dirs': []}
  ckpt = checkpointing.Checkpointer(str(workdir))
  ckpt.save(0, state, meta)
  ckpt.wait()
  ckpt.close()
  return str(workdir)


def random_params(seed, output='categorical'):
  """The tiny autoencoder's params drawn in numpy (eager init takes seconds): kernels
  ~ 1/sqrt(fan-in), biases ~ 0.1, so every layer's output moves with its input."""
  model = nsynth.from_config(tiny_config(output))
  shapes = jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, HOP)))
  rng = np.random.default_rng(seed)
  draw = lambda s: (rng.normal(size=s.shape) * (s.shape[:-1] and 1 / np.sqrt(np.prod(s.shape[:-1]))
                                                or 0.1)).astype(np.float32)
  return jax.tree_util.tree_map(draw, shapes)


@pytest.fixture(scope='module')
def run(tmp_path_factory):
  """(workdir, EMA params) of a tiny autoencoder whose EMA params differ from its raw ones."""
  ema, raw = random_params(1), random_params(2)
  workdir = save_run(tmp_path_factory.mktemp('ae') / 'run',
                     {'step': np.int32(0), 'params': raw, 'ema_params': ema}, tiny_config())
  return workdir, ema['params']


def config(checkpoint, **embeddings_options):
  c = default.get_config()
  c.embeddings.checkpoint = checkpoint
  c.generate.seed = 3
  c.generate.chunk_size = 24  # 1.5 frames, so chunks cut frames; lengths are multiples of it (compiles)
  for k, v in embeddings_options.items():
    c.embeddings[k] = v
  return c


def expected_embedding(path, encoder_params):
  wav = encoding.trim_for_encoding(audio.load(path, RATE), HOP)
  scaled = audio.nsynth_scalar(audio.mu_law_encode(wav[None], 256, 'nsynth'), 256)
  return np_encoder(encoder_params, scaled, tiny_config().encoder)[0]


def synthesized_alone(decoder_params, embedding, seed, temperature=1.0, output='categorical'):
  """generate.generate on this one embedding: what its wav must hold."""
  decoder = WaveNet.from_config(tiny_config(output))
  lc = nsynth.upsample(jnp.asarray(embedding)[None], HOP)  # [1, F·hop, E]
  draws = generate.generate(decoder, {'params': decoder_params}, jax.random.key(seed)[None],
                            len(embedding) * HOP, None, temperature, 'nsynth',
                            jnp.zeros((1, 1)), lc=lc)
  if output != 'categorical':
    return np.asarray(draws[0])
  return audio.mu_law_decode(np.asarray(draws[0]), 256, 'nsynth')


def write_embeddings(folder, named):
  for name, en in named.items():
    path = os.path.join(folder, name + '.npy')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.save(path, en)


def test_encode_writes_one_npy_per_file_equal_to_numpy(run, tmp_path, capsys):
  workdir, params = run
  src = tmp_path / 'audio'
  (src / 'sub' / 'deeper').mkdir(parents=True)
  clips = audio_batch(4, 100, seed=5)
  soundfile.write(src / 'a.wav', clips[0], RATE, subtype='FLOAT')  # 100 -> 96 samples, 6 frames
  soundfile.write(src / 'sub' / 'b.flac', clips[1, :64], RATE)  # 4 frames
  soundfile.write(src / 'sub' / 'deeper' / 'c.wav', clips[2, :70], RATE)  # -> 64: batched with b
  soundfile.write(src / 'short.wav', clips[3, :10], RATE)
  (src / 'notes.txt').write_text('not audio')
  # chunk_frames 2: windows of 2 frames + a 1-frame halo, checked against the whole file.
  c = config(workdir, input=str(src), batch_size=2, chunk_frames=2)
  written = encode_synthesize.encode_files(c, str(tmp_path / 'w'))
  out = tmp_path / 'w' / 'embeddings'
  assert sorted(written) == sorted(str(out / n) for n in ('a.npy', 'sub/b.npy', 'sub/deeper/c.npy'))
  for name, frames in (('a', 6), ('sub/b', 4), ('sub/deeper/c', 4)):
    got = np.load(out / f'{name}.npy')
    assert got.dtype == np.float32 and got.shape == (frames, E)
    suffix = '.flac' if name == 'sub/b' else '.wav'
    np.testing.assert_allclose(got, expected_embedding(str(src / name) + suffix, params['encoder']),
                               atol=1e-4, rtol=1e-4)
  err = capsys.readouterr()
  assert 'short.wav' in err.err and 'skipped 1 too short' in err.out
  assert not [f for _, _, fs in os.walk(out) for f in fs if f.endswith('.tmp')]


def test_windowed_encoding_equals_the_whole_file(run):
  model = trained.load_nsynth(run[0])
  wavs = audio_batch(2, 40 * HOP, seed=1)
  whole = encoding.encode(model, wavs, chunk_frames=1000)
  np.testing.assert_allclose(encoding.encode(model, wavs, chunk_frames=3), whole, atol=1e-5)
  np.testing.assert_allclose(encoding.encode(model, wavs[1:], chunk_frames=7), whole[1:], atol=1e-5)


def test_synthesize_batches_files_yet_each_equals_generating_it_alone(run, tmp_path):
  workdir, params = run
  rng = np.random.default_rng(0)
  named = {'sub/short': rng.normal(size=(3, E)), 'long': rng.normal(size=(6, E)),
           'other': rng.normal(size=(6, E))}
  named = {k: v.astype(np.float32) for k, v in named.items()}
  write_embeddings(tmp_path / 'emb', named)
  c = config(workdir, input=str(tmp_path / 'emb'))
  c.generate.batch_size = 2  # [short, long] pads short's frames; [other] alone
  written = encode_synthesize.synthesize_files(c, str(tmp_path / 'w'))
  out = tmp_path / 'w' / 'synthesized'
  assert sorted(written) == sorted(str(out / f'{n}.wav') for n in named)
  wavs = {}
  for name, en in named.items():
    wav, rate = soundfile.read(out / f'{name}.wav', dtype='float32')
    assert rate == RATE and wav.shape == (len(en) * HOP,) and (out / f'{name}.png').exists()
    # 16-bit wav: adjacent mu-law levels are > 5 LSB apart, so 1.5 LSB tells them apart.
    np.testing.assert_allclose(wav, synthesized_alone(params['decoder'], en, 3), atol=1.5 / 32768)
    wavs[name] = wav
  assert np.abs(wavs['long'] - wavs['other']).max() > 0.01  # same seed, other embedding


def test_mixture_decoder_scores_16_bit_levels_and_synthesizes_each_file_as_alone(tmp_path):
  """The autoencoder with a logistic-mixture decoder: the encoder reads NSynth's mu-law, the
  decoder the shifted 16-bit levels, and its nll is the float64 mixture formula's at the 16-bit
  targets; synthesize batches files and writes each as generated alone."""
  from tests.test_heads import np_log_prob
  from wavenet_jax.kinds import registry
  params = random_params(5, 'logistic_mixture')
  model = nsynth.from_config(tiny_config('logistic_mixture'))
  wavs = audio_batch(2, 4 * HOP, seed=3)
  outputs, targets, embedding = model.apply(params, jnp.asarray(wavs))
  levels = np.clip(np.round(wavs.astype(np.float64) * 32768), -32768, 32767) / 32768
  np.testing.assert_allclose(np.asarray(targets), levels, atol=1e-6)
  scaled = audio.nsynth_scalar(audio.mu_law_encode(wavs, 256, 'nsynth'), 256)
  np.testing.assert_allclose(np.asarray(embedding), np_encoder(params['params']['encoder'], scaled,
                                                               tiny_config().encoder), atol=1e-4)
  decoder = WaveNet.from_config(tiny_config('logistic_mixture'))
  shifted = np.pad(levels[:, :-1], ((0, 0), (1, 0))).astype(np.float32)
  want_out = decoder.apply({'params': params['params']['decoder']}, jnp.asarray(shifted), None,
                           nsynth.upsample(embedding, HOP))
  np.testing.assert_allclose(np.asarray(outputs), np.asarray(want_out), atol=1e-5)
  nll, _ = registry.get('nsynth_autoencoder').nll_per_target(model, None, params, {'audio': jnp.asarray(wavs), 'mask': jnp.ones(wavs.shape)})
  np.testing.assert_allclose(np.asarray(nll), -np_log_prob('logistic_mixture', np.asarray(outputs), levels, -7.0),
                             rtol=1e-4, atol=1e-4)

  workdir = save_run(tmp_path / 'run', {'step': np.int32(0), 'params': params, 'ema_params': None},
                     tiny_config('logistic_mixture'))
  rng = np.random.default_rng(2)
  named = {'a': rng.normal(size=(2, E)).astype(np.float32), 'b': rng.normal(size=(3, E)).astype(np.float32)}
  write_embeddings(tmp_path / 'emb', named)
  c = config(workdir, input=str(tmp_path / 'emb'))
  c.generate.batch_size = 2
  encode_synthesize.synthesize_files(c, str(tmp_path / 'w'))
  for name, en in named.items():
    wav, _ = soundfile.read(tmp_path / 'w' / 'synthesized' / f'{name}.wav', dtype='float32')
    alone = synthesized_alone(params['params']['decoder'], en, 3, output='logistic_mixture')
    np.testing.assert_array_equal(wav, alone)  # 16-bit PCM levels, written losslessly
    assert np.std(wav) > 1e-3


def test_failing_midway_leaves_whole_files_and_no_temporary_ones(run, tmp_path, monkeypatch):
  """encode and synthesize failing after their first outputs: those stay whole, the rest
  (and any temporary file) are not left behind."""
  workdir, _ = run
  rng = np.random.default_rng(1)
  named = {'a': rng.normal(size=(2, E)), 'b': rng.normal(size=(2, E)), 'c': rng.normal(size=(3, E))}
  write_embeddings(tmp_path / 'emb', {k: v.astype(np.float32) for k, v in named.items()})
  real_chunks, calls = generate.generate_chunks, []

  def failing_chunks(*args, **kwargs):
    calls.append(1)
    for i, chunk in enumerate(real_chunks(*args, **kwargs)):
      if len(calls) == 2 and i == 1:
        raise RuntimeError('device lost')
      yield chunk

  monkeypatch.setattr(generate, 'generate_chunks', failing_chunks)
  c = config(workdir, input=str(tmp_path / 'emb'))
  c.generate.batch_size = 2  # [a, b] whole, then [c] fails in its second chunk
  with pytest.raises(RuntimeError, match='device lost'):
    encode_synthesize.synthesize_files(c, str(tmp_path / 'w'))
  out = sorted(os.listdir(tmp_path / 'w' / 'synthesized'))
  assert out == ['a.png', 'a.wav', 'b.png', 'b.wav'], out

  src = tmp_path / 'audio'
  src.mkdir()
  for i in range(3):
    soundfile.write(src / f'{i}.wav', rng.uniform(-0.5, 0.5, 4 * HOP).astype(np.float32), RATE)
  real_encode = encoding.encode

  def failing_encode(model, wavs, chunk_frames):  # the first batch (2 files) encodes, the next fails
    if len(wavs) != 2:
      raise RuntimeError('disk full')
    return real_encode(model, wavs, chunk_frames)

  monkeypatch.setattr(encoding, 'encode', failing_encode)
  with pytest.raises(RuntimeError, match='disk full'):
    encode_synthesize.encode_files(config(workdir, input=str(src), batch_size=2), str(tmp_path / 'e'))
  assert sorted(os.listdir(tmp_path / 'e' / 'embeddings')) == ['0.npy', '1.npy']


def test_interpolation_saves_its_mixes_and_synthesizes_them(run, tmp_path):
  workdir, params = run
  rng = np.random.default_rng(1)
  a, b = rng.normal(size=(5, E)).astype(np.float32), rng.normal(size=(3, E)).astype(np.float64)
  write_embeddings(tmp_path, {'A': a, 'B': b})
  c = config(workdir, interpolate=(str(tmp_path / 'A.npy'), str(tmp_path / 'B.npy')),
             interpolation_steps=3, out_dir=str(tmp_path / 'out'))
  written = encode_synthesize.synthesize_files(c, str(tmp_path / 'w'))
  names = ['A_B_mix0', 'A_B_mix0.5', 'A_B_mix1']
  assert sorted(written) == sorted(str(tmp_path / 'out' / f'{n}.wav') for n in names)
  mixes = [np.load(tmp_path / 'out' / f'{n}.npy') for n in names]
  np.testing.assert_array_equal(mixes[0], a[:3])  # truncated to B's 3 frames, endpoints exact
  np.testing.assert_array_equal(mixes[2], b.astype(np.float32))
  np.testing.assert_allclose(mixes[1], (a[:3] + b) / 2, rtol=1e-6)
  wav = soundfile.read(tmp_path / 'out' / 'A_B_mix0.wav', dtype='float32')[0]
  np.testing.assert_allclose(wav, synthesized_alone(params['decoder'], a[:3], 3), atol=1.5 / 32768)


@pytest.mark.parametrize('array,needle', [
    (np.zeros((5,), np.float32), 'expected a 2-D embedding float [frames, 4]'),
    (np.zeros((5, 4), np.int32), 'found dtype int32'),
    (np.zeros((5, 3), np.float32), 'found 3 channels'),
    (np.full((5, 4), np.nan, np.float32), 'found 20 NaN/inf'),
    (None, 'unreadable as a .npy array (no .npy header)'),
])
def test_bad_npy_fails_in_one_line_naming_it(run, tmp_path, array, needle):
  folder = tmp_path / 'emb'
  write_embeddings(folder, {'good': np.zeros((2, E), np.float32)})
  bad = folder / 'bad.npy'
  if array is None:
    bad.write_text('not numpy')
  else:
    np.save(bad, array)
  with pytest.raises(encode_synthesize.EmbeddingError) as e:
    encode_synthesize.synthesize_files(config(run[0], input=str(folder)), str(tmp_path / 'w'))
  assert str(e.value).startswith(f'{bad}: ') and needle in str(e.value) and '\n' not in str(e.value)
  assert not (tmp_path / 'w' / 'synthesized').exists()


def test_the_config_file_takes_the_model_of_the_checkpoint(run):
  """launch.py's step before --mode=encode/synthesize: configs/nsynth_autoencoder.py's model
  (encoder settings nested, tuples) made the checkpoint's when the command line sets none."""
  from configs import nsynth_autoencoder
  from wavenet_jax.checkpoints import saved_model
  c = nsynth_autoencoder.get_config()
  saved_model.adopt(c, run[0], chosen=set(), note=None)
  got, want = c.model.to_dict(), tiny_config().to_dict()
  assert {k: got[k] for k in want} == want and c.model.encoder.dilations == (1, 2, 4)  # keys it saved


def test_classifier_encodes_but_cannot_synthesize(run, tmp_path):
  workdir, params = run
  cfg = tiny_config()
  cfg.kind = 'nsynth_classifier'
  head = {'dense': {'kernel': np.zeros((E, 2), np.float32)}}
  clf = save_run(tmp_path / 'clf', {'params': {'params': {'encoder': params['encoder'], 'head': head}},
                                    'ema_params': None}, cfg)
  soundfile.write(tmp_path / 'x.wav', audio_batch(1, 48, seed=2)[0], RATE, subtype='FLOAT')
  written = encode_synthesize.encode_files(config(clf, input=str(tmp_path / 'x.wav')), str(tmp_path / 'w'))
  np.testing.assert_allclose(np.load(written[0]), expected_embedding(str(tmp_path / 'x.wav'),
                                                                      params['encoder']), atol=1e-4)
  write_embeddings(tmp_path / 'emb', {'e': np.zeros((2, E), np.float32)})
  with pytest.raises(checkpointing.CheckpointError, match='has no decoder') as e:
    encode_synthesize.synthesize_files(config(clf, input=str(tmp_path / 'emb')), str(tmp_path / 'w'))
  assert '\n' not in str(e.value)


def test_encode_from_a_magenta_tf_checkpoint(tmp_path):
  from tests import test_magenta
  cfg = tiny_config()
  tensors = test_magenta.random_tensors(cfg, 0)
  prefix = test_magenta.save_tf1(str(tmp_path / 'model.ckpt-1'), tensors)
  soundfile.write(tmp_path / 'x.wav', audio_batch(1, 64, seed=3)[0], RATE, subtype='FLOAT')
  c = config(prefix, input=str(tmp_path / 'x.wav'))
  c.model = cfg  # the magenta checkpoint is read as this model
  written = encode_synthesize.encode_files(c, str(tmp_path / 'w'))
  params = trained.load_nsynth(prefix, c).params
  np.testing.assert_allclose(np.load(written[0]), expected_embedding(str(tmp_path / 'x.wav'),
                                                                      params['encoder']), atol=1e-4)


def test_wavenet_checkpoint_is_refused_in_one_line(tmp_path):
  from tests import tiny
  workdir = save_run(tmp_path / 'wn', {'params': {'params': {'w': np.zeros(2, np.float32)}}},
                     tiny.config('unused').model)
  (tmp_path / 'x.wav').write_bytes(b'')
  with pytest.raises(checkpointing.CheckpointError, match='not an NSynth autoencoder'):
    encode_synthesize.synthesize_files(config(workdir), str(tmp_path / 'w'))
  proc = subprocess.run([sys.executable, 'launch.py', '--config=configs/default.py',
                         f'--workdir={workdir}', '--mode=encode',
                         f'--config.embeddings.input={tmp_path / "x.wav"}'],
                        cwd=ROOT, capture_output=True, text=True)
  assert proc.returncode == 2, proc.stderr
  last = proc.stderr.strip().splitlines()[-1]
  assert last.startswith(f'error: {workdir}: ') and 'not an NSynth autoencoder' in last


def test_encode_input_that_cannot_work_fails_in_one_line(tmp_path):
  (tmp_path / 'empty').mkdir()
  (tmp_path / 'twins').mkdir()
  for name in ('a.wav', 'a.flac'):  # both would become a.npy
    soundfile.write(tmp_path / 'twins' / name, np.zeros(32, np.float32), RATE)
  for source, needle in (('', 'embeddings.input is empty'),
                         (str(tmp_path / 'nowhere'), 'no such file or folder'),
                         (str(tmp_path / 'empty'), 'no wav/flac/au'),
                         (str(tmp_path / 'twins'), 'would write the same output a')):
    with pytest.raises(ValueError) as e:
      encode_synthesize.encode_files(config('unused', input=source), str(tmp_path / 'w'))
    assert needle in str(e.value) and '\n' not in str(e.value), str(e.value)
  assert not (tmp_path / 'w').exists()
