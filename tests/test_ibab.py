"""ibab/tensorflow-wavenet import: TF1 checkpoints made the way ibab's WaveNetModel makes its
variables -> our WaveNet, checked against ibab's equations in float64 numpy."""
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import default
from wavenet_jax.checkpoints import ibab, warm_start
from wavenet_jax.checkpoints.checkpointing import CheckpointError
from wavenet_jax.models.wavenet import WaveNet
from wavenet_jax.training import optim
from wavenet_jax.training import run as training_run

tf = pytest.importorskip('tensorflow')
v1 = tf.compat.v1

T = 40
GC = dict(gc_cardinality=3, gc_channels=4)
PARAMS = dict(filter_width=2, sample_rate=16000, dilations=[1, 2, 4, 1, 2], residual_channels=8,
              dilation_channels=6, quantization_channels=32, skip_channels=10, use_biases=True,
              scalar_input=False, initial_filter_width=32)
CASES = {  # name: (wavenet_params, gc)
    'one_hot_gc': (PARAMS, GC),
    'scalar': ({**PARAMS, 'scalar_input': True, 'initial_filter_width': 4}, {}),
    'no_bias': ({**PARAMS, 'use_biases': False}, GC),
}


def ibab_checkpoint(prefix, params, gc_cardinality=None, gc_channels=None, seed=0, adam=False):
  """ibab's WaveNetModel._create_variables, saved as its train.py saves: -> ibab's `variables`
  dict of the numpy values. Values ~ 1/sqrt(fan-in) keep the gates in their soft range."""
  rng = np.random.default_rng(seed)
  values = {}

  def create_variable(name, shape, scale=None):
    scale = 1 / np.sqrt(np.prod(shape[:-1])) if scale is None else scale
    value = (scale * rng.normal(size=shape)).astype(np.float32)
    return v1.Variable(value, name=name), value

  def create_bias_variable(name, shape):
    value = (0.2 * rng.normal(size=shape)).astype(np.float32)
    return v1.Variable(value, name), value  # ibab's call: `name` is tf.Variable's `trainable`.

  r, d, s = params['residual_channels'], params['dilation_channels'], params['skip_channels']
  q, k = params['quantization_channels'], params['filter_width']
  with tf.Graph().as_default():
    with v1.variable_scope('wavenet'):
      if gc_cardinality is not None:
        with v1.variable_scope('embeddings'):
          values['embeddings'] = {'gc_embedding': create_variable(
              'gc_embedding', [gc_cardinality, gc_channels], scale=1.0)[1]}
      with v1.variable_scope('causal_layer'):
        if params['scalar_input']:
          shape, scale = [params['initial_filter_width'], 1, r], None
        else:  # one-hot: each output reads k rows, not k·Q inputs.
          shape, scale = [k, q, r], 1 / np.sqrt(k)
        values['causal_layer'] = {'filter': create_variable('filter', shape, scale)[1]}
      values['dilated_stack'] = []
      with v1.variable_scope('dilated_stack'):
        for i in range(len(params['dilations'])):
          with v1.variable_scope(f'layer{i}'):
            current = {}
            current['filter'] = create_variable('filter', [k, r, d])[1]
            current['gate'] = create_variable('gate', [k, r, d])[1]
            current['dense'] = create_variable('dense', [1, d, r])[1]
            current['skip'] = create_variable('skip', [1, d, s])[1]
            if gc_channels is not None:
              current['gc_gateweights'] = create_variable('gc_gate', [1, gc_channels, d])[1]
              current['gc_filtweights'] = create_variable('gc_filter', [1, gc_channels, d])[1]
            if params['use_biases']:
              current['filter_bias'] = create_bias_variable('filter_bias', [d])[1]
              current['gate_bias'] = create_bias_variable('gate_bias', [d])[1]
              current['dense_bias'] = create_bias_variable('dense_bias', [r])[1]
              current['skip_bias'] = create_bias_variable('slip_bias', [s])[1]
            values['dilated_stack'].append(current)
      with v1.variable_scope('postprocessing'):
        current = {}
        current['postprocess1'] = create_variable('postprocess1', [1, s, s])[1]
        current['postprocess2'] = create_variable('postprocess2', [1, s, q])[1]
        if params['use_biases']:
          current['postprocess1_bias'] = create_bias_variable('postprocess1_bias', [s])[1]
          current['postprocess2_bias'] = create_bias_variable('postprocess2_bias', [q])[1]
        values['postprocessing'] = current
    trainable = v1.trainable_variables()
    saver = v1.train.Saver(var_list=trainable)  # ibab's train.py
    if adam:  # a checkpoint of every global: Adam's slots, beta powers and the step too.
      step = v1.train.get_or_create_global_step()
      loss = tf.add_n([tf.reduce_sum(v**2) for v in trainable])
      v1.train.AdamOptimizer(1e-3, epsilon=1e-4).minimize(loss, global_step=step, var_list=trainable)
      saver = v1.train.Saver()
    with v1.Session() as sess:
      sess.run(v1.global_variables_initializer())
      saver.save(sess, prefix, write_meta_graph=False)  # the weights are all an import reads.
  return values


