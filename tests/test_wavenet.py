"""The WaveNet decoder against an independent float64 numpy forward, plus its structural laws."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import default
from tests import tiny
from wavenet_jax.kinds import registry
from wavenet_jax.models.wavenet import WaveNet, receptive_field


def np_forward(p, inputs, m: WaveNet, gc=None, lc=None):
  """ibab's equations written out in float64: the reference, sharing no code with the model."""
  p = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), p['params'])
  b, t = inputs.shape

  def past(x, lag):  # x[t - lag], zeros before the start. x: [B, T, ...]
    out = np.zeros_like(x)
    if lag < t:
      out[:, lag:] = x[:, :t - lag]
    return out

  if m.scalar_input:
    w = p['causal']['kernel']  # [k0, 1, R]
    k0 = w.shape[0]
    h = sum(past(np.asarray(inputs, np.float64)[..., None], k0 - 1 - j) @ w[j] for j in range(k0))
    if m.input_bias:
      h = h + p['causal']['bias']
  else:
    w = p['causal']['kernel']  # [k, Q, R]
    onehot = np.eye(m.quantization_channels)[inputs]
    h = sum(past(onehot, m.filter_width - 1 - j) @ w[j] for j in range(m.filter_width))
  skip = h @ p['input_skip_kernel'] if m.input_skip else 0.0  # NSynth's skip_start
  for i, d in enumerate(m.dilations):
    layer = p[f'layer_{i}']
    w = layer['filter_gate']['kernel']  # [k, R, 2D]
    fg = sum(past(h, (m.filter_width - 1 - j) * d) @ w[j] for j in range(m.filter_width))
    if m.use_biases:
      fg = fg + layer['filter_gate']['bias']
    if gc is not None:
      fg = fg + (p['gc_embedding'][gc] @ p['gc_proj'][i])[:, None, :]
    if lc is not None:
      fg = fg + np.asarray(lc, np.float64) @ p['lc_proj'][i]
    f, g = np.split(fg, 2, axis=-1)
    z = np.tanh(f) / (1.0 + np.exp(-g))
    skip = skip + z @ p['skip_kernel'][i]
    h = h + z @ layer['dense']['kernel'] + (layer['dense']['bias'] if m.use_biases else 0.0)
  if m.use_biases:
    skip = skip + p['skip_bias']
  out = np.maximum(skip, 0) @ p['out1']['kernel'] + (p['out1']['bias'] if m.use_biases else 0.0)
  if lc is not None:
    out = out + np.asarray(lc, np.float64) @ p['lc_out']['kernel']
  return np.maximum(out, 0) @ p['out2']['kernel'] + (p['out2']['bias'] if m.use_biases else 0.0)


CONFIGS = [
    dict(filter_width=2, dilations=(1, 2, 4, 8)),
    dict(filter_width=3, dilations=(1, 3, 9, 2), use_biases=False, gc_cardinality=3, gc_channels=5),
    dict(filter_width=2, dilations=(1, 2, 1, 2), scalar_input=True, initial_filter_width=4, lc_channels=3),
    dict(filter_width=3, dilations=(2, 4, 1), gc_cardinality=2, gc_channels=3, lc_channels=2),
    dict(filter_width=3, dilations=(1, 2, 4), scalar_input=True, initial_filter_width=3, lc_channels=2,
         input_bias=True, input_skip=True),  # NSynth's decoder in miniature
]


def _make(cfg, t=40, batch=2, seed=0):
  m = WaveNet(residual_channels=6, dilation_channels=5, skip_channels=7, quantization_channels=16, **cfg)
  rng = np.random.default_rng(seed)
  x = rng.uniform(-1, 1, (batch, t)).astype(np.float32) if m.scalar_input else rng.integers(0, 16, (batch, t))
  gc = rng.integers(0, m.gc_cardinality, batch) if m.gc_cardinality else None
  lc = rng.normal(size=(batch, t, m.lc_channels)).astype(np.float32) if m.lc_channels else None
  params = tiny.random_params(m, jnp.asarray(x), None if gc is None else jnp.asarray(gc),
                              None if lc is None else jnp.asarray(lc), seed=seed + 1, scale=0.3)
  return m, params, x, gc, lc


def _apply(m, params, x, gc, lc, **kw):
  return np.asarray(tiny.apply(m, params, jnp.asarray(x), None if gc is None else jnp.asarray(gc),
                               None if lc is None else jnp.asarray(lc), **kw))


@pytest.mark.parametrize('cfg', CONFIGS)
def test_forward_matches_numpy_float64(cfg):
  m, params, x, gc, lc = _make(cfg)
  got = _apply(m, params, x, gc, lc)
  want = np_forward(params, x, m, gc, lc)
  np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)
  # num_outputs keeps the last positions only, unchanged.
  np.testing.assert_allclose(_apply(m, params, x, gc, lc, num_outputs=7), got[:, -7:], atol=1e-5)


