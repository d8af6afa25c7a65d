"""ibab/tensorflow-wavenet's WaveNet checkpoint (TF1) -> our params and model config.

ibab's WaveNetModel._create_variables (wavenet/model.py) makes every variable with
tf.Variable inside tf.variable_scope('wavenet'), in this order:
  embeddings/gc_embedding  [N, G]               (with a gc cardinality)
  causal_layer/filter      [k0, Q or 1, R]      (never a bias, whatever use_biases says)
  dilated_stack/layer{i}/  filter, gate [k, R, D]; dense [1, D, R]; skip [1, D, S];
                           gc_gate, gc_filter [1, G, D] (with gc); biases [D] [D] [R] [S]
  postprocessing/          postprocess1 [1, S, S], postprocess2 [1, S, Q]; biases [S] [Q]
Its create_bias_variable calls tf.Variable(value, name): the name lands in the positional
`trainable` slot, so every bias is saved as `Variable`, `Variable_1`, ... of its scope, in
creation order (filter, gate, dense, skip; postprocess1, postprocess2): only that order
tells them apart. causal_conv is tf.nn.conv1d 'VALID' (dilated through time_to_batch):
output t is Σ_j x[t + j·d] · W[j], tap 0 the oldest as ours; it has no output for the
first (k-1)·d positions, where ours reads zero padding, and agrees everywhere else.
  gate   ibab: tanh(filter + gc_filter·e) · sigmoid(gate + gc_gate·e); ours one [k, R, 2D]
         kernel and one [G, 2D] projection per layer, filter half first -> concatenations.
  skips  ibab: a 1x1 and a bias per layer; ours one [L, D, S] kernel and one bias = Σ biases.
"""
import json
import os
import re
from typing import Dict, Optional, Tuple

from absl import logging
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from wavenet_jax.checkpoints import tf_checkpoint
from wavenet_jax.checkpoints.checkpointing import CheckpointError
from wavenet_jax.models.wavenet import WaveNet

IBAB_PROBE = 'wavenet/causal_layer/filter'
IBAB_GC_EMBEDDING = 'wavenet/embeddings/gc_embedding'
# wavenet_params.json fields the model needs; the optional ones take WaveNetModel's defaults.
_IBAB_REQUIRED = ('filter_width', 'dilations', 'residual_channels', 'dilation_channels',
                  'skip_channels')
_IBAB_DEFAULTS = {'quantization_channels': 256, 'use_biases': False, 'scalar_input': False,
                  'initial_filter_width': 32}
_GC_CHANNELS = 32  # configs/default.py's; only used when the checkpoint has no embedding.


def is_ibab_checkpoint(checkpoint_prefix: str) -> bool:
  """True when the TF checkpoint has ibab's `wavenet/causal_layer/filter`."""
  try:
    return IBAB_PROBE in tf_checkpoint.load(checkpoint_prefix).get_variable_to_shape_map()
  except CheckpointError:
    return False


def read_ibab_params(wavenet_params) -> Tuple[dict, str]:
  """ibab's wavenet_params.json (its path, its dict, or our model ConfigDict) -> (fields, label).

  label names the source in messages: the json's path, 'wavenet_params' or 'the model config'.
  """
  if isinstance(wavenet_params, (str, os.PathLike)):
    label = os.fspath(wavenet_params)
    try:
      with open(label) as f:
        raw = json.load(f)
    except (OSError, ValueError) as err:
      raise ValueError(f'{label}: not a readable wavenet_params.json ({err})') from err
  elif isinstance(wavenet_params, ml_collections.ConfigDict):
    raw, label = wavenet_params.to_dict(), 'the model config'
  else:
    raw, label = wavenet_params, 'wavenet_params'
  if not isinstance(raw, dict):
    raise ValueError(f'{label}: not a wavenet_params.json (a JSON object of ibab\'s model fields)')
  missing = [k for k in _IBAB_REQUIRED if k not in raw]
  if missing:
    raise ValueError(f'{label}: has no {", ".join(missing)} (ibab\'s train.py reads '
                     f'{", ".join(_IBAB_REQUIRED)} from wavenet_params.json)')
  p = {**_IBAB_DEFAULTS, **{k: raw[k] for k in (*_IBAB_REQUIRED, *_IBAB_DEFAULTS) if k in raw}}
  p['dilations'] = tuple(int(d) for d in p['dilations'])
  return p, label


