"""The WaveNet decoder (van den Oord et al. 2016) as ibab/tensorflow-wavenet builds it.

input -> causal conv -> L gated residual blocks (dilated) -> sum of skips
      -> ReLU -> 1x1 -> (+ local condition) -> ReLU -> 1x1 -> the output distribution's
      parameters (models/heads.py): logits over Q mu-law classes, or a discretized mixture
      of logistics or Gaussian over 16-bit levels.

Global conditioning (an id per example: speaker, genre) is an embedding projected into
every block's filter and gate. Local conditioning (features per time step, already at
the sample rate: NSynth embeddings, mels) is projected into every block and the head.
"""
from typing import Optional, Sequence

import flax.linen as nn
import jax.numpy as jnp
import ml_collections

from wavenet_jax.common.config_checks import ConfigError, positive_int
from wavenet_jax.models import heads, layers

# ibab's wavenet_params.json: 1, 2, ..., 512 five times.
IBAB_DILATIONS = tuple(2**i for i in range(10)) * 5
# Fields added after the first checkpoints were saved: a model config without them means the defaults.
_LATER_FIELDS = ('input_bias', 'input_skip', 'output', 'num_mixtures', 'log_scale_min')


def check_config(m) -> None:
  """config.model's WaveNet fields: one line naming a bad key."""
  if not isinstance(m.dilations, (tuple, list)) or not m.dilations or not all(
      positive_int(x) for x in m.dilations):
    raise ConfigError(f'model.dilations={m.dilations!r}: must be a non-empty list of positive integers')
  for key in ('filter_width', 'residual_channels', 'dilation_channels', 'skip_channels',
              'initial_filter_width', 'gc_channels'):
    if not positive_int(m[key]):
      raise ConfigError(f'model.{key}={m[key]!r}: must be a positive integer')
  if not positive_int(m.quantization_channels) or m.quantization_channels < 2:
    raise ConfigError(f'model.quantization_channels={m.quantization_channels!r}: must be an integer >= 2')
  if not isinstance(m.gc_cardinality, int) or m.gc_cardinality < -1:
    raise ConfigError(f'model.gc_cardinality={m.gc_cardinality!r}: 0 (off), -1 (from the dataset) or a count')
  if m.input_bias and not m.scalar_input:
    raise ConfigError('model.input_bias: only the scalar-input first conv has a bias (set model.scalar_input)')


def receptive_field(filter_width, dilations, scalar_input=False, initial_filter_width=32):
  """Samples of input each prediction sees (ibab's formula): 5,117 for the defaults."""
  stack = (filter_width - 1) * sum(dilations) + 1
  first = initial_filter_width if scalar_input else filter_width
  return stack + first - 1


