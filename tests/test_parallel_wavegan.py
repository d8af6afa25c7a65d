"""Parallel WaveGAN's players at causal=False against direct float64 numpy convolutions."""
import jax
import numpy as np

from tests import tiny
from wavenet_jax.models import parallel_wavegan


def centred_conv(x, kernel, bias, dilation):
  """x [B, T, C_in], kernel [k, C_in, C_out]: out[t] = sum_j x[t + (j - (k-1)/2)·d] @ kernel[j], zeros outside."""
  k, (b, t, _) = kernel.shape[0], x.shape
  out = np.zeros((b, t, kernel.shape[2])) + bias
  for time in range(t):
    for j in range(k):
      s = time + (j - (k - 1) // 2) * dilation
      if 0 <= s < t:
        out[:, time] += x[:, s] @ kernel[j]
  return out


def sigmoid(x):
  return 1 / (1 + np.exp(-x))


def as64(tree):
  return jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), tree)


def test_the_generator_is_a_non_causal_wavenet():
  g = parallel_wavegan.Generator(num_layers=4, stacks=2, filter_width=3, residual_channels=4, gate_channels=6,
                                 skip_channels=5, lc_channels=3)
  rng = np.random.default_rng(0)
  noise, lc = rng.standard_normal((2, 20)).astype(np.float32), rng.standard_normal((2, 20, 3)).astype(np.float32)
  params = tiny.random_params(g, noise, lc)
  got = np.asarray(tiny.apply(g, params, noise, lc))
  assert g.dilations == (1, 2, 1, 2)

  p = as64(params['params'])
  x = noise[..., None] @ p['first']['kernel'] + p['first']['bias']  # [B, T, R]
  zs = []
  for i, dilation in enumerate(g.dilations):
    layer = p[f'layer_{i}']
    fg = centred_conv(x, layer['filter_gate']['kernel'], layer['filter_gate']['bias'], dilation) + lc @ p['lc_proj'][i]
    f, gate = np.split(fg, 2, axis=-1)
    z = np.tanh(f) * sigmoid(gate)
    x = (x + z @ layer['dense']['kernel'] + layer['dense']['bias']) * np.sqrt(0.5)
    zs.append(z @ p['skip_kernel'][i])
  h = (sum(zs) + p['skip_bias']) * np.sqrt(1 / 4)
  h = np.maximum(np.maximum(h, 0) @ p['out1']['kernel'] + p['out1']['bias'], 0)
  want = (h @ p['out2']['kernel'] + p['out2']['bias'])[..., 0]
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_the_discriminator_scores_every_sample_through_dilated_centred_convs():
  d = parallel_wavegan.Discriminator(num_layers=4, filter_width=3, channels=5)
  audio = np.random.default_rng(1).uniform(-1, 1, (2, 24)).astype(np.float32)
  params = tiny.random_params(d, audio)
  got = np.asarray(tiny.apply(d, params, audio))
  assert d.dilations == (1, 1, 2)
  p = as64(params['params'])
  x = audio[..., None].astype(np.float64)
  for i, dilation in enumerate(d.dilations):
    x = centred_conv(x, p[f'conv_{i}']['kernel'], p[f'conv_{i}']['bias'], dilation)
    x = np.where(x > 0, x, 0.2 * x)
  want = centred_conv(x, p['last']['kernel'], p['last']['bias'], 1)[..., 0]
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_chunks_and_batches_of_files_equal_one_pass_over_each():
  """Files of 11, 3 and 7 frames in chunks of 3 frames, 2 windows per call (short windows padded
  and masked): each file's audio is the one pass over it with its own key's noise."""
  from wavenet_jax.generation import parallel_vocoding
  from wavenet_jax.input import mel
  from wavenet_jax.models.upsample import Upsampler
  features = mel.settings(dict(mel.default_config(), num_mels=4, n_fft=16, hop=4, win_length=16, fmin=0.0,
                               fmax=4000.0))
  model = parallel_wavegan.ParallelVocoder(
      upsampler=Upsampler(num_mels=4, scales=(2, 2), lookahead=1),
      generator=parallel_wavegan.Generator(num_layers=4, stacks=2, residual_channels=4, gate_channels=6,
                                           skip_channels=5, lc_channels=4),
      features=features, sample_rate=8000)
  assert parallel_vocoding.halo_frames(model) == 2  # dilations 1, 2, 1, 2: 6 samples each side
  rng = np.random.default_rng(2)
  items = [rng.uniform(0, 1, (n, 4)).astype(np.float32) for n in (11, 3, 7)]
  keys = [jax.random.key(k) for k in (5, 6, 7)]
  m = model.margin
  params = tiny.random_params(model, np.zeros((1, 8), np.float32), np.zeros((1, 2 + 2 * m, 4), np.float32))
  got = parallel_vocoding.vocode(model, params, items, keys, chunk_frames=3, batch_size=2)
  for frames, key, audio in zip(items, keys, got):
    noise = parallel_vocoding.noise(key, len(frames) * 4)
    whole = tiny.apply(model, params, noise[None], np.pad(frames, ((m, m), (0, 0)))[None])[0]
    np.testing.assert_allclose(audio, np.clip(np.asarray(whole), -1, 1), rtol=0, atol=1e-5)
    assert audio.shape == (len(frames) * 4,) and np.abs(audio).max() <= 1