def _anonymous(scope, j):  # ibab's j-th bias in `scope` (see the module's docstring)
  return f'{scope}/Variable' + (f'_{j}' if j else '')


def ibab_wavenet_variables(p: dict, gc_cardinality: int = 0, gc_channels: int = _GC_CHANNELS
                           ) -> Dict[str, Tuple[str, Tuple[int, ...]]]:
  """{role: (checkpoint name, shape)} of ibab's model `p` (read_ibab_params), in its creation order.

  A role is the variable's path in ibab's `self.variables` dict ('dilated_stack/3/dense_bias'):
  the checkpoint names alone do not tell the biases apart.
  """
  r, d, s = p['residual_channels'], p['dilation_channels'], p['skip_channels']
  q, k = p['quantization_channels'], p['filter_width']
  out = {}
  if gc_cardinality:
    out['embeddings/gc_embedding'] = (IBAB_GC_EMBEDDING, (gc_cardinality, gc_channels))
  first = (p['initial_filter_width'], 1) if p['scalar_input'] else (k, q)
  out['causal_layer/filter'] = (IBAB_PROBE, first + (r,))
  for i in range(len(p['dilations'])):
    scope, role = f'wavenet/dilated_stack/layer{i}', f'dilated_stack/{i}'
    out[f'{role}/filter'] = (f'{scope}/filter', (k, r, d))
    out[f'{role}/gate'] = (f'{scope}/gate', (k, r, d))
    out[f'{role}/dense'] = (f'{scope}/dense', (1, d, r))
    out[f'{role}/skip'] = (f'{scope}/skip', (1, d, s))
    if gc_cardinality:
      out[f'{role}/gc_gateweights'] = (f'{scope}/gc_gate', (1, gc_channels, d))
      out[f'{role}/gc_filtweights'] = (f'{scope}/gc_filter', (1, gc_channels, d))
    if p['use_biases']:
      for j, (key, c) in enumerate((('filter_bias', d), ('gate_bias', d), ('dense_bias', r),
                                    ('skip_bias', s))):
        out[f'{role}/{key}'] = (_anonymous(scope, j), (c,))
  out['postprocessing/postprocess1'] = ('wavenet/postprocessing/postprocess1', (1, s, s))
  out['postprocessing/postprocess2'] = ('wavenet/postprocessing/postprocess2', (1, s, q))
  if p['use_biases']:
    out['postprocessing/postprocess1_bias'] = (_anonymous('wavenet/postprocessing', 0), (s,))
    out['postprocessing/postprocess2_bias'] = (_anonymous('wavenet/postprocessing', 1), (q,))
  return out


def ibab_model_config(p: dict, gc_cardinality: int = 0,
                      gc_channels: int = _GC_CHANNELS) -> ml_collections.ConfigDict:
  """Our model config (configs/default.py's model fields) of ibab's model `p`."""
  return ml_collections.ConfigDict(dict(
      kind='wavenet', filter_width=int(p['filter_width']), dilations=p['dilations'],
      residual_channels=int(p['residual_channels']), dilation_channels=int(p['dilation_channels']),
      skip_channels=int(p['skip_channels']), quantization_channels=int(p['quantization_channels']),
      mu_law='ibab', use_biases=bool(p['use_biases']), scalar_input=bool(p['scalar_input']),
      initial_filter_width=int(p['initial_filter_width']), gc_cardinality=int(gc_cardinality),
      gc_channels=int(gc_channels), gc_null_class=False, lc_channels=0, input_bias=False,
      input_skip=False))


