"""Log-mel spectrograms in JAX: the vocoder's conditioning, one function wherever it is needed.

The training step computes them on the device from the crop and its context (the input
pipeline ships audio only), `--mode=vocode` from the files it resynthesises, evaluation from
the clips it scores. The magnitudes equal librosa's `melspectrogram(power=1)` on the same
settings: centred frames (frame i's window is centred on sample i·hop, zeros beyond the
signal), a periodic Hann window of `win_length` centred in `n_fft`, librosa's Slaney mel
filters. The log and scale are r9y9/wavenet_vocoder's: 20·log10 of the magnitude floored at
`min_level_db`, minus `ref_level_db`, mapped from [min_level_db, 0] dB to [0, 1] and clipped.

Frame i stands for samples [i·hop, (i+1)·hop): a signal of T samples (T a multiple of hop)
has T / hop frames here (librosa's last, centred past the end, is dropped).
"""
import functools
from typing import NamedTuple

import jax.numpy as jnp
import ml_collections
import numpy as np

from wavenet_jax.common.config_checks import ConfigError, positive_int


def default_config() -> ml_collections.ConfigDict:
  """r9y9/wavenet_vocoder's features (LJSpeech at 22,050 Hz)."""
  return ml_collections.ConfigDict(dict(
      num_mels=80, n_fft=1024, hop=256, win_length=1024, fmin=125.0, fmax=7600.0,
      min_level_db=-100.0, ref_level_db=20.0))


class Settings(NamedTuple):
  """The features' settings as a hashable value (a model's field); `settings` makes one."""
  num_mels: int
  n_fft: int
  hop: int
  win_length: int
  fmin: float
  fmax: float
  min_level_db: float
  ref_level_db: float


def settings(m) -> Settings:
  """config.model.mel (a ConfigDict or dict) -> Settings."""
  return Settings(**{k: m[k] for k in Settings._fields})


def check(m, sample_rate: int, key='model.mel') -> None:
  """One line naming the key for settings that cannot make a spectrogram."""
  for name in ('num_mels', 'n_fft', 'hop', 'win_length'):
    value = getattr(m, name)
    if not positive_int(value):
      raise ConfigError(f'{key}.{name}={value!r}: must be an integer >= 1')
  if m.win_length > m.n_fft:
    raise ConfigError(f'{key}.win_length={m.win_length}: must be <= {key}.n_fft={m.n_fft}')
  if not 0 <= m.fmin < m.fmax <= sample_rate / 2:
    raise ConfigError(f'{key}: need 0 <= fmin ({m.fmin}) < fmax ({m.fmax}) <= half the sample rate '
                      f'({sample_rate / 2:g} Hz)')
  if not m.min_level_db < 0:
    raise ConfigError(f'{key}.min_level_db={m.min_level_db!r}: must be < 0 (the floor, in dB)')


@functools.lru_cache(maxsize=16)
def _basis(sample_rate, n_fft, num_mels, fmin, fmax):
  import librosa  # slow to import; its filters are the field's reference
  return librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=num_mels, fmin=fmin, fmax=fmax).T.astype(np.float32)


def mel_basis(m, sample_rate: int) -> np.ndarray:
  """[n_fft / 2 + 1, num_mels]: librosa's Slaney-normalised triangular filters."""
  return _basis(int(sample_rate), int(m.n_fft), int(m.num_mels), float(m.fmin), float(m.fmax))


@functools.lru_cache(maxsize=16)
def window(n_fft, win_length):
  """[n_fft] float32: a periodic Hann window of win_length centred in n_fft (librosa's, torch's)."""
  n = np.arange(win_length)
  hann = 0.5 - 0.5 * np.cos(2 * np.pi * n / win_length)  # periodic, as librosa's 'hann'
  left = (n_fft - win_length) // 2
  return np.pad(hann, (left, n_fft - win_length - left)).astype(np.float32)


def context(m) -> tuple:
  """Samples of audio needed (before, after) a stretch to compute its frames: half a window."""
  return m.n_fft // 2, m.n_fft - m.n_fft // 2


def magnitudes(audio, m, sample_rate: int, padded: bool = False):
  """Mel magnitudes [B, T / hop, num_mels] of audio [B, T] (T a multiple of hop).

  padded: audio already holds `context(m)` samples before and after the T it stands for
  (the training crop's own neighbours); otherwise zeros are put there, as librosa does.
  """
  before, after = context(m)
  if not padded:
    audio = jnp.pad(audio, ((0, 0), (before, after)))
  t = audio.shape[1] - before - after
  frames = t // m.hop
  index = np.arange(frames)[:, None] * m.hop + np.arange(m.n_fft)[None, :]  # [F, n_fft]
  windowed = audio[:, index] * window(m.n_fft, m.win_length)  # [B, F, n_fft]
  spectrum = jnp.abs(jnp.fft.rfft(windowed, axis=-1))  # [B, F, n_fft / 2 + 1]
  return spectrum @ mel_basis(m, sample_rate)


def normalize(mags, m):
  """Mel magnitudes -> r9y9's log scale in [0, 1]."""
  floor = 10.0 ** (m.min_level_db / 20)
  db = 20 * jnp.log10(jnp.maximum(mags, floor)) - m.ref_level_db
  return jnp.clip((db - m.min_level_db) / -m.min_level_db, 0.0, 1.0)


def log_mel(audio, m, sample_rate: int, padded: bool = False):
  """Audio [B, T] -> the vocoder's conditioning [B, T / hop, num_mels] in [0, 1]."""
  return normalize(magnitudes(audio, m, sample_rate, padded), m)


def denormalize_magnitudes(features, m, xp=np):
  """`log_mel`'s inverse up to its clipping: [0, 1] -> mel magnitudes (Griffin-Lim's input, in
  float64; with xp=jnp in the features' dtype, for linear prediction's filters)."""
  features = np.asarray(features, np.float64) if xp is np else xp.asarray(features)
  db = features * -m.min_level_db + m.min_level_db + m.ref_level_db
  return 10.0 ** (db / 20)
