"""Sampling speed and exactness of the Pallas step and the persistent kernel (generation/pallas_step.py).

    python -m benchmarks.pallas_generation [--samples N] [--batch B] [--persistent] [--json PATH] [--interpret]

On a GPU: `python -m benchmarks.pallas_generation --samples 16000 --batch 1`, then `--batch 16`
(a few minutes each, compiles included). Random weights of nv-wavenet's benchmark model (20
layers 1..512 twice, 64/64/256, 256 classes, biases, no conditioning) and ibab's default
(configs/default.py: 50 layers, 32/32/512, 256 classes, biases, as ibab's wavenet_params.json). Per model: the
teacher-forced logits of a scan of Pallas steps against generate.step_through and the forward
pass (goal <= 1e-4), then samples/s of the sampling scan (draw, feed back, as _scan_samples)
with the Pallas step and with the XLA step (generate.step). Goal on a GPU: one stream >= 48,000
samples/s on nv-wavenet's model (its CUDA figure on a P40). A Triton dot wants >= 16 rows, so on
a GPU the kernel runs max(B, --min-rows) rows; only the B real streams count. --interpret (the
default on a CPU) runs the kernel in Pallas's interpreter with small sample counts: it checks
the script and exactness, and its timings mean nothing. --persistent adds the persistent
kernel (pallas_step.generate_chunk: --chunk samples per launch): its samples/s, and over the
first --exact-samples (rounded up to a chunk) its draws against the XLA step's sampling scan
given the same uniforms (a stream that draws one class differently differs from then on).
"""
import argparse
import functools
import os
import sys
import time

if __name__ == '__main__':  # `python benchmarks/X.py` puts benchmarks/ on sys.path; the imports below need the checkout
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import table
from configs import default
from wavenet_jax.generation import generate, pallas_step
from wavenet_jax.models.wavenet import WaveNet
from wavenet_jax.runtime import xla_cpu

MODELS = {
    'nv_wavenet': WaveNet(dilations=tuple(2**i for i in range(10)) * 2, residual_channels=64,
                          dilation_channels=64, skip_channels=256, quantization_channels=256, use_biases=True),
    'ibab': WaveNet.from_config(default.get_config().model),
}


def random_params(model, seed=0, noise=0.02):
  """Glorot-uniform kernels + noise·N(0, 1) on every leaf (non-zero biases), drawn with numpy
  from the init's shapes (a flax init compiles one program per parameter)."""
  shapes = jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, 2), jnp.int32))
  rng = np.random.default_rng(seed)

  def draw(leaf):
    base = np.zeros(leaf.shape)
    if leaf.ndim >= 2:
      limit = np.sqrt(6.0 / (np.prod(leaf.shape[:-1]) + leaf.shape[-1]))
      base = rng.uniform(-limit, limit, leaf.shape)
    return jnp.asarray((base + noise * rng.standard_normal(leaf.shape)).astype(leaf.dtype))
  return jax.tree.map(draw, shapes)


@functools.partial(jax.jit, static_argnums=(0, 1))
def pallas_through(model, interpret, params, inputs):
  """generate.step_through with the Pallas step: inputs [B, T] -> logits [B, T, Q]."""
  def body(queues, x_t):
    logits, queues = pallas_step.step(model, params, queues, x_t, interpret=interpret, block_b=16)
    return queues, logits
  _, logits = jax.lax.scan(body, model.init_queues(inputs.shape[0]), inputs.T)
  return jnp.moveaxis(logits, 0, 1)


def max_abs_diffs(model, params, rows, samples, interpret):
  """(max |Pallas - step_through|, max |Pallas - forward pass|) over `samples` teacher-forced samples."""
  x = jnp.asarray(np.random.default_rng(1).integers(0, model.quantization_channels, (rows, samples)), jnp.int32)
  got = pallas_through(model, interpret, params, x)
  stepped, _ = jax.jit(generate.step_through, static_argnums=0)(model, params, x)
  with jax.default_matmul_precision('highest'):
    full = jax.jit(model.apply)(params, x)
  return float(jnp.max(jnp.abs(got - stepped))), float(jnp.max(jnp.abs(got - full)))


def sampling_scan(model, step_fn):
  """Jitted (carry, uniforms [N, B]) -> (carry, classes [B, N]): generate._scan_samples'
  body (draw at temperature 1, feed the class back) around step_fn."""
  @jax.jit
  @generate.full_precision
  def scan(params, carry, uniforms):
    def body(carry, u_t):
      queues, logits = carry
      classes = generate.draw(model, u_t, logits, 1.0)
      logits, queues = step_fn(model, params, queues, generate.class_to_input(model, classes))
      return (queues, logits), classes
    carry, classes = jax.lax.scan(body, carry, uniforms)
    return carry, classes.T
  return scan


def persistent_scan(model, interpret, chunk):
  """As sampling_scan, each `chunk` samples one launch of the persistent kernel."""
  @jax.jit
  def scan(params, carry, uniforms):  # uniforms [N, B], N a multiple of chunk
    b = uniforms.shape[1]
    chunks = jnp.moveaxis(uniforms.T.reshape(b, -1, chunk), 1, 0)  # [N / chunk, B, chunk]

    def body(carry, u):
      classes, queues, logits = pallas_step.generate_chunk(model, params, *carry, u, interpret=interpret)
      return (queues, logits), classes
    carry, classes = jax.lax.scan(body, carry, chunks)
    return carry, jnp.moveaxis(classes, 0, 1).reshape(b, -1)
  return scan


def start(model, params, rows, samples):
  """The primed carry and the uniforms [N, B] every timed scan starts from."""
  return (generate.prime(model, params, generate.silence(model, rows), None),
          jax.random.uniform(jax.random.key(0), (samples, rows)))


