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

from wavenet_jax.input import mel

LAG_WINDOW_HZ = 60.0  # Gaussian lag window's bandwidth: smooths the envelope against pitch harmonics
NOISE_FLOOR = 1e-4  # r[0] *= 1 + NOISE_FLOOR: a -40 dB white floor keeps the filter well conditioned
POWER_FLOOR = 1e-10  # linear power per bin (-100 dB, the features' own floor)


@functools.lru_cache(maxsize=16)
def _inverse_basis(sample_rate, n_fft, num_mels, fmin, fmax):
  basis = mel._basis(sample_rate, n_fft, num_mels, fmin, fmax).astype(np.float64)  # [K, M]
  return np.linalg.pinv(basis).astype(np.float32)  # [M, K]


def lag_window(order: int, sample_rate: int) -> np.ndarray:
  """[order + 1]: exp(-(2π f0 k / rate)^2 / 2), the autocorrelation's taper (LPCNet, Speex)."""
  k = np.arange(order + 1)
  return np.exp(-0.5 * (2 * np.pi * LAG_WINDOW_HZ * k / sample_rate) ** 2).astype(np.float32)


def levinson(r):
  """Autocorrelations r [..., order + 1] -> predictor taps a [..., order], x_t ≈ sum_k a_k x_{t-k}
  (k = 1..order): the Toeplitz normal equations solved by the Levinson-Durbin recursion."""
  a = jnp.zeros(r.shape[:-1] + (0,), r.dtype)
  err = r[..., 0]
  for i in range(r.shape[-1] - 1):
    k = (r[..., i + 1] - jnp.sum(a * r[..., i:0:-1], axis=-1)) / err  # reflection coefficient
    a = jnp.concatenate([a - k[..., None] * a[..., ::-1], k[..., None]], axis=-1)
    err = err * (1 - k * k)
  return a


def filters(features, m, sample_rate: int, order: int):
  """Log-mels [..., F, M] on input/mel.py's scale -> predictor taps [..., F, order]."""
  mags = mel.denormalize_magnitudes(features, m, xp=jnp)  # [..., F, M]
  inverse = _inverse_basis(int(sample_rate), int(m.n_fft), int(m.num_mels), float(m.fmin), float(m.fmax))
  power = jnp.maximum(mags @ inverse, 0.0) ** 2 + POWER_FLOOR  # [..., F, K]
  r = jnp.fft.irfft(power, n=m.n_fft, axis=-1)[..., :order + 1] * lag_window(order, sample_rate)
  r = r.at[..., 0].multiply(1 + NOISE_FLOOR)
  return levinson(r)


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