# ------------------------------------------------------ ibab's equations, float64 numpy

def receptive_field(p):  # WaveNetModel.calculate_receptive_field
  first = p['initial_filter_width'] if p['scalar_input'] else p['filter_width']
  return (p['filter_width'] - 1) * sum(p['dilations']) + 1 + first - 1


def causal_conv(x, w, dilation):
  """ops.causal_conv: 'VALID', so output t = Σ_j x[t + j·d] @ w[j] ([B, T - (k-1)·d, C_out])."""
  k, n = w.shape[0], x.shape[1] - (w.shape[0] - 1) * dilation
  return sum(x[:, j * dilation:j * dilation + n] @ w[j] for j in range(k))


def sigmoid(x):
  return 1 / (1 + np.exp(-x))


def ibab_logits(v, p, inputs, gc_ids=None):
  """WaveNetModel._create_network on `inputs` [B, T] -> [B, T - receptive field + 1, Q]."""
  v = {key: ([{n: a.astype(np.float64) for n, a in layer.items()} for layer in val]
             if key == 'dilated_stack' else {n: a.astype(np.float64) for n, a in val.items()})
       for key, val in v.items()}
  if p['scalar_input']:
    x = inputs[..., None].astype(np.float64)
  else:
    x = np.eye(p['quantization_channels'])[inputs]  # _one_hot
  gc = None if gc_ids is None else v['embeddings']['gc_embedding'][gc_ids][:, None]  # [B, 1, G]
  output_width = inputs.shape[1] - receptive_field(p) + 1
  h = causal_conv(x, v['causal_layer']['filter'], 1)
  skips = []
  for layer, dilation in zip(v['dilated_stack'], p['dilations']):
    f = causal_conv(h, layer['filter'], dilation)
    g = causal_conv(h, layer['gate'], dilation)
    if gc is not None:
      f = f + gc @ layer['gc_filtweights'][0]
      g = g + gc @ layer['gc_gateweights'][0]
    if p['use_biases']:
      f, g = f + layer['filter_bias'], g + layer['gate_bias']
    out = np.tanh(f) * sigmoid(g)
    dense = out @ layer['dense'][0]
    skip = out[:, out.shape[1] - output_width:] @ layer['skip'][0]
    if p['use_biases']:
      dense, skip = dense + layer['dense_bias'], skip + layer['skip_bias']
    skips.append(skip)
    h = h[:, h.shape[1] - dense.shape[1]:] + dense
  post = v['postprocessing']
  h = np.maximum(sum(skips), 0) @ post['postprocess1'][0]
  if p['use_biases']:
    h = h + post['postprocess1_bias']
  h = np.maximum(h, 0) @ post['postprocess2'][0]
  return h + post['postprocess2_bias'] if p['use_biases'] else h


# ------------------------------------------------------------------------- tests

@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
  """{case: (prefix, json path, ibab's variables)} of the three CASES."""
  out = {}
  for i, (name, (params, gc)) in enumerate(CASES.items()):
    root = tmp_path_factory.mktemp(name)
    (root / 'wavenet_params.json').write_text(json.dumps(params))
    prefix = str(root / 'model.ckpt-99')
    out[name] = prefix, str(root / 'wavenet_params.json'), ibab_checkpoint(prefix, params, seed=i, **gc)
  return out


@pytest.mark.parametrize('case', list(CASES))
def test_matches_ibab_equations(checkpoints, case):
  prefix, json_path, values = checkpoints[case]
  p, gc = CASES[case]
  params, config = ibab.import_ibab_wavenet(prefix, json_path)
  for key in ('filter_width', 'residual_channels', 'dilation_channels', 'skip_channels',
              'quantization_channels', 'use_biases', 'scalar_input', 'initial_filter_width'):
    assert config[key] == p[key], key
  assert tuple(config.dilations) == tuple(p['dilations']) and config.mu_law == 'ibab'
  assert (config.gc_cardinality, config.gc_channels) == ((3, 4) if gc else (0, 32))
  run = default.get_config()
  run.lock()  # as launch.py's: a field a run's model config lacks would raise.
  run.model.update(config)

  rng = np.random.default_rng(7)
  if p['scalar_input']:
    inputs = 0.6 * np.sin(np.arange(T) * rng.uniform(0.1, 0.5, (2, 1))) + 0.1 * rng.normal(size=(2, T))
  else:
    inputs = rng.integers(0, p['quantization_channels'], (2, T))
  gc_ids = np.array([2, 0]) if gc else None
  want = ibab_logits(values, p, inputs, gc_ids)
  got = WaveNet.from_config(config).apply(
      params, jnp.asarray(inputs, jnp.float32 if p['scalar_input'] else jnp.int32),
      None if gc_ids is None else jnp.asarray(gc_ids, jnp.int32))
  rf = receptive_field(p)
  assert want.shape == (2, T - rf + 1, p['quantization_channels'])
  assert np.std(want) > 0.3  # a real signal, not a vanishing one that would match anything.
  np.testing.assert_allclose(np.asarray(got)[:, rf - 1:], want, rtol=0, atol=1e-4)