def import_ibab_wavenet(checkpoint_prefix: str, wavenet_params,
                        gc_cardinality: Optional[int] = None, gc_channels: Optional[int] = None):
  """ibab/tensorflow-wavenet's TF1 checkpoint -> ({'params': ...}, model_config).

  wavenet_params: the wavenet_params.json it was trained with (path or dict; our model
  ConfigDict works too). gc_cardinality / gc_channels were ibab's command-line flags; None
  reads them from the checkpoint's gc_embedding (none: no global conditioning), a number is
  checked against it. WaveNet.from_config(model_config) is the model the params fit; the
  logits agree with ibab's wherever ibab has an output (its first receptive field - 1
  positions have none). Optimizer slots and step counters in the checkpoint are ignored.
  Raises CheckpointError whose first line names the first variable that does not fit,
  followed by every missing variable, unexpected variable and shape mismatch.
  """
  p, label = read_ibab_params(wavenet_params)
  reader = tf_checkpoint.load(checkpoint_prefix)
  stored = reader.get_variable_to_shape_map()  # {name: [dims]}
  gc_cardinality, gc_channels = _ibab_gc(checkpoint_prefix, stored, gc_cardinality, gc_channels)
  expected = ibab_wavenet_variables(p, gc_cardinality, gc_channels)
  _check_ibab_variables(checkpoint_prefix, stored, expected, p, label, gc_cardinality, gc_channels)

  tensors = {role: np.asarray(reader.get_tensor(name), np.float32)
             for role, (name, _) in expected.items()}
  config = ibab_model_config(p, gc_cardinality, gc_channels)
  params = {'params': ibab_to_params(tensors, config)}
  _check_wavenet_layout(params, config)
  logging.info('%s: imported %d variables of ibab\'s WaveNet (%d layers, %s input%s)',
               checkpoint_prefix, len(expected), len(p['dilations']),
               'scalar' if p['scalar_input'] else 'one-hot',
               f', {gc_cardinality} global classes' if gc_cardinality else '')
  return params, config


def ibab_class_rows(class_names, cardinality: int):
  """Row of each of our classes in an ibab gc embedding table: ibab's AudioReader makes a
  speaker's global id the number in its file names (p225_001.wav -> 225), so class 'p225'
  is row 225. -> [K] ints; CheckpointError naming a class with no number or out of range."""
  rows = []
  for name in class_names:
    match = re.search(r'\d+', name)
    if match is None or int(match.group()) >= cardinality:
      raise CheckpointError(f'class {name!r}: an ibab checkpoint ids its {cardinality} classes by the '
                            f'number in their file names (p225 -> row 225); this class has '
                            + ('none' if match is None else f'{match.group()}, out of range'))
    rows.append(int(match.group()))
  return rows


def _ibab_gc(prefix, stored, gc_cardinality, gc_channels):
  """(N, G) of the global condition: as given, else the checkpoint's gc_embedding [N, G]."""
  emb = tuple(stored.get(IBAB_GC_EMBEDDING, ()))
  if gc_cardinality is None:
    if not emb and any(n.endswith('/gc_filter') for n in stored):
      raise CheckpointError(f'{prefix}: has per-layer gc_filter/gc_gate but no {IBAB_GC_EMBEDDING}: '
                            'ibab\'s global condition fed as a dense vector (no gc_cardinality) '
                            'has no counterpart in our WaveNet, which embeds class ids')
    gc_cardinality = emb[0] if len(emb) == 2 else 0
  if gc_channels is None:
    gc_channels = emb[1] if len(emb) == 2 else _GC_CHANNELS
  return int(gc_cardinality), int(gc_channels)


def _check_ibab_variables(prefix, stored, expected, p, label, gc_cardinality, gc_channels):
  """CheckpointError unless `stored` ({name: shape}) holds exactly `expected` (+ training state)."""
  def shown(role, name):  # an anonymous bias also gets its role
    return f'{name} ({role.rsplit("/", 1)[-1]})' if re.search(r'/Variable(_\d+)?$', name) else name

  def source(role):  # what set the expected shape, with its verb
    if role.startswith('embeddings/'):
      return f'gc_cardinality {gc_cardinality} and gc_channels {gc_channels} give'
    return f'{label} with gc_channels {gc_channels} gives' if '/gc_' in role else f'{label} gives'

  names = {name for name, _ in expected.values()}
  missing = [(role, name, shape) for role, (name, shape) in expected.items() if name not in stored]
  mismatched = [(role, name, tuple(stored[name]), shape) for role, (name, shape) in expected.items()
                if name in stored and tuple(stored[name]) != shape]
  unexpected = [n for n in sorted(stored) if n not in names and not tf_checkpoint.is_training_state(n)]
  if not (missing or mismatched or unexpected):
    return
  if mismatched:
    role, name, got, want = mismatched[0]
    first = (f'{shown(role, name)} has shape {list(got)} in the checkpoint, '
             f'{source(role)} {list(want)}')
  elif missing:
    role, name, want = missing[0]
    first = f'{shown(role, name)} is not in the checkpoint, {source(role)} it {list(want)}'
  else:
    first = f'has {unexpected[0]} {list(stored[unexpected[0]])}, which {label} does not describe'
  counts = ', '.join([f'{tf_checkpoint.plural(len(missing), "variable")} missing', f'{len(unexpected)} unexpected',
                      tf_checkpoint.plural(len(mismatched), 'shape mismatch')])
  lines = [f'{prefix}: {first}', f'  not ibab\'s WaveNet of {label}: {counts}']
  # The two settings a wrong wavenet_params.json most often gets wrong, said plainly.
  layers = [int(m.group(1)) for n in stored
            for m in [re.match(r'wavenet/dilated_stack/layer(\d+)/', n)] if m]
  if layers and max(layers) + 1 != len(p['dilations']):
    lines.append(f'  the checkpoint has {max(layers) + 1} dilated layers, {label} lists '
                 f'{len(p["dilations"])} dilations')
  has_biases = any(re.match(r'wavenet/(dilated_stack/layer\d+|postprocessing)/Variable', n)
                   for n in stored)
  if has_biases != bool(p['use_biases']):
    lines.append(f'  the checkpoint has {"" if has_biases else "no "}biases, {label} gives '
                 f'use_biases {p["use_biases"]}')
  for title, items in (
      ('missing', [f'{shown(r, n)} {list(s)}' for r, n, s in missing]),
      ('unexpected', [f'{n} {list(stored[n])}' for n in unexpected]),
      ('shape mismatch', [f'{shown(r, n)}: checkpoint {list(g)} vs {list(w)}'
                          for r, n, g, w in mismatched])):
    if items:
      lines.append(f'  {title}: ' + ', '.join(items))
  raise CheckpointError('\n'.join(lines))


