"""The Pallas step (generation/pallas_step.py) equals generate.step, logits and queues; the
persistent kernel's chunk of samples equals stepping and drawing one at a time.

Run in Pallas's interpreter on the CPU; the CUDA test lowers the real (Triton) kernel
without a GPU, which runs the Triton lowering but not Triton's compiler.
"""
import functools
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests import tiny
from wavenet_jax.generation import generate, pallas_step
from wavenet_jax.models.wavenet import IBAB_DILATIONS, WaveNet

TOL = dict(rtol=1e-4, atol=1e-4)
CONFIGS = {
    # ibab/tensorflow-wavenet's model shape, small: one-hot input, here without biases.
    'ibab': dict(filter_width=2, dilations=(1, 2, 4, 8) * 2, residual_channels=8, dilation_channels=8,
                 skip_channels=16, quantization_channels=32, use_biases=False),
    # nv-wavenet's benchmark model, small: biases, mel-like local conditioning in every layer.
    'nv': dict(filter_width=2, dilations=(1, 2, 4, 8, 16) * 2, residual_channels=16, dilation_channels=16,
               skip_channels=32, quantization_channels=32, use_biases=True, lc_channels=4),
    # Every other feature the kernel takes: three taps, global conditioning, input skip.
    'features': dict(filter_width=3, dilations=(1, 2, 4, 1, 3), residual_channels=8, dilation_channels=8,
                     skip_channels=16, quantization_channels=32, use_biases=True, gc_cardinality=3,
                     gc_channels=4, input_skip=True, lc_channels=2),
}
BATCH = {'ibab': 3, 'nv': 4, 'features': 3}  # 3 streams: padded to the block


@functools.cache
def _model(name, t=20):
  m = WaveNet(**CONFIGS[name])
  rng = np.random.default_rng(len(name))
  b = BATCH[name]
  x = jnp.asarray(rng.integers(0, m.quantization_channels, (b, t)).astype(np.int32))
  gc = jnp.asarray(rng.integers(0, m.gc_cardinality, b)) if m.gc_cardinality else None
  lc = jnp.asarray(rng.normal(size=(b, t, m.lc_channels)).astype(np.float32)) if m.lc_channels else None
  params = tiny.random_params(m, x, gc, lc, seed=len(name) + 7, scale=0.2)  # non-zero biases
  return m, params, x, gc, lc


_pallas_step = jax.jit(pallas_step.step, static_argnums=0, static_argnames=('interpret', 'block_b'))


@functools.partial(jax.jit, static_argnums=0)
def _pallas_through(model, params, inputs, gc, lc):
  """generate.step_through with the Pallas step in the scan: logits [B, T, Q], queues."""
  def body(queues, xs):
    x_t, lc_t = xs
    logits, queues = pallas_step.step(model, params, queues, x_t, gc, lc_t, interpret=True)
    return queues, logits

  xs = (inputs.T, None if lc is None else jnp.moveaxis(lc, 1, 0))
  queues, logits = jax.lax.scan(body, model.init_queues(inputs.shape[0]), xs)
  return jnp.moveaxis(logits, 0, 1), queues


def _assert_trees_close(got, want):
  assert jax.tree.structure(got) == jax.tree.structure(want)
  for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
    assert g.shape == w.shape and g.dtype == w.dtype
    np.testing.assert_allclose(np.asarray(g), np.asarray(w), **TOL)


@pytest.mark.parametrize('name', CONFIGS)
def test_one_step_equals_generate_step(name):
  """From queues primed on 13 samples (rings wrapped), over a grid of two blocks of 2."""
  m, params, x, gc, lc = _model(name)
  queues, _ = generate.prime(m, params, x[:, :13], gc, None if lc is None else lc[:, :13])
  lc_t = None if lc is None else lc[:, 13]
  want = jax.jit(generate.step, static_argnums=0)(m, params, queues, x[:, 13], gc, lc_t)
  got = _pallas_step(m, params, queues, x[:, 13], gc, lc_t, interpret=True, block_b=2)
  _assert_trees_close(got, want)


@pytest.mark.parametrize('name', CONFIGS)
def test_scan_of_steps_equals_step_through(name):
  """16 samples teacher forced from empty queues: every logit and the final queues."""
  m, params, x, gc, lc = _model(name)
  x, lc = x[:, :16], None if lc is None else lc[:, :16]
  want = jax.jit(generate.step_through, static_argnums=0)(m, params, x, gc, lc)
  _assert_trees_close(_pallas_through(m, params, x, gc, lc), want)


@pytest.mark.parametrize('change,interpret,message', [
    (dict(output='logistic_mixture', scalar_input=True), True,
     "model.output='logistic_mixture': the Pallas step supports the categorical head only"),
    (dict(scalar_input=True), True, 'model.scalar_input=True: the Pallas step supports one-hot input only'),
    (dict(skip_channels=24), False,
     'model.skip_channels=24: the Pallas step on a GPU (Triton) needs a power of two'),
], ids=['mol_head', 'scalar_input', 'gpu_skip_channels'])
def test_unsupported_config_is_one_line_naming_the_field(change, interpret, message):
  m = WaveNet(**dict(CONFIGS['ibab'], **change))
  with pytest.raises(ValueError) as raised:
    pallas_step.step(m, None, None, jnp.zeros((2,), jnp.int32), interpret=interpret)
  assert str(raised.value) == message