def test_params_dict_and_adam_slots(tmp_path, checkpoints):
  """A checkpoint of every global (Adam slots, beta powers, step) imports as the trainable one."""
  p, gc = CASES['one_hot_gc']
  prefix = str(tmp_path / 'model.ckpt-5')
  ibab_checkpoint(prefix, p, seed=0, adam=True, **gc)
  stored = tf.train.load_checkpoint(prefix).get_variable_to_shape_map()
  assert 'wavenet/dilated_stack/layer0/Variable/Adam' in stored and 'global_step' in stored
  params, _ = ibab.import_ibab_wavenet(prefix, p)  # wavenet_params as a dict
  # Adam changed nothing yet: the same values as the trainable-only checkpoint of seed 0.
  plain, _ = ibab.import_ibab_wavenet(checkpoints['one_hot_gc'][0], p)
  jax.tree_util.tree_map(np.testing.assert_array_equal, params, plain)


def test_shape_mismatch_first_line(tmp_path):
  p = dict(PARAMS)
  prefix = str(tmp_path / 'model.ckpt-1')
  ibab_checkpoint(prefix, p, **GC)
  json_path = tmp_path / 'wavenet_params.json'
  json_path.write_text(json.dumps({**p, 'residual_channels': 16}))
  with pytest.raises(CheckpointError) as err:
    ibab.import_ibab_wavenet(prefix, str(json_path))
  lines = str(err.value).splitlines()
  assert lines[0] == (f'{prefix}: wavenet/causal_layer/filter has shape [2, 32, 8] in the '
                      f'checkpoint, {json_path} gives [2, 32, 16]')
  # R is in each layer's filter, gate, dense and dense bias (5 x 4), and the causal layer.
  assert lines[1] == (f'  not ibab\'s WaveNet of {json_path}: 0 variables missing, 0 unexpected, '
                      '21 shape mismatches')
  assert 'wavenet/dilated_stack/layer3/Variable_2 (dense_bias): checkpoint [8] vs [16]' in lines[-1]
  # A gc cardinality given on the command line is checked against the embedding.
  with pytest.raises(CheckpointError) as err:
    ibab.import_ibab_wavenet(prefix, p, gc_cardinality=5)
  assert str(err.value).splitlines()[0] == (
      f'{prefix}: wavenet/embeddings/gc_embedding has shape [3, 4] in the checkpoint, '
      'gc_cardinality 5 and gc_channels 4 give [5, 4]')


def test_missing_and_unexpected_listed(checkpoints):
  prefix = checkpoints['one_hot_gc'][0]
  # One layer fewer and no biases: layer4's variables and every bias are unexpected.
  with pytest.raises(CheckpointError) as err:
    ibab.import_ibab_wavenet(prefix, {**PARAMS, 'dilations': [1, 2, 4, 1], 'use_biases': False})
  message = str(err.value)
  lines = message.splitlines()
  assert lines[0] == (f'{prefix}: has wavenet/dilated_stack/layer0/Variable [6], which '
                      'wavenet_params does not describe')
  # layer4: filter, gate, dense, skip, gc_gate, gc_filter, 4 biases; 4 x 4 biases; 2 post biases
  assert '0 variables missing, 28 unexpected, 0 shape mismatches' in lines[1]
  assert '  the checkpoint has 5 dilated layers, wavenet_params lists 4 dilations' in lines
  assert '  the checkpoint has biases, wavenet_params gives use_biases False' in lines
  assert 'wavenet/dilated_stack/layer4/gc_filter [1, 4, 6]' in message
  # One layer more: layer5's 10 variables are missing, named with their role.
  with pytest.raises(CheckpointError) as err:
    ibab.import_ibab_wavenet(prefix, {**PARAMS, 'dilations': [1, 2, 4, 1, 2, 4]})
  lines = str(err.value).splitlines()
  assert lines[0] == (f'{prefix}: wavenet/dilated_stack/layer5/filter is not in the checkpoint, '
                      'wavenet_params gives it [2, 8, 6]')
  assert '10 variables missing, 0 unexpected, 0 shape mismatches' in lines[1]
  assert 'wavenet/dilated_stack/layer5/Variable_3 (skip_bias) [10]' in lines[-1]
  assert 'Adam' not in str(err.value) and 'global_step' not in str(err.value)
  # gc_cardinality=0 says "not conditioned": the gc variables are unexpected.
  with pytest.raises(CheckpointError, match='0 variables missing, 11 unexpected'):
    ibab.import_ibab_wavenet(prefix, PARAMS, gc_cardinality=0)


