"""Fast generation as Pallas kernels: one step of the whole WaveNet per launch, or a chunk.

`generate.step` runs every layer as a few XLA ops of its own, so on a GPU one sample costs
tens of kernel launches and a single stream is launch-bound (why nv-wavenet is one CUDA
kernel). Here one `pallas_call` per sample does all of it: the one-hot input conv, every
layer's ring-buffer read and write, gated unit, residual and skip matmuls, and the
categorical head. Same params and queue pytrees in and out as `generate.step`, float32
with full-precision dots; `interpret=True` runs the same kernel on a CPU (the tests do).
On a GPU it lowers through Pallas's Triton backend: in-kernel arrays must have power-of-two
sizes, which `check` enforces on the channel widths.
`generate_chunk`, the persistent kernel (nv-wavenet's design): one launch draws and feeds back
N samples in a loop inside the kernel, the queues in the kernel's own buffers: one launch per
chunk, not per sample (whether the weights stay in registers across the loop is Triton's call).
"""
import functools

import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl
from jax.experimental.pallas import triton as plt

from wavenet_jax.generation.generate import full_precision
from wavenet_jax.models.wavenet import WaveNet

_CONDITIONING = ('gc_embedding', 'gc_proj', 'lc_proj', 'lc_out')  # applied outside the kernel
_POW2 = ('residual_channels', 'dilation_channels', 'skip_channels', 'quantization_channels')


def check(model: WaveNet, interpret: bool = False, block_b: int = 16) -> None:
  """A one-line ValueError naming the first config field this kernel cannot run."""
  if model.output != 'categorical':
    raise ValueError(f'model.output={model.output!r}: the Pallas step supports the categorical head only')
  if model.scalar_input:
    raise ValueError('model.scalar_input=True: the Pallas step supports one-hot input only')
  if interpret:
    return
  for field in _POW2:  # Triton's tensors (every load, store and dot) have power-of-two sizes
    value = getattr(model, field)
    if value & (value - 1):
      raise ValueError(f'model.{field}={value}: the Pallas step on a GPU (Triton) needs a power of two')
  if block_b & (block_b - 1):
    raise ValueError(f'block_b={block_b}: the Pallas step on a GPU (Triton) needs a power of two')


def _slot(t, size, lag):
  """Ring slot of time t - lag in a ring of `size` (layers.queue_slots, one tap)."""
  return jax.lax.rem(t + (size - lag) % size, size)


def _network(model, w, ring, ring_out, ids_now, cond_ref, head_ref, t):
  """The network at step t for a block of bB streams: logits [bB, Q]. ring: the refs the
  queues are read from ({'input': [bB, k] ids, 'blocks': ([bB, M_i, R], ...)}), ring_out the
  refs this step's entries are written to (the same buffers, aliased); ids_now [bB] the
  inputs, cond_ref [bB, L, 2D] and head_ref [bB, S] or None, w = params['params'] without
  the conditioning projections (refs of whole arrays)."""
  k, d, q = model.filter_width, model.dilation_channels, model.quantization_channels
  dot = functools.partial(jnp.dot, precision=jax.lax.Precision.HIGHEST,
                          preferred_element_type=jnp.float32)
  bb = ids_now.shape[0]

  # Input conv on one-hot ids, as a one-hot matmul: exactly CausalEmbed's row lookup (one
  # product w·1 plus zeros), and the sentinel id Q ("before the start") matches no class.
  classes = jax.lax.broadcasted_iota(jnp.int32, (bb, q), 1)  # [bB, Q]
  x0 = None
  for j in range(k):  # taps oldest first; the newest is this step's input
    ids = ids_now if j == k - 1 else ring['input'][:, _slot(t, k, k - 1 - j)]  # [bB]
    row = dot((ids[:, None] == classes).astype(jnp.float32), w['causal']['kernel'][j])  # [bB, R]
    x0 = row if x0 is None else x0 + row
  ring_out['input'][:, _slot(t, k, 0)] = ids_now

  h, skip = x0, None  # [bB, R], [bB, S]
  for i, dilation in enumerate(model.dilations):
    size = (k - 1) * dilation + 1
    queue, layer = ring['blocks'][i], w[f'layer_{i}']
    # Older taps come from the ring (written by earlier steps); the newest is h itself.
    taps = [queue[:, _slot(t, size, (k - 1 - j) * dilation), :] for j in range(k - 1)] + [h]  # [bB, R] each
    fg = layer['filter_gate']
    f = sum(dot(tap, fg['kernel'][j, :, :d]) for j, tap in enumerate(taps))  # [bB, D]
    g = sum(dot(tap, fg['kernel'][j, :, d:]) for j, tap in enumerate(taps))  # [bB, D]
    if model.use_biases:
      f, g = f + fg['bias'][:d], g + fg['bias'][d:]
    if cond_ref is not None:
      f, g = f + cond_ref[:, i, :d], g + cond_ref[:, i, d:]
    z = jnp.tanh(f) * jax.nn.sigmoid(g)  # [bB, D]
    part = dot(z, w['skip_kernel'][i])  # [bB, S]
    skip = part if skip is None else skip + part
    ring_out['blocks'][i][:, _slot(t, size, 0), :] = h
    if i + 1 < len(model.dilations):  # the last layer's residual output feeds nothing
      h = h + dot(z, layer['dense']['kernel'][...])
      if model.use_biases:
        h = h + layer['dense']['bias'][...]

  if model.input_skip:
    skip = skip + dot(x0, w['input_skip_kernel'][...])
  if model.use_biases:
    skip = skip + w['skip_bias'][...]
  out = dot(jnp.maximum(skip, 0.0), w['out1']['kernel'][...])  # [bB, S]
  if model.use_biases:
    out = out + w['out1']['bias'][...]
  if head_ref is not None:
    out = out + head_ref[...]
  logits = dot(jnp.maximum(out, 0.0), w['out2']['kernel'][...])  # [bB, Q]
  if model.use_biases:
    logits = logits + w['out2']['bias'][...]
  return logits