class WaveNet(nn.Module):
  filter_width: int = 2
  dilations: Sequence[int] = IBAB_DILATIONS
  residual_channels: int = 32
  dilation_channels: int = 32
  skip_channels: int = 512
  quantization_channels: int = 256
  use_biases: bool = True
  scalar_input: bool = False
  initial_filter_width: int = 32
  gc_cardinality: int = 0       # 0: no global conditioning.
  gc_channels: int = 32
  lc_channels: int = 0          # 0: no local conditioning.
  input_bias: bool = False      # NSynth: the first conv has a bias (ibab's has none).
  input_skip: bool = False      # NSynth: the first conv's output also feeds the skip sum (1x1).
  output: str = 'categorical'   # categorical | logistic_mixture | gaussian (models/heads.py).
  num_mixtures: int = 10        # logistic_mixture: components.
  log_scale_min: float = -7.0   # continuous heads: floor of the log scales.

  @classmethod
  def from_config(cls, model: ml_collections.ConfigDict) -> 'WaveNet':
    """config.model (or a checkpoint's meta['model']: the fields it predates keep their defaults above)."""
    later = {key: model[key] for key in _LATER_FIELDS if key in model}
    return cls(
        filter_width=model.filter_width, dilations=tuple(model.dilations),
        residual_channels=model.residual_channels, dilation_channels=model.dilation_channels,
        skip_channels=model.skip_channels, quantization_channels=model.quantization_channels,
        use_biases=model.use_biases, scalar_input=model.scalar_input,
        initial_filter_width=model.initial_filter_width, gc_cardinality=model.gc_cardinality,
        gc_channels=model.gc_channels, lc_channels=model.lc_channels, **later)

  @property
  def output_channels(self) -> int:
    """Channels of the last 1x1 conv: the output distribution's parameters per sample."""
    return heads.channels(self.output, self.quantization_channels, self.num_mixtures)

  @property
  def input_filter_width(self) -> int:
    """Taps of the first (causal) conv: initial_filter_width for scalar input."""
    return self.initial_filter_width if self.scalar_input else self.filter_width

  @property
  def receptive_field(self) -> int:
    return receptive_field(self.filter_width, self.dilations, self.scalar_input,
                           self.initial_filter_width)

  def setup(self):
    r, d, s, n = self.residual_channels, self.dilation_channels, self.skip_channels, len(self.dilations)
    if self.scalar_input:
      self.causal = layers.CausalConv(1, r, self.initial_filter_width, use_bias=self.input_bias,
                                      name='causal')
    else:
      self.causal = layers.CausalEmbed(self.quantization_channels, r, self.filter_width, name='causal')
    self.blocks = [
        layers.ResidualBlock(r, d, self.filter_width, dilation, self.use_biases, name=f'layer_{i}')
        for i, dilation in enumerate(self.dilations)
    ]
    # All blocks' skip 1x1 convs as one [L·D, S] matmul: the largest FLOP item of the
    # model, and one big matmul runs near peak where 50 thin ones do not.
    self.skip_kernel = self.param('skip_kernel', layers.glorot, (n, d, s))
    if self.use_biases:
      self.skip_bias = self.param('skip_bias', layers.zeros, (s,))  # = sum of per-layer biases.
    if self.input_skip:
      self.input_skip_kernel = self.param('input_skip_kernel', layers.glorot, (r, s))
    if self.gc_cardinality:
      self.gc_embedding = self.param('gc_embedding', layers.glorot,
                                     (self.gc_cardinality, self.gc_channels))
      self.gc_proj = self.param('gc_proj', layers.glorot, (n, self.gc_channels, 2 * d))
    if self.lc_channels:
      self.lc_proj = self.param('lc_proj', layers.glorot, (n, self.lc_channels, 2 * d))
      self.lc_out = layers.Dense(self.lc_channels, s, use_bias=False, name='lc_out')
    self.out1 = layers.Dense(s, s, self.use_biases, name='out1')
    self.out2 = layers.Dense(s, self.output_channels, self.use_biases, name='out2')

  def global_condition(self, gc_ids):  # [B] -> [B, L, 2D] (or None)
    if not self.gc_cardinality:
      return None
    if gc_ids is None:
      raise ValueError('this WaveNet is globally conditioned (gc_cardinality '
                       f'{self.gc_cardinality}): pass gc_ids')
    return jnp.einsum('be,lef->blf', self.gc_embedding[gc_ids], self.gc_proj)

  def _layer_condition(self, i, gc, lc, per_step=False):  # -> [B, T or 1, 2D], per step [B, 2D]
    cond = None if gc is None else (gc[:, i] if per_step else gc[:, i, None, :])
    if lc is not None:
      lc_i = layers.affine(lc, self.lc_proj[i])
      cond = lc_i if cond is None else cond + lc_i
    return cond

  def skips_to_logits(self, z, lc=None, x0=None):  # [..., L·D], [..., Lc], [..., R] -> [..., C]
    h = layers.affine(z, self.skip_kernel.reshape(-1, self.skip_channels))
    if self.input_skip:
      h = h + layers.affine(x0, self.input_skip_kernel)
    if self.use_biases:
      h = h + self.skip_bias
    h = self.out1(nn.relu(h))
    if self.lc_channels:
      h = h + self.lc_out(lc)
    return self.out2(nn.relu(h))

  def _check_lc(self, lc):
    if bool(self.lc_channels) != (lc is not None):
      raise ValueError(f'lc_channels is {self.lc_channels} but lc was '
                       f'{"not " if lc is None else ""}given')

  def __call__(self, inputs, gc_ids=None, lc=None, num_outputs: Optional[int] = None):
    """Teacher-forced logits for every position, or for the last `num_outputs`.

    inputs: [B, T] int class ids (one-hot input) or float samples (scalar input).
    gc_ids: [B] int, lc: [B, T, Lc] float. Returns [B, T or num_outputs, C]: logits
    (categorical, C = Q) or the continuous head's parameters.
    """
    return self._forward(inputs, gc_ids, lc, num_outputs)[0]

  def prefill(self, inputs, gc_ids=None, lc=None, start=None):
    """One parallel pass over a prime: (outputs [B, T, C], queues as if stepped through it).

    start [B]: each stream's first input; the inputs before it are "before the start" (the
    one-hot sentinel id or 0.0, as generation.generate.pad_primes lays them out) and every
    layer sees zeros there, so primes of several lengths fill the queues each as alone.
    """
    logits, layer_inputs = self._forward(inputs, gc_ids, lc, None, keep_layer_inputs=True, start=start)
    t = inputs.shape[1]
    empty = self.init_queues(inputs.shape[0])
    first = inputs[..., None] if self.scalar_input else inputs
    queues = {'t': jnp.asarray(t, jnp.int32), 'input': _fill_ring(empty['input'], first),
              'blocks': tuple(_fill_ring(q, h) for q, h in zip(empty['blocks'], layer_inputs))}
    return logits, queues

  def _forward(self, inputs, gc_ids, lc, num_outputs, keep_layer_inputs=False, start=None):
    self._check_lc(lc)
    t = inputs.shape[1]
    n = t if num_outputs is None else num_outputs
    x = self.causal(inputs[..., None] if self.scalar_input else inputs)  # [B, T, R]
    x0 = x[:, t - n:]
    gc = self.global_condition(gc_ids)
    started = None if start is None else (jnp.arange(t)[None, :] >= start[:, None])[..., None]  # [B, T, 1]
    zs, layer_inputs = [], []
    for i, block in enumerate(self.blocks):
      if started is not None:  # a layer's history before a stream's start is zero, as in init_queues
        x = jnp.where(started, x, 0.0)
      if keep_layer_inputs:
        layer_inputs.append(x)
      z, x = block(x, self._layer_condition(i, gc, lc))
      zs.append(z[:, t - n:])  # only positions that reach the loss feed the skip path.
    z = jnp.concatenate(zs, axis=-1)  # [B, n, L·D]
    return self.skips_to_logits(z, None if lc is None else lc[:, t - n:], x0), layer_inputs

  # ------------------------------------------------------------ one step at a time

  def init_queues(self, batch_size):
    """Zero state = the zero padding the full forward pass sees before t = 0."""
    k0 = self.input_filter_width
    if self.scalar_input:
      first = jnp.zeros((batch_size, layers.queue_size(k0, 1), 1), jnp.float32)
    else:  # the sentinel id `quantization_channels` reads as "before the start" (zero row).
      first = jnp.full((batch_size, layers.queue_size(k0, 1)), self.quantization_channels, jnp.int32)
    blocks = tuple(jnp.zeros((batch_size, layers.queue_size(self.filter_width, d),
                              self.residual_channels), jnp.float32) for d in self.dilations)
    return {'t': jnp.zeros((), jnp.int32), 'input': first, 'blocks': blocks}

  def step(self, queues, x_t, gc=None, lc_t=None):
    """One sample: x_t [B] (id or float), gc [B, L, 2D] from `global_condition`, lc_t [B, Lc].

    Same parameters and layer code as `__call__`; returns (outputs [B, C], queues).
    """
    self._check_lc(lc_t)
    t = queues['t']
    x_t = x_t[:, None] if self.scalar_input else x_t
    first_slots = layers.queue_slots(t, self.input_filter_width, (1,))[0]
    taps, first = layers.queue_step(queues['input'], first_slots, x_t)
    h = x0 = self.causal.step(taps)  # [B, R]
    slots = layers.queue_slots(t, self.filter_width, self.dilations)  # [L, k]
    new_blocks, zs = [], []
    for i, (block, queue) in enumerate(zip(self.blocks, queues['blocks'])):
      cond = self._layer_condition(i, gc, lc_t, per_step=True)
      taps, queue = layers.queue_step(queue, slots[i], h)
      new_blocks.append(queue)
      z, h = block.step(taps, cond)
      zs.append(z)
    logits = self.skips_to_logits(jnp.concatenate(zs, axis=-1), lc_t, x0)
    return logits, {'t': t + 1, 'input': first, 'blocks': tuple(new_blocks)}


def _fill_ring(empty, history):
  """The ring buffer `empty` ([B, M, ...]) holding the last M entries of history [B, T, ...].

  Slot s holds time τ ≡ s (mod M); times before 0 keep the empty queue's fill value.
  """
  m, t = empty.shape[1], history.shape[1]
  padded = jnp.concatenate([empty, history.astype(empty.dtype)], axis=1)[:, -m:]  # times t-M .. t-1
  return jnp.roll(padded, t % m, axis=1)
