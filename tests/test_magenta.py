"""magenta NSynth import: a TF1 checkpoint with magenta's names -> our params, checked leaf by
leaf and against magenta's equations in float64 numpy from the raw checkpoint tensors."""
import jax.numpy as jnp
import numpy as np
import pytest

from wavenet_jax.checkpoints import magenta
from wavenet_jax.models import nsynth
from wavenet_jax.checkpoints.checkpointing import CheckpointError

tf = pytest.importorskip('tensorflow')

HOP = 16
T = 64  # 4 frames; a multiple of every dilation, as masked.conv1d requires.


def tiny_config():
  c = nsynth.tiny_config()
  c.dilations = c.encoder.dilations = (1, 2, 4)
  c.encoder.hop = HOP
  return c


def random_tensors(config, seed):
  """{magenta name: array}: kernels ~ 1/sqrt(fan-in) so the gates stay in their soft range."""
  rng = np.random.default_rng(seed)
  out = {}
  for name, shape in magenta.magenta_nsynth_variables(config).items():
    scale = 1 / np.sqrt(np.prod(shape[:-1])) if name.endswith('/W') else 0.2
    out[name] = (scale * rng.normal(size=shape)).astype(np.float32)
  return out


def save_tf1(prefix, tensors, shadows=None, adam=False):
  """A TF1 graph-mode checkpoint as magenta's training wrote it: each `scope/var` made by
  get_variable in its scope, EMA shadows made by ExponentialMovingAverage.apply, Adam slots."""
  with tf.Graph().as_default():
    variables = {}
    for name, value in tensors.items():
      scope, var = name.rsplit('/', 1)
      with tf.compat.v1.variable_scope(scope):
        variables[name] = tf.compat.v1.get_variable(var, initializer=value)
    assigns = []
    if shadows is not None:
      ema = tf.compat.v1.train.ExponentialMovingAverage(decay=0.9999)
      ema.apply(list(variables.values()))
      assigns = [ema.average(variables[n]).assign(v) for n, v in shadows.items()]
    if adam:
      step = tf.compat.v1.train.get_or_create_global_step()
      loss = tf.add_n([tf.reduce_sum(v**2) for v in variables.values()])
      tf.compat.v1.train.AdamOptimizer(1e-3).minimize(loss, global_step=step,
                                                      var_list=list(variables.values()))
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      sess.run(assigns)
      tf.compat.v1.train.Saver().save(sess, prefix)
  return prefix


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
  """(prefix, raw tensors, EMA tensors) of a tiny magenta-layout training checkpoint."""
  config = tiny_config()
  raw, shadow = random_tensors(config, 0), random_tensors(config, 1)
  prefix = save_tf1(str(tmp_path_factory.mktemp('magenta') / 'model.ckpt-200000'), raw, shadow,
                    adam=True)
  return prefix, raw, shadow


# ------------------------------------------------ magenta's equations, float64 numpy

