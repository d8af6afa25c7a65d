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