@pytest.mark.parametrize('cfg', CONFIGS)
def test_gradients_match_float64_central_differences(cfg):
  """Training's gradients (layers.affine writes the matmul ones by hand) against the numpy forward.

  For every parameter array, the directional derivative of sum(logits · r) along a random
  direction, by central differences of np_forward in float64, equals <grad, direction>.
  """
  m, params, x, gc, lc = _make(cfg, t=24)
  rng = np.random.default_rng(7)
  r = rng.normal(size=np_forward(params, x, m, gc, lc).shape)  # [B, T, Q]

  def loss(p):
    logits = m.apply(p, jnp.asarray(x), None if gc is None else jnp.asarray(gc),
                     None if lc is None else jnp.asarray(lc))
    return jnp.sum(logits * jnp.asarray(r, jnp.float32))

  grads = jax.jit(jax.grad(loss))(params)
  flat, treedef = jax.tree_util.tree_flatten_with_path(params)
  grad_leaves = jax.tree_util.tree_leaves(grads)
  leaves64 = [np.asarray(l, np.float64) for _, l in flat]
  eps = 1e-6
  for i, ((path, leaf), grad) in enumerate(zip(flat, grad_leaves)):
    direction = rng.normal(size=leaf.shape)

    def moved(sign):
      leaves = list(leaves64)
      leaves[i] = leaves64[i] + sign * eps * direction
      tree = jax.tree_util.tree_unflatten(treedef, leaves)
      return float(np.sum(np_forward(tree, x, m, gc, lc) * r))

    want = (moved(1) - moved(-1)) / (2 * eps)
    got = float(np.sum(np.asarray(grad, np.float64) * direction))
    assert abs(got - want) <= 1e-3 * max(1.0, abs(want)), (jax.tree_util.keystr(path), got, want)


@pytest.mark.parametrize('cfg', CONFIGS)
def test_causal_and_receptive_field(cfg):
  m, params, x, gc, lc = _make(cfg, t=60, batch=1)
  rf = m.receptive_field
  base = _apply(m, params, x, gc, lc)
  t0 = 45
  changed = np.zeros(x.shape[1], bool)
  # Several new values of x[t0]: one change may leave an output as it was where every
  # path to it ends in a ReLU that was already off; all of them together may not.
  for new in ([-0.9, -0.2, 0.4, 0.8] if m.scalar_input else [(x[0, t0] + s) % 16 for s in (3, 5, 8, 11)]):
    x2 = x.copy()
    x2[0, t0] = new
    out = _apply(m, params, x2, gc, lc)
    changed |= np.any(np.abs(out - base) > 1e-6, axis=-1)[0]
  assert not changed[:t0].any(), 'an output before t0 depends on x[t0]'
  # x[t0] reaches exactly outputs t0 .. t0 + rf - 1.
  assert changed[t0:t0 + rf].all()
  assert not changed[t0 + rf:].any()


def test_receptive_field_arithmetic():
  assert receptive_field(2, default.IBAB_DILATIONS) == 5117  # ibab's documented value.
  assert WaveNet().receptive_field == 5117
  assert receptive_field(3, (1, 2, 4)) == 2 * 7 + 1 + 2
  assert receptive_field(2, (1, 2), scalar_input=True, initial_filter_width=32) == 4 + 31


def test_global_conditioning_changes_output():
  m, params, x, gc, lc = _make(CONFIGS[1])
  a = _apply(m, params, x, np.array([0, 0]), lc)
  b = _apply(m, params, x, np.array([1, 1]), lc)
  assert np.abs(a - b).max() > 1e-3


def _tiny_config():
  c = default.get_config()
  c.model.dilations = (1, 2, 4)
  c.model.residual_channels = c.model.dilation_channels = 4
  c.model.skip_channels = 8
  c.model.quantization_channels = 32
  return c


def test_padded_crop_gives_the_unpadded_loss():
  c = _tiny_config()
  m = registry.of(c.model).build(c, 0)
  rf = m.receptive_field
  rng = np.random.default_rng(0)
  valid, total = rf + 11, rf + 30
  clip = rng.uniform(-0.8, 0.8, valid).astype(np.float32)
  params = m.init(jax.random.key(0), jnp.zeros((1, 10), jnp.int32))

  def masked_loss(audio, mask):
    nll, tmask = registry.get('wavenet').nll_per_target(m, c.model, params, {'audio': jnp.asarray(audio)[None],
                                                                   'mask': jnp.asarray(mask)[None]})
    return float(jnp.sum(nll * tmask) / jnp.sum(tmask))

  unpadded = masked_loss(clip, np.ones(valid, np.float32))
  padded_audio = np.concatenate([clip, rng.uniform(-1, 1, total - valid).astype(np.float32)])
  padded = masked_loss(padded_audio, np.concatenate([np.ones(valid), np.zeros(total - valid)]).astype(np.float32))
  assert abs(unpadded - padded) < 1e-6
  # And the padding really is excluded: unmasked it changes the loss.
  assert abs(masked_loss(padded_audio, np.ones(total, np.float32)) - unpadded) > 1e-4
