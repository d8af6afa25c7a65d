"""Linear prediction from log-mels (input/lpc.py) against float64 numpy and scipy."""
import jax.numpy as jnp
import librosa
import numpy as np
import scipy.linalg
import scipy.signal

from wavenet_jax.input import lpc, mel

RATE = 16000
M = mel.Settings(num_mels=40, n_fft=512, hop=128, win_length=512, fmin=0.0, fmax=8000.0,
                 min_level_db=-100.0, ref_level_db=20.0)


def _resonance(n, freq, seed=0):
  """White noise through one pole pair at `freq` Hz: a spectrum with one formant."""
  pole = 0.97 * np.exp(2j * np.pi * freq / RATE)
  x = scipy.signal.lfilter([1.0], np.poly([pole, pole.conjugate()]).real,
                           np.random.default_rng(seed).normal(size=n))
  return (0.3 * x / np.abs(x).max()).astype(np.float32)


def test_levinson_solves_the_toeplitz_normal_equations():
  x = _resonance(4000, 900.0).astype(np.float64)
  r = np.array([x[:len(x) - k] @ x[k:] for k in range(17)])
  want = scipy.linalg.solve_toeplitz(r[:16], r[1:])
  got = np.asarray(lpc.levinson(jnp.asarray(r[None], jnp.float32)))[0]
  np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3)


def test_filters_from_log_mels_against_float64_and_the_formant():
  """Each frame's taps equal a float64 numpy derivation (pseudo-inverse, autocorrelation, lag
  window, noise floor, Toeplitz solve), and the filter's peak sits on the signal's formant."""
  x = _resonance(16 * M.hop, 1500.0)
  feats = np.asarray(mel.log_mel(jnp.asarray(x[None]), M, RATE))[0]  # [F, 40]
  got = np.asarray(lpc.filters(jnp.asarray(feats), M, RATE, 12))  # [F, 12]

  basis = librosa.filters.mel(sr=RATE, n_fft=M.n_fft, n_mels=M.num_mels, fmin=0.0, fmax=8000.0).astype(np.float64)
  mags = 10.0 ** ((feats.astype(np.float64) * 100 - 100 + 20) / 20)
  power = np.maximum(mags @ np.linalg.pinv(basis.T), 0) ** 2 + 1e-10
  r = np.fft.irfft(power, n=M.n_fft)[:, :13] * np.exp(-0.5 * (2 * np.pi * 60 * np.arange(13) / RATE) ** 2)
  r[:, 0] *= 1 + 1e-4
  want = np.stack([scipy.linalg.solve_toeplitz(ri[:12], ri[1:]) for ri in r])
  np.testing.assert_allclose(got, want, rtol=2e-3, atol=2e-3)

  freqs, response = scipy.signal.freqz([1.0], np.concatenate([[1.0], -want[8]]), worN=512, fs=RATE)
  assert abs(freqs[np.argmax(np.abs(response))] - 1500.0) < 100.0


def test_predict_is_the_taps_over_the_past_samples():
  rng = np.random.default_rng(2)
  x = rng.normal(size=(2, 50)).astype(np.float32)
  taps = rng.normal(size=(2, 50, 4)).astype(np.float32)
  want = np.zeros((2, 50))
  for b in range(2):
    for t in range(50):
      want[b, t] = sum(taps[b, t, k - 1] * x[b, t - k] for k in range(1, 5) if t - k >= 0)
  np.testing.assert_allclose(np.asarray(lpc.predict(jnp.asarray(x), jnp.asarray(taps))), want, rtol=1e-5, atol=1e-5)
