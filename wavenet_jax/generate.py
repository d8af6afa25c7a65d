"""Fast generation (Paine et al. 2016): one jitted lax.scan over per-layer queue state.

The carry is an explicit pytree of ring buffers (`WaveNet.init_queues`), so each sample
costs O(layers) and no Python runs per sample. `WaveNet.step` uses the same parameters and
layer code as the training forward pass; tests/test_generate.py checks that they agree.
"""
import functools

import jax
import jax.numpy as jnp

from wavenet_jax import audio
from wavenet_jax.wavenet import WaveNet


def init_queues(model: WaveNet, batch_size: int):
  return model.init_queues(batch_size)


def step(model: WaveNet, params, queues, x_t, gc_ids=None, lc_t=None):
  """(logits [B, Q], queues) for one input sample per stream."""
  gc = None if gc_ids is None else model.apply(params, gc_ids, method=WaveNet.global_condition)
  return model.apply(params, queues, x_t, gc, lc_t, method=WaveNet.step)


def step_through(model: WaveNet, params, inputs, gc_ids=None, lc=None, queues=None):
  """Teacher forcing one sample at a time: inputs [B, T] -> (logits [B, T, Q], queues)."""
  queues = model.init_queues(inputs.shape[0]) if queues is None else queues
  gc = None if gc_ids is None else model.apply(params, gc_ids, method=WaveNet.global_condition)

  def body(queues, xs):
    x_t, lc_t = xs
    logits, queues = model.apply(params, queues, x_t, gc, lc_t, method=WaveNet.step)
    return queues, logits

  xs = (jnp.moveaxis(inputs, 1, 0), None if lc is None else jnp.moveaxis(lc, 1, 0))
  queues, logits = jax.lax.scan(body, queues, xs)
  return jnp.moveaxis(logits, 0, 1), queues


def sample(keys, logits, temperature):
  """Per-stream categorical draw at `temperature` (0 = argmax). keys [B], logits [B, Q] -> [B]."""
  if temperature == 0:
    return jnp.argmax(logits, axis=-1).astype(jnp.int32)
  draw = lambda k, l: jax.random.categorical(k, l / temperature)
  return jax.vmap(draw)(keys, logits).astype(jnp.int32)


def class_to_input(model: WaveNet, classes, mu_law='ibab'):
  """A sampled class becomes the next input the way training fed it (train.model_inputs)."""
  if not model.scalar_input:
    return classes
  q = model.quantization_channels
  if mu_law == 'nsynth':
    return (classes - q // 2).astype(jnp.float32) / (q // 2)
  return audio.mu_law_decode(classes, q, mu_law, xp=jnp)


@functools.partial(jax.jit, static_argnames=('model', 'num_samples', 'temperature', 'mu_law'))
def generate(model: WaveNet, params, keys, num_samples: int, gc_ids=None, temperature=1.0,
             mu_law='ibab'):
  """B streams of `num_samples` mu-law classes, [B, num_samples]; keys [B] one per stream.

  Streams start from silence; stream b's draw at step t uses fold_in(keys[b], t), so a
  stream's samples do not depend on which other streams run beside it.
  """
  b = keys.shape[0]
  queues = model.init_queues(b)
  gc = None if gc_ids is None else model.apply(params, gc_ids, method=WaveNet.global_condition)
  silence = audio.mu_law_encode(jnp.zeros((b,)), model.quantization_channels, mu_law, xp=jnp)
  x0 = class_to_input(model, silence, mu_law)

  def body(carry, t):
    queues, x_t = carry
    logits, queues = model.apply(params, queues, x_t, gc, None, method=WaveNet.step)
    classes = sample(jax.vmap(lambda k: jax.random.fold_in(k, t))(keys), logits, temperature)
    return (queues, class_to_input(model, classes, mu_law)), classes

  _, classes = jax.lax.scan(body, (queues, x0), jnp.arange(num_samples))
  return classes.T
