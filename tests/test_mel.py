"""The vocoder's log-mel features: the magnitudes against librosa, the scale by hand."""
import jax.numpy as jnp
import numpy as np
import pytest

from wavenet_jax.common.config_checks import ConfigError
from wavenet_jax.input import mel


def _speechlike(n, rate, seed=0):
  rng = np.random.default_rng(seed)
  t = np.arange(n) / rate
  f0 = 120 + 60 * np.sin(2 * np.pi * 1.5 * t)
  voiced = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / rate) / k for k in range(1, 12))
  return (0.3 * voiced * (t % 0.4 < 0.25) + 0.02 * rng.normal(size=n)).astype(np.float32)


@pytest.mark.parametrize('rate,settings', [
    (22050, {}),  # r9y9's defaults
    (16000, dict(num_mels=40, n_fft=512, hop=160, win_length=400, fmin=0.0, fmax=8000.0)),
])
def test_magnitudes_equal_librosa_melspectrogram(rate, settings):
  import librosa
  m = mel.default_config()
  m.update(settings)
  frames = 37
  wav = _speechlike(frames * m.hop, rate)
  got = np.asarray(mel.magnitudes(jnp.asarray(wav[None]), m, rate))[0]  # [F, M]
  want = librosa.feature.melspectrogram(
      y=wav.astype(np.float64), sr=rate, n_fft=m.n_fft, hop_length=m.hop, win_length=m.win_length,
      window='hann', center=True, pad_mode='constant', power=1.0, n_mels=m.num_mels, fmin=m.fmin,
      fmax=m.fmax).T[:frames]
  assert got.shape == (frames, m.num_mels)
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * want.max())


def test_a_crop_with_its_context_has_the_whole_files_frames():
  m, rate = mel.default_config(), 22050
  wav = _speechlike(30 * m.hop, rate, seed=1)
  whole = np.asarray(mel.log_mel(jnp.asarray(wav[None]), m, rate))[0]
  before, after = mel.context(m)
  start, frames = 10 * m.hop, 8  # frames 10..17
  crop = wav[start - before:start + frames * m.hop + after]
  part = np.asarray(mel.log_mel(jnp.asarray(crop[None]), m, rate, padded=True))[0]
  np.testing.assert_allclose(part, whole[10:18], atol=1e-5)


def test_log_scale_is_r9y9s():
  m = mel.default_config()  # -100 dB floor, 20 dB reference
  mags = jnp.asarray([0.0, 1e-6, 1e-5, 0.01, 1.0, 10.0, 1000.0])
  # 20 log10(max(x, 1e-5)) - 20, then (dB + 100) / 100 clipped to [0, 1]
  want = [0.0, 0.0, 0.0, 0.4, 0.8, 1.0, 1.0]
  np.testing.assert_allclose(np.asarray(mel.normalize(mags, m)), want, atol=1e-6)
  np.testing.assert_allclose(mel.denormalize_magnitudes(np.array([0.4, 0.8]), m), [0.01, 1.0], rtol=1e-9)


@pytest.mark.parametrize('key,value,needle', [
    ('hop', 0, 'model.mel.hop=0'),
    ('win_length', 2048, 'model.mel.win_length=2048'),
    ('fmax', 12000.0, 'fmax (12000.0)'),
    ('min_level_db', 10.0, 'model.mel.min_level_db=10.0'),
])
def test_bad_settings_fail_in_one_line(key, value, needle):
  m = mel.default_config()
  m[key] = value
  with pytest.raises(ConfigError) as e:
    mel.check(m, 22050)
  assert needle in str(e.value) and '\n' not in str(e.value)
