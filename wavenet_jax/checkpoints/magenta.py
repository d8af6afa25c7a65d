"""magenta's NSynth WaveNet autoencoder checkpoint (TF1, h512_bo16) -> our params.

magenta builds the model in magenta/models/nsynth/wavenet/h512_bo16.py (Config.build)
from masked.conv1d, which makes, in a variable scope per layer (no outer scope):
  W [1, k, C_in, C_out]  (a conv2d kernel over a height-1 image; tap 0 the oldest sample),
  biases [C_out].
Its causal convs pad k-1 zeros on the left after time_to_batch (so tap j reads
x[t - (k-1-j)·d], as ours), its encoder convs use TF 'SAME' (= lax 'SAME' for odd k).

Where the two models differ only in how the same function is written:
  gate      magenta: sigmoid(first half) · tanh(second half); ours: tanh(first) · sigmoid(second)
            -> the output halves of dilatedconv_i and cond_map_i swap.
  cond bias magenta's cond_map_i / cond_map_out1 have biases; our lc projections have none
            -> they fold into filter_gate's and out1's biases (the condition is added to both).
  skips     magenta: skip_start(l) + Σ skip_i(d), each with a bias; ours one [L, D, S] kernel,
            the first conv's 1x1 and one bias -> skip_bias = skip_start + Σ skip_i biases.

Training (wavenet/train.py) keeps ExponentialMovingAverage shadows of every trainable
variable, saved as `<name>/ExponentialMovingAverage`. magenta's first embedding script
(wavenet/save_embeddings.py) restored those; its later fastgen.py restores the raw names.
The shadows are preferred when the checkpoint has them (use_ema=False reads the raw ones).
"""
from typing import Dict, Optional, Tuple

from absl import logging
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from wavenet_jax.checkpoints import tf_checkpoint
from wavenet_jax.checkpoints.checkpointing import CheckpointError
from wavenet_jax.models import nsynth

EMA_SUFFIX = '/ExponentialMovingAverage'


def magenta_nsynth_variables(model_config: ml_collections.ConfigDict) -> Dict[str, Tuple[int, ...]]:
  """{magenta variable name: shape} of the NSynth autoencoder `model_config` describes."""
  m, e = model_config, model_config.encoder
  if e.filter_width % 2 == 0:
    # TF pads 'SAME' after time_to_batch, lax before dilating: they agree only for odd k.
    raise ValueError(f'encoder.filter_width {e.filter_width}: magenta\'s non-causal conv and '
                     'ours place an even filter differently; only odd widths import')
  if not (m.use_biases and m.get('input_bias') and m.get('input_skip') and m.scalar_input
          and m.lc_channels and not m.gc_cardinality):
    raise ValueError('model: magenta\'s NSynth decoder has use_biases, input_bias, input_skip, '
                     'scalar_input, local conditioning (lc_channels) and no global conditioning')
  r, d, s, k = m.residual_channels, m.dilation_channels, m.skip_channels, m.filter_width
  lc, q, w = m.lc_channels, m.quantization_channels, e.width

  shapes = {}
  def conv(name, c_in, c_out, width=1):
    shapes[f'{name}/W'] = (1, width, c_in, c_out)
    shapes[f'{name}/biases'] = (c_out,)

  conv('ae_startconv', 1, w, e.filter_width)
  for i in range(len(e.dilations)):
    conv(f'ae_dilatedconv_{i + 1}', w, w, e.filter_width)
    conv(f'ae_res_{i + 1}', w, w)
  conv('ae_bottleneck', w, e.bottleneck)
  conv('startconv', 1, r, m.initial_filter_width)
  conv('skip_start', r, s)
  for i in range(len(m.dilations)):
    conv(f'dilatedconv_{i + 1}', r, 2 * d, k)
    conv(f'cond_map_{i + 1}', lc, 2 * d)
    conv(f'res_{i + 1}', d, r)
    conv(f'skip_{i + 1}', d, s)
  conv('out1', s, s)
  conv('cond_map_out1', lc, s)
  conv('logits', s, q)
  return shapes