def ibab_to_params(t: Dict[str, np.ndarray], config: ml_collections.ConfigDict) -> dict:
  """{role: array} (as ibab_wavenet_variables) -> our WaveNet's params (without 'params')."""
  def dense(role):  # a 1x1 conv [1, C_in, C_out] -> [C_in, C_out]
    return t[role][0]

  def fg(i, a, b):  # ibab's filter and gate halves -> ours [..., 2D], filter first
    return np.concatenate([t[f'dilated_stack/{i}/{a}'], t[f'dilated_stack/{i}/{b}']], axis=-1)

  n, biased = len(config.dilations), config.use_biases
  out = {'causal': {'kernel': t['causal_layer/filter']},  # [k0, Q or 1, R]
         'skip_kernel': np.stack([dense(f'dilated_stack/{i}/skip') for i in range(n)]),  # [L, D, S]
         'out1': {'kernel': dense('postprocessing/postprocess1')},
         'out2': {'kernel': dense('postprocessing/postprocess2')}}
  for i in range(n):
    layer = {'filter_gate': {'kernel': fg(i, 'filter', 'gate')},  # [k, R, 2D]
             'dense': {'kernel': dense(f'dilated_stack/{i}/dense')}}
    if biased:
      layer['filter_gate']['bias'] = fg(i, 'filter_bias', 'gate_bias')
      layer['dense']['bias'] = t[f'dilated_stack/{i}/dense_bias']
    out[f'layer_{i}'] = layer
  if biased:
    # float64 sum: one rounding instead of L.
    out['skip_bias'] = np.sum([t[f'dilated_stack/{i}/skip_bias'] for i in range(n)], axis=0,
                              dtype=np.float64).astype(np.float32)
    out['out1']['bias'] = t['postprocessing/postprocess1_bias']
    out['out2']['bias'] = t['postprocessing/postprocess2_bias']
  if config.gc_cardinality:
    out['gc_embedding'] = t['embeddings/gc_embedding']  # [N, G]
    out['gc_proj'] = np.stack([np.concatenate([dense(f'dilated_stack/{i}/gc_filtweights'),
                                               dense(f'dilated_stack/{i}/gc_gateweights')], axis=-1)
                               for i in range(n)])  # [L, G, 2D]
  return out


def _check_wavenet_layout(params, config):
  """Our WaveNet's own params tree must be exactly what the ibab mapping built (guards renames)."""
  model = WaveNet.from_config(config)
  inputs = (jnp.zeros((1, 1), jnp.float32) if config.scalar_input else jnp.zeros((1, 1), jnp.int32))
  gc_ids = jnp.zeros((1,), jnp.int32) if config.gc_cardinality else None
  want = jax.eval_shape(model.init, jax.random.key(0), inputs, gc_ids)
  tf_checkpoint.check_layout(params, want, 'the ibab mapping no longer builds the WaveNet\'s params')
