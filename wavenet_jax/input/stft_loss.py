"""Parallel WaveGAN's multi-resolution STFT loss (Yamamoto et al. 2020, eqs. 4-6).

At each resolution (FFT size, hop, window length), the magnitudes |STFT| of the generated and
the true audio: frames centred on every hop with the signal reflected past its ends (torch.stft's
default, which kan-bayashi/ParallelWaveGAN uses), a periodic Hann window of the window length
centred in the FFT, the squared magnitude floored at 1e-7 before its root. Spectral convergence
is ||Y - X||_F / ||Y||_F over the batch, the log-magnitude loss mean |log Y - log X|; each is
averaged over the resolutions and the loss is their sum.
"""
import jax.numpy as jnp
import numpy as np

from wavenet_jax.input import mel

# The paper's three resolutions: (FFT size, hop, window length).
RESOLUTIONS = ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240))
FLOOR = 1e-7  # of the squared magnitude: log and its gradient stay finite in silence


def magnitudes(audio, n_fft: int, hop: int, win_length: int):
  """Audio [B, T] (T > n_fft / 2) -> |STFT| [B, 1 + T // hop, n_fft // 2 + 1]."""
  half = n_fft // 2
  padded = jnp.pad(audio, ((0, 0), (half, half)), mode='reflect')
  frames = 1 + (padded.shape[1] - n_fft) // hop
  index = np.arange(frames)[:, None] * hop + np.arange(n_fft)[None, :]  # [F, n_fft]
  spectrum = jnp.fft.rfft(padded[:, index] * mel.window(n_fft, win_length), axis=-1)
  return jnp.sqrt(jnp.maximum(spectrum.real ** 2 + spectrum.imag ** 2, FLOOR))


def losses(generated, target, resolutions=RESOLUTIONS):
  """generated, target [B, T] -> (spectral convergence, log-magnitude loss), each the mean
  over the resolutions; the paper's generator loss adds them."""
  convergence, log_magnitude = [], []
  for n_fft, hop, win_length in resolutions:
    x = magnitudes(generated, n_fft, hop, win_length)
    y = magnitudes(target, n_fft, hop, win_length)
    convergence.append(jnp.sqrt(jnp.sum((y - x) ** 2)) / jnp.sqrt(jnp.sum(y ** 2)))
    log_magnitude.append(jnp.mean(jnp.abs(jnp.log(y) - jnp.log(x))))
  return sum(convergence) / len(resolutions), sum(log_magnitude) / len(resolutions)