def import_magenta_nsynth(checkpoint_prefix: str,
                          model_config: Optional[ml_collections.ConfigDict] = None,
                          use_ema: bool = True):
  """magenta's TF1 NSynth checkpoint -> {'params': ...} for nsynth.from_config(model_config).

  model_config defaults to nsynth.h512_bo16_config() (the released model). With use_ema
  the ExponentialMovingAverage shadows are read when the checkpoint has any (all of them
  must then be there); otherwise the raw variables. Raises CheckpointError listing every
  missing variable, unexpected variable and shape mismatch when the checkpoint is not
  this model.
  """
  config = model_config if model_config is not None else nsynth.h512_bo16_config()
  expected = magenta_nsynth_variables(config)
  reader = tf_checkpoint.load(checkpoint_prefix)
  stored = reader.get_variable_to_shape_map()  # {name: [dims]}

  ema = use_ema and any(name + EMA_SUFFIX in stored for name in expected)
  source = {name: name + EMA_SUFFIX if ema else name for name in expected}
  missing = [source[n] for n in expected if source[n] not in stored]
  unexpected = sorted(n for n in stored if n.removesuffix(EMA_SUFFIX) not in expected
                      and not tf_checkpoint.is_training_state(n))
  mismatched = [f'{source[n]}: checkpoint {list(stored[source[n]])} vs model {list(shape)}'
                for n, shape in expected.items()
                if source[n] in stored and tuple(stored[source[n]]) != shape]
  if missing or unexpected or mismatched:
    counts = ', '.join([f'{tf_checkpoint.plural(len(missing), "variable")} missing',
                        f'{len(unexpected)} unexpected',
                        tf_checkpoint.plural(len(mismatched), 'shape mismatch')])
    lines = [f'{checkpoint_prefix}: not magenta\'s NSynth autoencoder of this model config '
             f'({"EMA shadows" if ema else "raw variables"}): {counts}']
    for title, items in (('missing', missing), ('unexpected', unexpected),
                         ('shape mismatch', mismatched)):
      if items:
        lines.append(f'  {title}: ' + ', '.join(items))
    raise CheckpointError('\n'.join(lines))

  tensors = {n: np.asarray(reader.get_tensor(source[n]), np.float32) for n in expected}
  params = {'params': to_params(tensors, config)}
  _check_layout(params, config)
  logging.info('%s: imported %d variables from the %s', checkpoint_prefix, len(expected),
               'ExponentialMovingAverage shadows' if ema else 'raw (not averaged) variables')
  return params


def to_params(t: Dict[str, np.ndarray], config: ml_collections.ConfigDict) -> dict:
  """{magenta name: array} (shapes as magenta_nsynth_variables) -> our autoencoder's params."""
  def kernel(name):  # [1, k, C_in, C_out] -> [k, C_in, C_out]
    return t[f'{name}/W'][0]

  def dense(name):  # [1, 1, C_in, C_out] -> [C_in, C_out]
    return t[f'{name}/W'][0, 0]

  def bias(name):
    return t[f'{name}/biases']

  def swap(a):  # [..., 2D] magenta's [sigmoid | tanh] -> ours [tanh | sigmoid]
    half = a.shape[-1] // 2
    return np.concatenate([a[..., half:], a[..., :half]], axis=-1)

  n_enc, n_dec = len(config.encoder.dilations), len(config.dilations)
  encoder = {'start': {'kernel': kernel('ae_startconv'), 'bias': bias('ae_startconv')},
             'bottleneck': {'kernel': dense('ae_bottleneck'), 'bias': bias('ae_bottleneck')}}
  for i in range(n_enc):
    encoder[f'dilated_{i}'] = {'kernel': kernel(f'ae_dilatedconv_{i + 1}'),
                               'bias': bias(f'ae_dilatedconv_{i + 1}')}
    encoder[f'res_{i}'] = {'kernel': dense(f'ae_res_{i + 1}'), 'bias': bias(f'ae_res_{i + 1}')}

  decoder = {
      'causal': {'kernel': kernel('startconv'), 'bias': bias('startconv')},
      'input_skip_kernel': dense('skip_start'),
      'skip_kernel': np.stack([dense(f'skip_{i + 1}') for i in range(n_dec)]),  # [L, D, S]
      'skip_bias': bias('skip_start') + sum(bias(f'skip_{i + 1}') for i in range(n_dec)),
      'lc_proj': np.stack([swap(dense(f'cond_map_{i + 1}')) for i in range(n_dec)]),  # [L, Lc, 2D]
      'lc_out': {'kernel': dense('cond_map_out1')},
      'out1': {'kernel': dense('out1'), 'bias': bias('out1') + bias('cond_map_out1')},
      'out2': {'kernel': dense('logits'), 'bias': bias('logits')},
  }
  for i in range(n_dec):
    decoder[f'layer_{i}'] = {
        'filter_gate': {'kernel': swap(kernel(f'dilatedconv_{i + 1}')),
                        'bias': swap(bias(f'dilatedconv_{i + 1}') + bias(f'cond_map_{i + 1}'))},
        'dense': {'kernel': dense(f'res_{i + 1}'), 'bias': bias(f'res_{i + 1}')},
    }
  return {'encoder': encoder, 'decoder': decoder}


def _check_layout(params, config):
  """Our model's own params tree must be exactly what the mapping built (guards renames)."""
  model = nsynth.from_config(config)
  want = jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, config.encoder.hop)))
  tf_checkpoint.check_layout(params, want, 'the magenta mapping no longer builds the Autoencoder\'s params')
