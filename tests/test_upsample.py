"""The vocoder's upsampler: frame i conditions samples [i·hop, (i+1)·hop), in every mode."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavenet_jax.models.upsample import Upsampler

SCALES, M = (2, 4), 3  # hop 8


def _apply(mode, frames, lookahead=0, params=None):
  up = Upsampler(num_mels=M, scales=SCALES, mode=mode, lookahead=lookahead)
  params = params or up.init(jax.random.key(0), jnp.asarray(frames))
  return np.asarray(up.apply(params, jnp.asarray(frames))), params


def test_repeat_holds_frame_i_over_its_hop_and_lookahead_centres_the_conv_in():
  frames = np.random.default_rng(0).normal(size=(2, 9, M)).astype(np.float32)
  out, _ = _apply('repeat', frames)
  assert out.shape == (2, 9 * 8, M)
  for i in range(9):
    np.testing.assert_array_equal(out[:, i * 8:(i + 1) * 8], np.repeat(frames[:, i:i + 1], 8, axis=1))
  # lookahead 2: the input carries 2 frames each side; a conv-in that passes its centre tap
  # through gives frame i + 2 of the input to output block i.
  centre = np.zeros((5, M, M), np.float32)
  centre[2] = np.eye(M)
  out, _ = _apply('repeat', frames, 2, {'params': {'conv_in': jnp.asarray(centre)}})
  assert out.shape == (2, 5 * 8, M)
  np.testing.assert_array_equal(out, np.repeat(frames[:, 2:7], 8, axis=1))


def test_stretch_conv_at_init_is_r9y9s_repeat_then_average():
  frames = np.random.default_rng(1).normal(size=(1, 6, M))
  want = frames[0]
  for s in SCALES:  # numpy: nearest stretch, then a (2s + 1)-tap mean with zero padding
    want = np.repeat(want, s, axis=0)
    want = np.stack([np.convolve(want[:, k], np.ones(2 * s + 1) / (2 * s + 1), mode='same')
                     for k in range(M)], axis=1)
  out, _ = _apply('stretch_conv', frames.astype(np.float32))
  np.testing.assert_allclose(out[0], want, atol=1e-5)


def test_stretch_conv_is_a_stretch_then_a_2d_correlation_over_time_and_mel():
  """Trained (random) taps over 3 mel bands: each stage equals numpy's float64 nearest stretch
  then (2s + 1) x 3 correlation with zeros beyond the ends, the stage r9y9 writes."""
  rng = np.random.default_rng(2)
  frames = rng.normal(size=(2, 5, M))
  up = Upsampler(num_mels=M, scales=SCALES, mode='stretch_conv', lookahead=0, freq_kernel=3)
  params = up.init(jax.random.key(0), jnp.asarray(frames, jnp.float32))
  params = jax.tree_util.tree_map(lambda p: jnp.asarray(rng.normal(size=p.shape), jnp.float32), params)
  want = frames
  for i, s in enumerate(SCALES):
    kernel = np.asarray(params['params'][f'stage_{i}'], np.float64)[:, :, 0, 0]  # [2s + 1, 3]
    stretched = np.pad(np.repeat(want, s, axis=1), ((0, 0), (s, s), (1, 1)))
    t = want.shape[1] * s
    want = sum(kernel[k, f] * stretched[:, k:k + t, f:f + M] for k in range(2 * s + 1) for f in range(3))
  out = np.asarray(up.apply(params, jnp.asarray(frames, jnp.float32)))
  np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def test_transposed_at_init_interpolates_linearly_between_block_centres():
  frames = np.broadcast_to(np.arange(10.0)[None, :, None], (1, 10, M)).astype(np.float32)
  out, _ = _apply('transposed', frames)
  n = np.arange(80)
  inner = (n >= 8) & (n < 72)  # away from the zeros beyond the ends
  np.testing.assert_allclose(out[0, inner, 0], ((n + 0.5) / 8 - 0.5)[inner], atol=1e-5)


@pytest.mark.parametrize('mode', ['repeat', 'stretch_conv', 'transposed'])
def test_frame_i_is_centred_on_its_block(mode):
  """The response to frame i alone is centred on samples [i·hop, (i+1)·hop), which hold its
  largest share (all of it for repeat)."""
  frames = np.zeros((1, 12, M), np.float32)
  frames[0, 5] = 1.0
  out, _ = _apply(mode, frames)
  w = out[0, :, 0]
  centre = np.sum(np.arange(len(w)) * w) / np.sum(w)
  assert centre == pytest.approx(5 * 8 + 3.5, abs=1e-4)
  blocks = w.reshape(12, 8).sum(axis=1)
  assert np.argmax(blocks) == 5
  if mode == 'repeat':
    assert blocks[5] == pytest.approx(w.sum())
