"""Linear prediction from log-mels: the vocoder's optional LPC path (LPCNet, Valin & Skoglund 2019).

Each frame's log-mels give an all-pole filter of `order` taps: the mel magnitudes mapped back
to a linear power spectrum (the filterbank's pseudo-inverse, floored), its autocorrelation
(an inverse FFT), a Gaussian lag window and a white-noise floor, then Levinson-Durbin. With it
the vocoder predicts p_t = sum_k a_k x_{t-k} from its own past samples and the network models
only the excitation x_t - p_t: the spectral envelope comes from the features, so a small
network trained briefly already follows the formants. Frame i's taps serve samples
[i·hop, (i+1)·hop), as its conditioning does (input/mel.py).
"""
import functools

import jax.numpy as jnp
import numpy as np

from wavenet_jax.input import double_float as df
from wavenet_jax.input import mel

LAG_WINDOW_HZ = 60.0  # Gaussian lag window's bandwidth: smooths the envelope against pitch harmonics
NOISE_FLOOR = 1e-4  # r[0] *= 1 + NOISE_FLOOR: a -40 dB white floor keeps the filter well conditioned
POWER_FLOOR = 1e-10  # linear power per bin (-100 dB, the features' own floor)


@functools.lru_cache(maxsize=16)
def _inverse_basis(sample_rate, n_fft, num_mels, fmin, fmax):
  basis = mel._basis(sample_rate, n_fft, num_mels, fmin, fmax).astype(np.float64)  # [K, M]
  return np.linalg.pinv(basis).astype(np.float32)  # [M, K]


def lag_window(order: int, sample_rate: int) -> np.ndarray:
  """[order + 1] float64: exp(-(2π f0 k / rate)^2 / 2), the autocorrelation's taper (LPCNet, Speex)."""
  k = np.arange(order + 1)
  return np.exp(-0.5 * (2 * np.pi * LAG_WINDOW_HZ * k / sample_rate) ** 2)


@functools.lru_cache(maxsize=16)
def _lag_weights(n_fft: int, order: int, sample_rate: int) -> np.ndarray:
  """[order + 1, K] float64: r = W @ power is the lag-windowed irfft of a power spectrum's
  K = n_fft/2 + 1 bins, its first order + 1 lags."""
  j = np.arange(n_fft // 2 + 1)
  k = np.arange(order + 1)[:, None]
  twice = np.where((j == 0) | (j == n_fft // 2), 1.0, 2.0)  # the bins the real spectrum holds once
  return twice / n_fft * np.cos(2 * np.pi * j * k / n_fft) * lag_window(order, sample_rate)[:, None]


def levinson(r):
  """Autocorrelations r [..., order + 1] -> predictor taps a [..., order], x_t ≈ sum_k a_k x_{t-k}
  (k = 1..order): the Toeplitz normal equations solved by the Levinson-Durbin recursion, in
  double-float (input/double_float.py): float32 in and out, float64's accuracy between."""
  return df.value(_levinson((r, jnp.zeros_like(r))))


def _levinson(r):
  """The recursion on a pair r [..., order + 1] -> a pair [..., order]."""
  hi, lo = r
  lag = lambda i: (hi[..., i], lo[..., i])
  one = (jnp.ones_like(hi[..., 0]), jnp.zeros_like(hi[..., 0]))
  a, err = None, lag(0)
  for i in range(hi.shape[-1] - 1):
    num = lag(i + 1)
    if a is not None:  # r_{i+1} - sum_j a_j r_{i+1-j}
      num = df.sub(num, df.sum_last(df.mul(a, (hi[..., i:0:-1], lo[..., i:0:-1]))))
    k = df.div(num, err)  # reflection coefficient
    k_ = (k[0][..., None], k[1][..., None])
    if a is None:
      a = k_
    else:
      a = df.sub(a, df.mul(k_, (a[0][..., ::-1], a[1][..., ::-1])))
      a = tuple(jnp.concatenate([x, y], axis=-1) for x, y in zip(a, k_))
    err = df.mul(err, df.sub(one, df.mul(k, k)))
  return a


def filters(features, m, sample_rate: int, order: int):
  """Log-mels [..., F, M] on input/mel.py's scale -> predictor taps [..., F, order].

  The power spectrum is float32 (a relative error per bin moves the taps by ~1e-7); its
  autocorrelation and the Toeplitz solve are double-float, where float32's rounding is
  amplified by the systems' condition numbers (up to ~1e5) into taps 5e-3 off.
  """
  mags = mel.denormalize_magnitudes(features, m, xp=jnp)  # [..., F, M]
  inverse = _inverse_basis(int(sample_rate), int(m.n_fft), int(m.num_mels), float(m.fmin), float(m.fmax))
  power = jnp.maximum(mags @ inverse, 0.0) ** 2 + POWER_FLOOR  # [..., F, K]
  weights = df.constant(_lag_weights(int(m.n_fft), order, int(sample_rate)))  # [L, K]
  terms = df.mul((power[..., None, :], jnp.zeros_like(power[..., None, :])), weights)  # [..., F, L, K]
  hi, lo = df.sum_last(terms)  # [..., F, L]
  floor = df.constant(1 + NOISE_FLOOR)  # r[0] *= 1 + NOISE_FLOOR
  r0 = df.mul((hi[..., 0], lo[..., 0]), floor)
  r = (hi.at[..., 0].set(r0[0]), lo.at[..., 0].set(r0[1]))
  return df.value(_levinson(r))


def per_sample(taps, hop: int):
  """Frame taps [B, F, order] -> each sample's [B, F·hop, order]."""
  return jnp.repeat(taps, hop, axis=1)


def predict(x, taps):
  """Teacher-forced prediction: x [B, T], taps [B, T, order] -> p [B, T], p_t = sum_k taps[t, k-1]
  x_{t-k}, zeros before x's start."""
  order = taps.shape[-1]
  padded = jnp.pad(x, ((0, 0), (order, 0)))
  past = jnp.stack([padded[:, order - k:order - k + x.shape[1]] for k in range(1, order + 1)], axis=-1)
  return jnp.sum(past * taps, axis=-1)
