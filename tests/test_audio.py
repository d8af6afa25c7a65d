"""wavenet_jax.input.audio against references written here in float64 (or librosa), not against itself."""
import os
import re

import jax.numpy as jnp
import librosa
import numpy as np
import pytest
import soundfile
import tensorflow as tf
import tensorflow.experimental.numpy as tnp

from wavenet_jax.input import audio

MU = 255
POINTS = np.array([-1.0, -0.5, -0.01, 0.0, 0.01, 0.5, 1.0])


def ref_compress(x):  # float64 mu-law companding, as both papers write it
  x = np.asarray(x, np.float64)
  return np.sign(x) * np.log1p(MU * np.abs(x)) / np.log1p(MU)


def ref_encode(x, kind):
  y = ref_compress(x)
  if kind == 'ibab':
    return np.floor((y + 1) / 2 * MU + 0.5).astype(np.int64)
  return np.clip(np.floor(y * 128), -128, 127).astype(np.int64) + 128


def ref_decode(q, kind):
  q = np.asarray(q, np.float64)
  if kind == 'ibab':
    y = 2 * q / MU - 1
    return np.sign(y) / MU * ((1 + MU) ** np.abs(y) - 1)
  y = (q - 128 + 0.5) * 2 / (MU + 1)
  return np.where(q == 128, 0.0, np.sign(y) / MU * ((1 + MU) ** np.abs(y) - 1))


def test_mu_law_golden_values():
  # Hand-checked once against ibab's mu_law_encode and magenta's utils.mu_law.
  np.testing.assert_array_equal(audio.mu_law_encode(POINTS, kind='ibab'),
                                [0, 16, 98, 128, 157, 239, 255])
  np.testing.assert_array_equal(audio.mu_law_encode(POINTS, kind='nsynth'),
                                [0, 15, 98, 128, 157, 240, 255])


@pytest.mark.parametrize('kind', audio.MU_LAW_KINDS)
def test_mu_law_matches_float64_formula(kind):
  x = np.concatenate([POINTS, np.random.default_rng(0).uniform(-1, 1, 10_000)])
  q = audio.mu_law_encode(x.astype(np.float32), kind=kind)
  assert q.dtype == np.int32 and q.min() >= 0 and q.max() <= 255
  # float32 vs float64 may disagree only where the float64 value sits on a bin edge.
  assert np.mean(q != ref_encode(x, kind)) < 1e-3
  np.testing.assert_array_equal(q[:len(POINTS)], ref_encode(POINTS, kind))
  classes = np.arange(256)
  decoded = audio.mu_law_decode(classes, kind=kind)
  assert decoded.dtype == np.float32
  np.testing.assert_allclose(decoded, ref_decode(classes, kind), atol=1e-6)


@pytest.mark.parametrize('kind', audio.MU_LAW_KINDS)
def test_mu_law_round_trip_error_is_half_a_bin(kind):
  x = np.random.default_rng(1).uniform(-1, 1, 100_000).astype(np.float32)
  y = audio.mu_law_decode(audio.mu_law_encode(x, kind=kind), kind=kind)
  # Half a bin in the companded domain is ~ln(256)/255^2·(1 + 255|x|) in x.
  assert np.all(np.abs(y - x) <= 2.5e-4 + 0.025 * np.abs(x))


def test_nsynth_decodes_middle_class_to_exact_zero():
  assert audio.mu_law_decode(np.array([128]), kind='nsynth')[0] == 0.0
  assert audio.mu_law_encode(np.array([0.0]), kind='nsynth')[0] == 128


@pytest.mark.parametrize('kind', audio.MU_LAW_KINDS)
def test_mu_law_same_ints_in_numpy_jax_and_tf(kind):
  x = np.concatenate([POINTS, np.random.default_rng(2).uniform(-1, 1, 5_000)]).astype(np.float32)
  want = audio.mu_law_encode(x, kind=kind)
  got_jax = np.asarray(audio.mu_law_encode(jnp.asarray(x), kind=kind, xp=jnp))
  got_tnp = audio.mu_law_encode(tnp.asarray(x), kind=kind, xp=tnp).numpy()
  # Inside a tf.function, as tf.data runs it, without numpy behaviour switched on.
  got_graph = tf.function(lambda v: audio.mu_law_encode(v, kind=kind, xp=tnp))(
      tf.constant(x)).numpy()
  for got in (got_jax, got_tnp, got_graph):
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, want)
  classes = np.arange(256, dtype=np.int32)
  want_audio = audio.mu_law_decode(classes, kind=kind)
  np.testing.assert_allclose(audio.mu_law_decode(jnp.asarray(classes), kind=kind, xp=jnp),
                             want_audio, atol=1e-6)
  np.testing.assert_allclose(audio.mu_law_decode(tnp.asarray(classes), kind=kind, xp=tnp),
                             want_audio, atol=1e-6)


def test_unknown_mu_law_kind_is_refused():
  with pytest.raises(ValueError, match='mu_law kind'):
    audio.mu_law_encode(POINTS, kind='alaw')