def magenta_conv1d(x, t, name, dilation=1, causal=True):
  """masked.conv1d step by step: time_to_batch, pad (causal: k-1 zeros before; else TF
  'SAME', the odd zero after), correlate with W [1, k, C_in, C_out], batch_to_time."""
  w, b = t[f'{name}/W'].astype(np.float64), t[f'{name}/biases'].astype(np.float64)
  mb, length, c = x.shape
  k, c_out, n = w.shape[1], w.shape[3], length // dilation
  y = x.reshape(mb, n, dilation, c).transpose(0, 2, 1, 3).reshape(mb * dilation, n, c)
  pad = (k - 1, 0) if causal else ((k - 1) // 2, k - 1 - (k - 1) // 2)
  y = np.pad(y, ((0, 0), pad, (0, 0)))
  out = sum(y[:, j:j + n] @ w[0, j] for j in range(k)) + b
  return out.reshape(mb, dilation, n, c_out).transpose(0, 2, 1, 3).reshape(mb, length, c_out)


def condition(x, encoding):  # h512_bo16.Config._condition: each frame added to its hop samples
  mb, length, ch = x.shape
  return (x.reshape(mb, encoding.shape[1], -1, ch) + encoding[:, :, None]).reshape(mb, length, ch)


def relu(x):
  return np.maximum(x, 0)


def sigmoid(x):
  return 1 / (1 + np.exp(-x))


def magenta_encode(t, x_scaled, config):  # [B, T] -> [B, T / hop, E]
  en = magenta_conv1d(x_scaled[..., None], t, 'ae_startconv', causal=False)
  for i, dilation in enumerate(config.encoder.dilations):
    d = relu(magenta_conv1d(relu(en), t, f'ae_dilatedconv_{i + 1}', dilation, causal=False))
    en = en + magenta_conv1d(d, t, f'ae_res_{i + 1}')
  en = magenta_conv1d(en, t, 'ae_bottleneck')
  b, length, e = en.shape
  return en.reshape(b, length // config.encoder.hop, config.encoder.hop, e).mean(2)


def magenta_decode(t, x_scaled, en, config):  # [B, T], [B, F, E] -> logits [B, T, Q]
  l = np.pad(x_scaled, ((0, 0), (1, 0)))[:, :-1, None]  # masked.shift_right
  l = magenta_conv1d(l, t, 'startconv')
  s = magenta_conv1d(l, t, 'skip_start')
  for i, dilation in enumerate(config.dilations):
    d = magenta_conv1d(l, t, f'dilatedconv_{i + 1}', dilation)
    d = condition(d, magenta_conv1d(en, t, f'cond_map_{i + 1}'))
    m = d.shape[-1] // 2
    d = sigmoid(d[..., :m]) * np.tanh(d[..., m:])
    l = l + magenta_conv1d(d, t, f'res_{i + 1}')
    s = s + magenta_conv1d(d, t, f'skip_{i + 1}')
  s = condition(magenta_conv1d(relu(s), t, 'out1'), magenta_conv1d(en, t, 'cond_map_out1'))
  return magenta_conv1d(relu(s), t, 'logits')


def magenta_scaled(wav):  # utils.mu_law, then / 128.0 as Config.build scales it
  mu_law = np.sign(wav) * np.log1p(255 * np.abs(wav)) / np.log(256)
  return np.floor(mu_law * 128) / 128


# ------------------------------------------------------------------------- tests

def test_mapping_leaf_by_leaf(trained):
  prefix, _, t = trained
  p = magenta.import_magenta_nsynth(prefix, tiny_config())['params']
  enc, dec = p['encoder'], p['decoder']

  def swap(a):  # magenta [sigmoid | tanh] halves -> ours [tanh | sigmoid]
    return np.concatenate([a[..., 16:], a[..., :16]], axis=-1)

  np.testing.assert_array_equal(enc['start']['kernel'], t['ae_startconv/W'][0])
  np.testing.assert_array_equal(enc['start']['bias'], t['ae_startconv/biases'])
  for i in range(3):
    np.testing.assert_array_equal(enc[f'dilated_{i}']['kernel'], t[f'ae_dilatedconv_{i + 1}/W'][0])
    np.testing.assert_array_equal(enc[f'dilated_{i}']['bias'], t[f'ae_dilatedconv_{i + 1}/biases'])
    np.testing.assert_array_equal(enc[f'res_{i}']['kernel'], t[f'ae_res_{i + 1}/W'][0, 0])
    np.testing.assert_array_equal(enc[f'res_{i}']['bias'], t[f'ae_res_{i + 1}/biases'])
  np.testing.assert_array_equal(enc['bottleneck']['kernel'], t['ae_bottleneck/W'][0, 0])
  np.testing.assert_array_equal(enc['bottleneck']['bias'], t['ae_bottleneck/biases'])

  np.testing.assert_array_equal(dec['causal']['kernel'], t['startconv/W'][0])  # [3, 1, R]
  np.testing.assert_array_equal(dec['causal']['bias'], t['startconv/biases'])
  np.testing.assert_array_equal(dec['input_skip_kernel'], t['skip_start/W'][0, 0])
  for i in range(3):
    layer = dec[f'layer_{i}']
    np.testing.assert_array_equal(layer['filter_gate']['kernel'],
                                  swap(t[f'dilatedconv_{i + 1}/W'][0]))
    folded = t[f'dilatedconv_{i + 1}/biases'] + t[f'cond_map_{i + 1}/biases']
    np.testing.assert_allclose(layer['filter_gate']['bias'], swap(folded))
    np.testing.assert_array_equal(layer['dense']['kernel'], t[f'res_{i + 1}/W'][0, 0])
    np.testing.assert_array_equal(layer['dense']['bias'], t[f'res_{i + 1}/biases'])
    np.testing.assert_array_equal(dec['skip_kernel'][i], t[f'skip_{i + 1}/W'][0, 0])
    np.testing.assert_array_equal(dec['lc_proj'][i], swap(t[f'cond_map_{i + 1}/W'][0, 0]))
  np.testing.assert_allclose(dec['skip_bias'], t['skip_start/biases'] + sum(
      t[f'skip_{i + 1}/biases'] for i in range(3)), rtol=1e-6)
  np.testing.assert_array_equal(dec['lc_out']['kernel'], t['cond_map_out1/W'][0, 0])
  np.testing.assert_array_equal(dec['out1']['kernel'], t['out1/W'][0, 0])
  np.testing.assert_allclose(dec['out1']['bias'], t['out1/biases'] + t['cond_map_out1/biases'])
  np.testing.assert_array_equal(dec['out2']['kernel'], t['logits/W'][0, 0])
  np.testing.assert_array_equal(dec['out2']['bias'], t['logits/biases'])


def test_matches_magenta_equations(trained):
  prefix, _, t = trained
  config = tiny_config()
  model = nsynth.from_config(config)
  params = magenta.import_magenta_nsynth(prefix, config)
  rng = np.random.default_rng(2)
  n = np.arange(T)
  wav = (0.5 * np.sin(2 * np.pi * rng.uniform(0.02, 0.1, (2, 1)) * n)
         + 0.05 * rng.normal(size=(2, T)))
  x_scaled = magenta_scaled(wav)

  want_en = magenta_encode(t, x_scaled, config)
  got_en = model.apply(params, jnp.asarray(x_scaled, jnp.float32), method=lambda m, x: m.encoder(x))
  np.testing.assert_allclose(got_en, want_en, rtol=1e-4, atol=1e-4)

  want_logits = magenta_decode(t, x_scaled, want_en, config)
  got_logits = model.apply(params, jnp.asarray(x_scaled, jnp.float32),
                           jnp.asarray(want_en, jnp.float32), method=nsynth.Autoencoder.decode)
  assert got_logits.shape == (2, T, 256)
  assert np.std(want_logits) > 0.3  # a real signal, not a vanishing one that would match anything.
  np.testing.assert_allclose(got_logits, want_logits, rtol=1e-4, atol=1e-4)


def test_ema_preferred_raw_on_request(trained, tmp_path):
  prefix, raw, shadow = trained
  config = tiny_config()

  def out2(params):
    return np.asarray(params['params']['decoder']['out2']['kernel'])

  np.testing.assert_array_equal(out2(magenta.import_magenta_nsynth(prefix, config)),
                                shadow['logits/W'][0, 0])
  raw_params = magenta.import_magenta_nsynth(prefix, config, use_ema=False)
  np.testing.assert_array_equal(out2(raw_params), raw['logits/W'][0, 0])
  # No shadows at all: the raw variables, even with use_ema.
  raw_only = save_tf1(str(tmp_path / 'model.ckpt-5'), raw)
  np.testing.assert_array_equal(out2(magenta.import_magenta_nsynth(raw_only, config)),
                                raw['logits/W'][0, 0])


def test_error_lists_every_problem(tmp_path):
  config = tiny_config()
  t = random_tensors(config, 3)
  del t['res_2/biases'], t['ae_bottleneck/W']
  t['res_4/W'] = np.zeros((1, 1, 16, 16), np.float32)
  t['cond_map_1/W'] = np.zeros((1, 1, 5, 32), np.float32)
  prefix = save_tf1(str(tmp_path / 'model.ckpt-7'), t, adam=True)
  with pytest.raises(CheckpointError) as err:
    magenta.import_magenta_nsynth(prefix, config)
  message = str(err.value)
  first = message.splitlines()[0]
  assert prefix in first
  assert '2 variables missing, 1 unexpected, 1 shape mismatch' in first
  for name in ('res_2/biases', 'ae_bottleneck/W', 'res_4/W'):
    assert name in message
  assert 'cond_map_1/W: checkpoint [1, 1, 5, 32] vs model [1, 1, 4, 32]' in message
  assert 'Adam' not in message and 'global_step' not in message  # training state is not reported.


def test_other_architecture_fails(trained):
  prefix, _, _ = trained
  c = tiny_config()
  c.dilations = (1, 2, 4, 8)  # one more decoder layer, all wider
  c.residual_channels = c.dilation_channels = 32
  with pytest.raises(CheckpointError) as err:
    magenta.import_magenta_nsynth(prefix, c)
  first = str(err.value).splitlines()[0]
  # layer 4: 4 convs x (W, biases); layers 1-3: 7 of 8 (skip biases are S wide) + startconv 2
  # + skip_start's W.
  assert '8 variables missing, 0 unexpected, 24 shape mismatches' in first, first
  assert 'dilatedconv_4/W/ExponentialMovingAverage' in str(err.value)


def test_unreadable_checkpoint(tmp_path):
  with pytest.raises(CheckpointError, match='not a readable TF checkpoint'):
    magenta.import_magenta_nsynth(str(tmp_path / 'model.ckpt-1'), tiny_config())
