"""Parallel WaveGAN's multi-resolution STFT loss against librosa's STFT and numpy in float64."""
import jax
import jax.numpy as jnp
import librosa
import numpy as np
import pytest

from wavenet_jax.input import stft_loss


def reference(generated, target, resolutions):
  """The paper's loss in float64: librosa.stft (centred, reflected, periodic Hann) magnitudes."""
  convergence, log_magnitude = [], []
  for n_fft, hop, win_length in resolutions:
    mags = [np.sqrt(np.maximum(np.abs(librosa.stft(np.asarray(a, np.float64), n_fft=n_fft, hop_length=hop,
                                                    win_length=win_length, window='hann', center=True,
                                                    pad_mode='reflect')) ** 2, 1e-7))
            for a in (generated, target)]  # [B, bins, frames]
    x, y = mags
    convergence.append(np.linalg.norm((y - x).ravel()) / np.linalg.norm(y.ravel()))
    log_magnitude.append(np.mean(np.abs(np.log(y) - np.log(x))))
  return np.mean(convergence), np.mean(log_magnitude)


def test_matches_float64_librosa_at_the_papers_resolutions():
  rng = np.random.default_rng(0)
  t = np.arange(4800) / 16000
  target = np.stack([0.5 * np.sin(2 * np.pi * 220 * t) * np.exp(-3 * t), 0.3 * rng.standard_normal(len(t))])
  generated = target + 0.05 * rng.standard_normal(target.shape)
  generated[1, 1000:2000] = 0.0  # a silent stretch: the floor
  got = jax.jit(stft_loss.losses)(jnp.asarray(generated, jnp.float32), jnp.asarray(target, jnp.float32))
  want = reference(generated, target, stft_loss.RESOLUTIONS)
  np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=2e-4)
  assert stft_loss.magnitudes(jnp.zeros((1, 4800)), 1024, 120, 600).shape == (1, 41, 513)


def test_silence_keeps_the_loss_and_its_gradient_finite():
  target = jnp.asarray(np.random.default_rng(1).standard_normal((1, 2048)), jnp.float32)
  resolutions = ((256, 64, 128),)
  loss = lambda g: sum(stft_loss.losses(g, target, resolutions))
  value, grad = jax.value_and_grad(loss)(jnp.zeros((1, 2048)))
  assert np.isfinite(float(value)) and np.all(np.isfinite(np.asarray(grad)))
  assert float(loss(target)) == pytest.approx(0.0, abs=1e-6)