def test_bad_inputs(tmp_path, checkpoints):
  prefix, json_path, _ = checkpoints['no_bias']
  assert ibab.is_ibab_checkpoint(prefix)
  assert not ibab.is_ibab_checkpoint(str(tmp_path / 'nothing'))
  with pytest.raises(ValueError, match=r'^wavenet_params: has no skip_channels \(ibab'):
    ibab.import_ibab_wavenet(prefix, {k: v for k, v in PARAMS.items() if k != 'skip_channels'})
  with pytest.raises(ValueError, match=r'nope.json: not a readable wavenet_params.json'):
    ibab.import_ibab_wavenet(prefix, str(tmp_path / 'nope.json'))
  with pytest.raises(CheckpointError, match='not a readable TF checkpoint'):
    ibab.import_ibab_wavenet(str(tmp_path / 'model.ckpt-1'), json_path)


def test_training_starts_from_an_ibab_checkpoint(checkpoints, tmp_path, capsys):
  """train.init_from = an ibab prefix: the run's params start as the import, then train."""
  from tests import tiny
  from wavenet_jax.apps import train
  from wavenet_jax.checkpoints import checkpointing
  from wavenet_jax.runtime import sharding
  prefix, json_path, _ = checkpoints['scalar']
  _, model_config = ibab.import_ibab_wavenet(prefix, json_path)
  c = tiny.config(tiny.build_demo(tmp_path / 'demo'), steps=1)
  c.model.update(model_config)
  c.train.init_from = prefix
  run = training_run.open_run(c, str(tmp_path / 'run'))
  fresh = run.init_state(optim.make_optimizer(c)[0]).params
  params, _ = warm_start.params_from(prefix, fresh, sharding.make_mesh(), c)
  imported, _ = ibab.import_ibab_wavenet(prefix, json_path)
  jax.tree_util.tree_map(np.testing.assert_array_equal, jax.device_get(params), imported)
  train.train_and_evaluate(c, str(tmp_path / 'run'))
  assert f'Initialised params from {prefix}' in capsys.readouterr().out
  trained = checkpointing.load(str(tmp_path / 'run'))[0]['params']
  moved = [np.max(np.abs(a - b)) for a, b in zip(jax.tree_util.tree_leaves(trained), jax.tree_util.tree_leaves(imported))]
  assert 0 < max(moved) < 0.1  # one small step away from the import


def test_speaker_rows_follow_our_class_order(checkpoints):
  """ibab's row i is speaker p{i} (its reader's id from the file name); a run with classes
  ('p2', 'p0') and a null row starts with rows [ibab 2, ibab 0, fresh]."""
  from tests import tiny
  from wavenet_jax.runtime import sharding
  prefix, json_path, _ = checkpoints['one_hot_gc']
  imported, model_config = ibab.import_ibab_wavenet(prefix, json_path)
  c = tiny.config('unused')
  c.model.update(model_config)
  c.model.gc_cardinality = 3  # two classes + the null row
  c.model.gc_null_class = True
  like = WaveNet.from_config(c.model).init(jax.random.key(1), jnp.zeros((1, 4), jnp.int32),
                                          jnp.zeros((1,), jnp.int32))
  params, _ = warm_start.params_from(prefix, like, sharding.make_mesh(), c, ['p2', 'p0'])
  table = np.asarray(imported['params']['gc_embedding'])
  got = np.asarray(params['params']['gc_embedding'])
  np.testing.assert_array_equal(got[:2], table[[2, 0]])
  np.testing.assert_array_equal(got[2], like['params']['gc_embedding'][2])
  np.testing.assert_array_equal(params['params']['gc_proj'], imported['params']['gc_proj'])
  with pytest.raises(CheckpointError, match=r"class 'blues': an ibab checkpoint ids its 3 classes"):
    warm_start.params_from(prefix, like, sharding.make_mesh(), c, ['p2', 'blues'])
  with pytest.raises(CheckpointError, match=r"class 'p7'.*out of range"):
    warm_start.params_from(prefix, like, sharding.make_mesh(), c, ['p2', 'p7'])