@pytest.mark.parametrize('n', [1, 511, 512, 2047, 2048, 5000, 16_001])
def test_frame_rms_matches_librosa(n):
  x = np.random.default_rng(n).normal(0, 0.2, n).astype(np.float32)
  want = librosa.feature.rms(y=x, frame_length=2048, hop_length=512, center=True,
                             pad_mode='constant')[0]
  np.testing.assert_allclose(audio.frame_rms(x), want, atol=1e-5)


def test_silence_bounds_follows_ibab():
  t = np.arange(8000) / 16000
  x = np.concatenate([np.zeros(5000), 0.5 * np.sin(2 * np.pi * 440 * t), np.zeros(6000)])
  x = x.astype(np.float32)
  rms = librosa.feature.rms(y=x, frame_length=2048, hop_length=512, center=True,
                            pad_mode='constant')[0]
  loud = np.nonzero(rms > 0.01)[0]
  # ibab slices audio[first loud frame · hop : last loud frame · hop].
  assert audio.silence_bounds(x, 0.01) == (loud[0] * 512, loud[-1] * 512)
  start, end = audio.silence_bounds(x, 0.01)
  assert 5000 - 2048 <= start <= 5000 and 13000 - 2048 <= end <= 13000 + 1024
  np.testing.assert_array_equal(audio.trim_silence(x, 0.01), x[start:end])
  assert audio.silence_bounds(x, 0) == (0, x.size)
  assert audio.silence_bounds(np.zeros(10_000, np.float32), 0.01) == (0, 0)
  assert audio.trim_silence(np.zeros(10_000, np.float32), 0.01).size == 0


def _sine(freq, amp, n, rate):
  return amp * np.sin(2 * np.pi * freq * np.arange(n) / rate)


def test_load_mixes_stereo_to_mono_and_resamples(tmp_path):
  left, right = _sine(440, 0.5, 44_100, 44_100), _sine(1000, 0.3, 44_100, 44_100)
  path = tmp_path / 'stereo.wav'
  soundfile.write(path, np.stack([left, right], 1), 44_100, subtype='PCM_16')
  x = audio.load(path, 16_000)
  assert x.dtype == np.float32 and x.ndim == 1
  assert abs(x.size - 16_000) <= 1
  want = (_sine(440, 0.5, 16_000, 16_000) + _sine(1000, 0.3, 16_000, 16_000)) / 2
  n = min(x.size, want.size)
  np.testing.assert_allclose(x[200:n - 200], want[200:n - 200], atol=2e-3)


def test_load_au_and_flac(tmp_path):
  au = tmp_path / 'blues.00000.au'
  soundfile.write(au, _sine(300, 0.4, 11_025, 22_050), 22_050, format='AU', subtype='PCM_16')
  x = audio.load(au, 16_000)
  assert abs(x.size - 8000) <= 1
  np.testing.assert_allclose(x[200:7800], _sine(300, 0.4, 8000, 16_000)[200:7800], atol=2e-3)
  flac = tmp_path / 'p225_001_mic1.flac'
  soundfile.write(flac, _sine(200, 0.6, 4000, 16_000), 16_000, subtype='PCM_16')
  np.testing.assert_allclose(audio.load(flac, 16_000), _sine(200, 0.6, 4000, 16_000),
                             atol=1 / 16_000)


def test_load_refuses_bad_files_naming_them(tmp_path):
  corrupt = tmp_path / 'corrupt.wav'
  corrupt.write_bytes(np.random.default_rng(0).bytes(3000))
  empty = tmp_path / 'empty.wav'
  empty.write_bytes(b'')
  missing = tmp_path / 'missing.wav'
  for path in (corrupt, empty, missing, tmp_path):
    with pytest.raises(audio.AudioError, match=re.escape(str(path))):
      audio.load(path, 16_000)


def test_write_wav_round_trip(tmp_path):
  x = np.random.default_rng(3).uniform(-0.9, 0.9, 3000).astype(np.float32)
  x[:4] = [1.5, -1.5, 1.0, -1.0]  # out of range clips, never wraps around
  path = tmp_path / 'sub' / 'out.wav'
  audio.write_wav(path, x, 16_000)
  assert os.listdir(path.parent) == ['out.wav']
  info = soundfile.info(path)
  assert (info.samplerate, info.channels, info.subtype) == (16_000, 1, 'PCM_16')
  y, _ = soundfile.read(path, dtype='float32')
  np.testing.assert_allclose(y, np.clip(x, -1, 1), atol=2 / 32768)
  np.testing.assert_allclose(audio.load(path, 16_000), y)


def test_int16_conversion():
  ints = np.array([-32768, -1, 0, 1, 32767], np.int16)
  np.testing.assert_array_equal(audio.to_int16(audio.from_int16(ints)), ints)
  np.testing.assert_array_equal(audio.to_int16(np.array([-2.0, -1.0, 1.0, 2.0])),
                                [-32768, -32768, 32767, 32767])