@pytest.mark.parametrize('cfg', [
    dict(dilations=IBAB_DILATIONS, residual_channels=32, dilation_channels=32, skip_channels=512,
         quantization_channels=256, use_biases=True),  # ibab's default model (configs/default.py)
    dict(dilations=tuple(2**i for i in range(10)) * 2, residual_channels=64, dilation_channels=64,
         skip_channels=256, quantization_channels=256, use_biases=True),  # nv-wavenet's benchmark
], ids=['ibab_default', 'nv_wavenet'])
def test_lowers_for_cuda_as_one_triton_kernel(cfg):
  """The real kernel (interpret=False) lowered for a GPU on this CPU: Pallas's Triton lowering
  runs (it refuses what Triton cannot do, e.g. sizes that are no power of two) and the step is
  one Triton custom call whose outputs alias the rings. Triton's own compile to PTX happens
  in XLA:GPU, so only a GPU run shows the kernel compiles and runs there."""
  m, b = WaveNet(**cfg), 16
  params = jax.eval_shape(m.init, jax.random.key(0), jnp.zeros((b, 2), jnp.int32))
  queues = jax.eval_shape(lambda: m.init_queues(b))
  lowered = _pallas_step.trace(m, params, queues, jax.ShapeDtypeStruct((b,), jnp.int32)).lower(
      lowering_platforms=('cuda',))
  text = lowered.as_text()
  assert re.findall(r'custom_call @[\w$.]+', text) == ['custom_call @__gpu$xla.gpu.triton']
  assert text.count('#stablehlo.output_operand_alias<') == len(m.dilations) + 1


_chunk = jax.jit(pallas_step.generate_chunk, static_argnums=0, static_argnames=('interpret', 'block_b'))


@pytest.mark.parametrize('name', ['ibab', 'features_unconditioned'])
def test_the_persistent_kernel_draws_and_steps_a_chunk_as_step_through(name):
  """One launch of N = 24 samples for 3 streams (blocks of 2, one padded) from a prime of 5:
  each draw is sampling.sample's from generate.step_through's logits at that position given
  the same uniform (the drawn classes teacher-forced), the final logits and queues are
  step_through's after the last draw."""
  from wavenet_jax.generation import sampling
  cfg = dict(CONFIGS[name.split('_')[0]])
  if name == 'features_unconditioned':
    cfg.update(gc_cardinality=0, lc_channels=0)
  m, b, n = WaveNet(**cfg), 3, 24
  rng = np.random.default_rng(5)
  prime = jnp.asarray(rng.integers(0, m.quantization_channels, (b, 5)).astype(np.int32))
  params = tiny.random_params(m, prime, seed=11, scale=0.3)
  queues, logits = generate.prime(m, params, prime)
  uniforms = jax.random.uniform(jax.random.key(3), (b, n))
  classes, queues, logits = _chunk(m, params, queues, logits, uniforms, interpret=True, block_b=2)
  assert classes.shape == (b, n) and len(set(np.asarray(classes).ravel().tolist())) > 3  # really drawn

  want_logits, want_queues = generate.step_through(m, params, jnp.concatenate([prime, classes], axis=1))
  for k in range(n):  # the logits sample k is drawn from: after prime[:, -1] and classes[:, :k]
    drawn = sampling.sample(uniforms[:, k], want_logits[:, prime.shape[1] - 1 + k], 1.0)
    np.testing.assert_array_equal(classes[:, k], drawn, err_msg=f'draw {k}')
  np.testing.assert_allclose(logits, want_logits[:, -1], **TOL)
  _assert_trees_close(queues, want_queues)


def test_the_persistent_kernel_lowers_for_cuda_as_one_triton_kernel():
  """nv-wavenet's benchmark model, 16 streams, 64 samples per launch: one Triton custom call
  whose outputs alias the rings (see test_lowers_for_cuda_as_one_triton_kernel)."""
  m, b = WaveNet(dilations=tuple(2**i for i in range(10)) * 2, residual_channels=64, dilation_channels=64,
                 skip_channels=256, quantization_channels=256, use_biases=True), 16
  params = jax.eval_shape(m.init, jax.random.key(0), jnp.zeros((b, 2), jnp.int32))
  queues = jax.eval_shape(lambda: m.init_queues(b))
  lowered = _chunk.trace(m, params, queues, jax.ShapeDtypeStruct((b, 256), jnp.float32),
                         jax.ShapeDtypeStruct((b, 64), jnp.float32)).lower(lowering_platforms=('cuda',))
  text = lowered.as_text()
  assert re.findall(r'custom_call @[\w$.]+', text) == ['custom_call @__gpu$xla.gpu.triton']
  assert text.count('#stablehlo.output_operand_alias<') == len(m.dilations) + 1


@pytest.mark.parametrize('change,samples,message', [
    (dict(lc_channels=4), 8, 'the persistent Pallas kernel runs unconditioned models only (gc_cardinality 0, lc_channels 0)'),
    ({}, 24, '24 samples per launch: the persistent Pallas kernel on a GPU (Triton) needs a power of two'),
], ids=['conditioned', 'gpu_samples'])
def test_what_the_persistent_kernel_cannot_run_is_one_line(change, samples, message):
  m = WaveNet(**dict(CONFIGS['ibab'], **change))
  with pytest.raises(ValueError) as raised:
    pallas_step.generate_chunk(m, None, None, None, jnp.zeros((2, samples)))
  assert str(raised.value) == message