def _kernel(model, ring, x_ref, cond_ref, head_ref, t_ref, w, ring_out, logits_ref):
  """One step for one batch block (refs as _network's; x_ref [bB] ids, t_ref [1], logits_ref [bB, Q])."""
  logits_ref[...] = _network(model, w, ring, ring_out, x_ref[...], cond_ref, head_ref, t_ref[0])


def _rows_spec(bb):
  """BlockSpec of a [B, ...] array cut into blocks of bB streams (grid index i)."""
  def spec(a):
    rest = a.ndim - 1
    return pl.BlockSpec((bb,) + a.shape[1:], lambda i: (i,) + (0,) * rest)
  return spec


def _whole_spec(a):
  """The whole array in every program: weights and the step counter."""
  zeros = (0,) * a.ndim
  return pl.BlockSpec(a.shape, lambda i: zeros)


def _launch(kernel, params, queues, per_stream, outputs, steps, block_b, interpret, name):
  """Runs kernel(rings, *per_stream, t, weights, ring outputs, *outputs) over blocks of
  min(block_b, B rounded up to a power of two) streams -> (outputs [B, ...], queues after
  `steps` steps). The rings are aliased in place, per_stream arrays [B, ...] (or None) cut into
  the blocks, t and the weights (params['params'] without the conditioning projections) whole;
  outputs: ShapeDtypeStructs [B, ...]. A batch that is no multiple of the block is padded,
  which copies the queues (keep B a multiple of block_b on a GPU: the rings are then updated
  in place)."""
  b = queues['input'].shape[0]
  bb = min(block_b, pl.next_power_of_2(b))
  pad = -b % bb

  def rows(a):  # [B, ...] -> [B + pad, ...]
    return a if a is None or not pad else jnp.pad(a, [(0, pad)] + [(0, 0)] * (a.ndim - 1))

  ring = {'input': rows(queues['input']), 'blocks': tuple(rows(a) for a in queues['blocks'])}
  batched = (ring,) + tuple(rows(a) for a in per_stream)
  shared = (jnp.reshape(queues['t'], (1,)).astype(jnp.int32),
            {name: v for name, v in params['params'].items() if name not in _CONDITIONING})
  out_shape = (jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), ring),) + tuple(
      jax.ShapeDtypeStruct((b + pad,) + o.shape[1:], o.dtype) for o in outputs)
  n_ring = len(jax.tree.leaves(ring))  # flattened first, in and out: alias them in place
  ring_out, *outs = pl.pallas_call(
      kernel,
      out_shape=out_shape,
      grid=((b + pad) // bb,),
      in_specs=jax.tree.map(_rows_spec(bb), batched) + jax.tree.map(_whole_spec, shared),
      out_specs=jax.tree.map(_rows_spec(bb), out_shape),
      input_output_aliases={i: i for i in range(n_ring)},
      compiler_params=plt.CompilerParams(num_warps=4),
      interpret=interpret,
      name=name,
  )(*batched, *shared)
  return [o[:b] for o in outs], {'t': queues['t'] + steps, 'input': ring_out['input'][:b],
                                 'blocks': tuple(a[:b] for a in ring_out['blocks'])}


@full_precision
def step(model: WaveNet, params, queues, x_t, gc_ids=None, lc_t=None, interpret=False, block_b=16):
  """(logits [B, Q], queues) for one input id per stream, as `generate.step`, in one kernel.

  x_t [B] int ids, gc_ids [B], lc_t [B, Lc]; streams in blocks of block_b (`_launch`).
  """
  check(model, interpret, block_b)
  if bool(model.lc_channels) != (lc_t is not None):
    raise ValueError(f'lc_channels is {model.lc_channels} but lc_t was {"not " if lc_t is None else ""}given')
  p = params['params']
  # Conditioning is per stream, not per sample (gc) or one small matmul (lc): projected to
  # every layer's [2D] here, as WaveNet._layer_condition does, and added in the kernel.
  cond = None if gc_ids is None else model.apply(params, gc_ids, method=WaveNet.global_condition)  # [B, L, 2D]
  head = None
  if lc_t is not None:
    lc_cond = jnp.einsum('bc,lcf->blf', lc_t, p['lc_proj'])  # [B, L, 2D]
    cond = lc_cond if cond is None else cond + lc_cond
    head = lc_t @ p['lc_out']['kernel']  # [B, S]
  logits = jax.ShapeDtypeStruct((x_t.shape[0], model.quantization_channels), jnp.float32)
  (logits,), queues = _launch(functools.partial(_kernel, model), params, queues,
                              (jnp.asarray(x_t, jnp.int32), cond, head), (logits,), 1, block_b, interpret,
                              'wavenet_step')
  return logits, queues


# ----------------------------------------------------------------- the persistent kernel
# nv-wavenet's design: one launch generates a chunk of N samples, every step's queue reads and
# writes in the kernel's own buffers, instead of one launch per sample.

def _chunk_kernel(model, num_samples, ring, logits_ref, u_ref, t_ref, w, ring_out, classes_out, logits_out):
  """N samples for one batch block: draw from the logits (sampling.sample's inverse CDF at
  temperature 1 with the uniforms u_ref [bB, N]), feed the class back, step the network.
  logits_ref [bB, Q]: the logits the first sample is drawn from; classes_out [bB, N]."""
  q = model.quantization_channels
  dot = functools.partial(jnp.dot, precision=jax.lax.Precision.HIGHEST, preferred_element_type=jnp.float32)
  upper = (jax.lax.broadcasted_iota(jnp.int32, (q, q), 0)
           <= jax.lax.broadcasted_iota(jnp.int32, (q, q), 1)).astype(jnp.float32)  # [Q, Q]: p @ upper = cumsum

  def body(n, logits):  # logits [bB, Q] -> the next step's
    e = jnp.exp(logits - jnp.max(logits, axis=-1, keepdims=True))
    p = e / jnp.sum(e, axis=-1, keepdims=True)  # softmax [bB, Q]
    cdf = dot(p, upper)  # [bB, Q]
    u = u_ref[:, n]  # [bB]
    below = jnp.sum((cdf < (u * jnp.sum(p, axis=-1))[:, None]).astype(jnp.int32), axis=-1)
    ids = jnp.minimum(below, q - 1)  # [bB]
    classes_out[:, n] = ids
    # Reads and writes both go through ring_out: a step reads what the steps before it wrote.
    return _network(model, w, ring_out, ring_out, ids, None, None, t_ref[0] + n)

  logits_out[...] = jax.lax.fori_loop(0, num_samples, body, logits_ref[...])


@full_precision
def generate_chunk(model: WaveNet, params, queues, logits, uniforms, interpret=False, block_b=16):
  """(classes [B, N], queues, logits [B, Q]) in one kernel launch: N times, draw a class from
  the logits with the next uniform, feed it back, step the network, as generation's sampling
  scan does around `generate.step` at temperature 1 (no conditioning yet).

  queues and logits: the carry after priming (generate.prime), uniforms [B, N]. On a GPU, N
  and the channel widths must be powers of two (Triton's block shapes).
  """
  check(model, interpret, block_b)
  if model.gc_cardinality or model.lc_channels:
    raise ValueError('the persistent Pallas kernel runs unconditioned models only (gc_cardinality 0, lc_channels 0)')
  b, n = uniforms.shape
  if not interpret and n & (n - 1):
    raise ValueError(f'{n} samples per launch: the persistent Pallas kernel on a GPU (Triton) needs a power of two')
  outputs = (jax.ShapeDtypeStruct((b, n), jnp.int32),  # classes
             jax.ShapeDtypeStruct((b, model.quantization_channels), jnp.float32))  # the last logits
  (classes, logits), queues = _launch(functools.partial(_chunk_kernel, model, n), params, queues,
                                      (logits.astype(jnp.float32), uniforms.astype(jnp.float32)),
                                      outputs, n, block_b, interpret, 'wavenet_chunk')
  return classes, queues, logits