def timed(model, params, scan, rows, streams, samples, repeats=3):
  """(compile s, samples/s of the `streams` real streams) of a jitted scan (sampling_scan or
  persistent_scan): the median of `repeats` runs after a warm-up."""
  carry, uniforms = start(model, params, rows, samples)
  start_s = time.perf_counter()
  run = scan.lower(params, carry, uniforms).compile()
  compile_s = time.perf_counter() - start_s
  jax.block_until_ready(run(params, carry, uniforms))
  times = []
  for _ in range(repeats):
    start_s = time.perf_counter()
    jax.block_until_ready(run(params, carry, uniforms))
    times.append(time.perf_counter() - start_s)
  return compile_s, streams * samples / float(np.median(times))


def main():
  xla_cpu.configure()  # first, before jax starts: the CPU settings launch.py uses.
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--json', help='also write the figures here as a flat JSON object')
  parser.add_argument('--samples', type=int, help='samples per stream of a Pallas scan (16000; 8 interpreted)')
  parser.add_argument('--xla-samples', type=int, help='of an XLA-step scan (samples // 8, at least min(samples, 500))')
  parser.add_argument('--exact-samples', type=int, help='teacher-forced samples compared (64; 16 interpreted)')
  parser.add_argument('--batch', type=int, default=1, help='streams')
  parser.add_argument('--min-rows', type=int, help='rows the kernel runs at least (16; 1 interpreted)')
  parser.add_argument('--interpret', action=argparse.BooleanOptionalAction, default=None,
                      help="Pallas's interpreter (default: on a CPU)")
  parser.add_argument('--models', default=','.join(MODELS), help='comma-separated subset of ' + ','.join(MODELS))
  parser.add_argument('--persistent', action='store_true', help='also the persistent kernel')
  parser.add_argument('--chunk', type=int, help='persistent: samples per launch (256; 4 interpreted), a power of two')
  args = parser.parse_args()
  interpret = jax.default_backend() == 'cpu' if args.interpret is None else args.interpret
  samples = args.samples or (8 if interpret else 16000)
  xla_samples = args.xla_samples or max(samples // 8, min(samples, 500))
  exact_samples = args.exact_samples or (16 if interpret else 64)
  b, rows = args.batch, max(args.batch, args.min_rows or (1 if interpret else 16))
  pallas = functools.partial(pallas_step.step, interpret=interpret, block_b=16)
  chunk = args.chunk or (4 if interpret else 256)

  figures, goals = {}, {}
  for name in args.models.split(','):
    model, params = MODELS[name], random_params(MODELS[name])
    to_step, to_forward = max_abs_diffs(model, params, rows, exact_samples, interpret)
    for what, diff in (('step', to_step), ('forward', to_forward)):
      figures[f'{name}_max_abs_diff_vs_{what}'], goals[f'{name}_max_abs_diff_vs_{what}'] = float(f'{diff:.2e}'), '<= 1e-4'
    compile_p, rate_p = timed(model, params, sampling_scan(model, pallas), rows, b, samples)
    compile_x, rate_x = timed(model, params, sampling_scan(model, generate.step), b, b, xla_samples)
    figures[f'{name}_pallas_samples_per_s'] = round(rate_p)
    figures[f'{name}_xla_step_samples_per_s'] = round(rate_x)
    figures[f'{name}_pallas_over_xla_step'] = round(rate_p / rate_x, 2)
    figures[f'{name}_pallas_compile_s'] = round(compile_p, 1)
    figures[f'{name}_xla_step_compile_s'] = round(compile_x, 1)
    if args.persistent:
      persistent = persistent_scan(model, interpret, chunk)
      n = -(-samples // chunk) * chunk
      compile_c, rate_c = timed(model, params, persistent, rows, b, n)
      carry, uniforms = start(model, params, rows, -(-exact_samples // chunk) * chunk)
      (_, logits_c), classes_c = persistent(params, carry, uniforms)
      (_, logits_x), classes_x = sampling_scan(model, generate.step)(params, carry, uniforms)
      figures[f'{name}_persistent_samples_per_s'] = round(rate_c)
      figures[f'{name}_persistent_over_xla_step'] = round(rate_c / rate_x, 2)
      figures[f'{name}_persistent_compile_s'] = round(compile_c, 1)
      figures[f'{name}_persistent_draws_as_xla_step'] = float(np.mean(np.asarray(classes_c) == np.asarray(classes_x)))
      figures[f'{name}_persistent_max_abs_diff_final_logits'] = float(f'{float(jnp.max(jnp.abs(logits_c - logits_x))):.2e}')
      goals[f'{name}_persistent_draws_as_xla_step'] = '1.0 (the same uniforms)'
  if b == 1 and not interpret:
    goals['nv_wavenet_pallas_samples_per_s'] = ">= 48,000 (nv-wavenet's CUDA figure on a P40)"
    goals['ibab_pallas_samples_per_s'] = 'as high as possible'
    if args.persistent:
      goals['nv_wavenet_persistent_samples_per_s'] = '>= 48,000 on an H100'
  figures['device'] = jax.devices()[0].device_kind
  figures['jax'] = jax.__version__
  mode = 'interpreted (timings mean nothing)' if interpret else f'{rows} kernel rows'
  cfg = (f'B={b}, {samples} samples ({xla_samples} XLA step), exact over {exact_samples}, '
         f'{jax.default_backend()}, {mode}' + (f', {chunk} per persistent launch' if args.persistent else ''))
  table.report(figures, cfg, goals, args.json)


if __name__ == '__main__':
  main()
