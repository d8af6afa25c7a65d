"""How close resynthesised speech is to the original, and the classical baseline to beat.

The vocoder's evaluation scores what it makes from a clip's log-mels against the clip
itself, and beside it what Griffin-Lim makes from the same log-mels. The two signals are
sample-aligned (resynthesis), so frames are compared one to one, no time warping.

  lsd_db  log-spectral distance: per frame, the RMS over STFT bins of the difference of
          10·log10 power (floored at POWER_FLOOR), averaged over frames. 0 = identical.
  mcd_db  mel-cepstral distortion: per frame (10 / ln 10)·sqrt(2·sum_d (c_d - c'_d)^2) over
          mel cepstra c_1..c_NUM_CEPS (DCT-II, orthonormal, of the natural log of the mel
          magnitudes; c_0, the level, left out), averaged over frames. 0 = identical.
  pesq    ITU-T P.862.2 wide-band PESQ (the `pesq` package) at 16 kHz, audio resampled
          there; -0.5..4.64, higher is better. None below 16 kHz, under 0.25 s, or where it
          finds no speech.
  stoi    short-time objective intelligibility (the `pystoi` package), 0..1, higher is better.

The spectra use the vocoder's own mel settings (input/mel.Settings): its n_fft, hop and
window, librosa's centred frames and Slaney filters. These are numpy and librosa, not JAX:
they score audio, whatever made it.
"""
import numpy as np

POWER_FLOOR = 1e-10  # -100 dB re full scale: below 16-bit audio's quantisation noise per bin
NUM_CEPS = 24
PESQ_RATE = 16000
GRIFFIN_LIM_ITERS = 60
KEYS = ('lsd_db', 'mcd_db', 'pesq', 'stoi')


def _stft_power(x, m):
  import librosa
  return np.abs(librosa.stft(np.asarray(x, np.float64), n_fft=m.n_fft, hop_length=m.hop,
                             win_length=m.win_length, window='hann', center=True)) ** 2  # [bins, F]


def _mel_magnitudes(x, m, rate):
  import librosa
  return librosa.feature.melspectrogram(
      y=np.asarray(x, np.float64), sr=rate, n_fft=m.n_fft, hop_length=m.hop, win_length=m.win_length,
      window='hann', center=True, power=1.0, n_mels=m.num_mels, fmin=m.fmin, fmax=m.fmax)  # [M, F]


def lsd_db(reference, estimate, m):
  """Log-spectral distance in dB of two equally long signals [T]."""
  a = 10 * np.log10(np.maximum(_stft_power(reference, m), POWER_FLOOR))
  b = 10 * np.log10(np.maximum(_stft_power(estimate, m), POWER_FLOOR))
  return float(np.mean(np.sqrt(np.mean((a - b) ** 2, axis=0))))


def mel_cepstra(x, m, rate, num_ceps=NUM_CEPS):
  """[F, num_ceps]: c_1..c_num_ceps of each frame's natural-log mel magnitudes."""
  import scipy.fft
  logs = np.log(np.maximum(_mel_magnitudes(x, m, rate), np.sqrt(POWER_FLOOR)))  # [M, F]
  return scipy.fft.dct(logs, type=2, norm='ortho', axis=0)[1:num_ceps + 1].T


def mcd_db(reference, estimate, m, rate, num_ceps=NUM_CEPS):
  """Mel-cepstral distortion in dB of two equally long signals [T]."""
  diff = mel_cepstra(reference, m, rate, num_ceps) - mel_cepstra(estimate, m, rate, num_ceps)
  return float(np.mean(10 / np.log(10) * np.sqrt(2 * np.sum(diff ** 2, axis=1))))


def _at(x, rate, target):
  import librosa
  x = np.asarray(x, np.float64)
  return x if rate == target else librosa.resample(x, orig_sr=rate, target_sr=target)


def pesq_wb(reference, estimate, rate):
  """Wide-band PESQ at 16 kHz, or None (rate below 16 kHz; under 0.25 s; no utterance found)."""
  if rate < PESQ_RATE or len(reference) < rate // 4:  # P.862 needs a quarter second
    return None
  import pesq
  try:
    return float(pesq.pesq(PESQ_RATE, _at(reference, rate, PESQ_RATE),
                           _at(estimate, rate, PESQ_RATE), 'wb'))
  except pesq.NoUtterancesError:
    return None


def stoi(reference, estimate, rate):
  import pystoi
  return float(pystoi.stoi(np.asarray(reference, np.float64), np.asarray(estimate, np.float64), rate))


def scores(reference, estimate, m, rate):
  """{lsd_db, mcd_db, pesq, stoi} of estimate against reference, cut to the shorter."""
  n = min(len(reference), len(estimate))
  reference, estimate = reference[:n], estimate[:n]
  return {'lsd_db': lsd_db(reference, estimate, m), 'mcd_db': mcd_db(reference, estimate, m, rate),
          'pesq': pesq_wb(reference, estimate, rate), 'stoi': stoi(reference, estimate, rate)}


def mean_scores(rows):
  """The mean of each key over rows of `scores`, None values left out (None if all are)."""
  out = {}
  for key in KEYS:
    values = [r[key] for r in rows if r[key] is not None]
    out[key] = float(np.mean(values)) if values else None
  return out


def griffin_lim(features, m, rate, num_samples=None, n_iter=GRIFFIN_LIM_ITERS, seed=0):
  """Log-mels [F, M] on input/mel.py's scale -> audio [F·hop] by Griffin-Lim (librosa).

  The mel magnitudes are mapped to linear ones by librosa's non-negative least squares on
  the same filters, then `n_iter` Griffin-Lim iterations on the same STFT.
  """
  import librosa
  from wavenet_jax.input import mel
  features = np.asarray(features)
  # librosa's centred STFT of F·hop samples has F + 1 frames; the last, past the end, repeats.
  mags = mel.denormalize_magnitudes(np.concatenate([features, features[-1:]]).T, m)  # [M, F + 1]
  linear = librosa.feature.inverse.mel_to_stft(mags, sr=rate, n_fft=m.n_fft, power=1.0,
                                               fmin=m.fmin, fmax=m.fmax)
  n = num_samples or features.shape[0] * m.hop
  return librosa.griffinlim(linear, n_iter=n_iter, hop_length=m.hop, win_length=m.win_length,
                            n_fft=m.n_fft, window='hann', center=True, length=n,
                            random_state=np.random.default_rng(seed)).astype(np.float32)
