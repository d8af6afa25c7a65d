"""Linear prediction from log-mels (input/lpc.py) against float64 numpy and scipy."""
import jax
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
  r = np.array([x[:len(x) - k] @ x[k:] for k in range(17)]).astype(np.float32).astype(np.float64)
  want = scipy.linalg.solve_toeplitz(r[:16], r[1:])  # of the float32 autocorrelations it is given
  got = np.asarray(lpc.levinson(jnp.asarray(r[None], jnp.float32)))[0]
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_filters_from_log_mels_against_float64_and_the_formant():
  """Each frame's taps equal a float64 numpy derivation (pseudo-inverse, autocorrelation, lag
  window, noise floor, Toeplitz solve), and the filter's peak sits on the signal's formant."""
  x = _resonance(16 * M.hop, 1500.0)
  feats = np.asarray(mel.log_mel(jnp.asarray(x[None]), M, RATE))[0]  # [F, 40]
  got = np.asarray(lpc.filters(jnp.asarray(feats), M, RATE, 12))  # [F, 12]

  want, _ = float64_filters(feats, M, 12)
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)

  freqs, response = scipy.signal.freqz([1.0], np.concatenate([[1.0], -want[8]]), worN=512, fs=RATE)
  assert abs(freqs[np.argmax(np.abs(response))] - 1500.0) < 100.0


def float64_filters(feats, m, order):
  """(taps [F, order], condition numbers [F]) of log-mels [F, M], all in float64: the filterbank's
  pseudo-inverse, power, autocorrelation, lag window, noise floor, a Toeplitz solve."""
  basis = librosa.filters.mel(sr=RATE, n_fft=m.n_fft, n_mels=m.num_mels, fmin=m.fmin, fmax=m.fmax).astype(np.float64)
  mags = 10.0 ** ((feats.astype(np.float64) * -m.min_level_db + m.min_level_db + m.ref_level_db) / 20)
  power = np.maximum(mags @ np.linalg.pinv(basis.T), 0) ** 2 + 1e-10
  r = np.fft.irfft(power, n=m.n_fft)[:, :order + 1] * np.exp(-0.5 * (2 * np.pi * 60 * np.arange(order + 1) / RATE) ** 2)
  r[:, 0] *= 1 + 1e-4
  taps = np.stack([scipy.linalg.solve_toeplitz(ri[:order], ri[1:]) for ri in r])
  return taps, np.array([np.linalg.cond(scipy.linalg.toeplitz(ri[:order])) for ri in r])


def test_ill_conditioned_frames_give_float64s_taps_in_training_and_vocoding_alike():
  """The shipped settings (configs/demo_vocoder.py, order 16) on voiced frames whose Toeplitz
  systems have condition numbers past 1e4: the taps are float64's within 1e-4 (float32 is 5e-3
  off there), and the jitted batch of a training step and vocoding's blocks agree within 1e-6."""
  from configs import demo_vocoder
  from wavenet_jax.generation import vocoding
  from wavenet_jax.kinds import registry
  c = demo_vocoder.get_config()
  m = mel.settings(c.model.mel)
  t = np.arange(RATE) / RATE
  pulses = (np.sin(2 * np.pi * (110 + 40 * t) * t) > 0.995).astype(np.float64)  # a gliding glottal pulse train
  x = scipy.signal.lfilter([1.0], np.poly([0.995 * np.exp(2j * np.pi * f / RATE) for f in (500, 1500, 2500)]
                                          + [0.995 * np.exp(-2j * np.pi * f / RATE) for f in (500, 1500, 2500)]).real,
                           pulses)
  x = (0.5 * x / np.abs(x).max()).astype(np.float32)
  feats = np.asarray(mel.log_mel(jnp.asarray(x[None]), m, RATE))[0][:48]  # [48, 80]
  want, cond = float64_filters(feats, m, 16)
  assert cond.max() > 1e4, cond.max()
  training = np.asarray(jax.jit(lambda f: lpc.filters(f, m, RATE, 16))(jnp.asarray(feats.reshape(4, 12, -1))))
  np.testing.assert_allclose(training.reshape(48, 16), want, rtol=0, atol=1e-4)
  model = registry.of(c.model).build(c, 0)
  taps = vocoding.Taps(model, feats[None]).taps[0]  # [48, 16]
  np.testing.assert_allclose(taps, training.reshape(48, 16), rtol=0, atol=1e-6)


def test_predict_is_the_taps_over_the_past_samples():
  rng = np.random.default_rng(2)
  x = rng.normal(size=(2, 50)).astype(np.float32)
  taps = rng.normal(size=(2, 50, 4)).astype(np.float32)
  want = np.zeros((2, 50))
  for b in range(2):
    for t in range(50):
      want[b, t] = sum(taps[b, t, k - 1] * x[b, t - k] for k in range(1, 5) if t - k >= 0)
  np.testing.assert_allclose(np.asarray(lpc.predict(jnp.asarray(x), jnp.asarray(taps))), want, rtol=1e-5, atol=1e-5)
