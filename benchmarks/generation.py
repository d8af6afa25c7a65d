"""Fast-generation speed of ibab's default WaveNet (50 layers, 32/32/512, 256 classes), random weights.

    python benchmarks/generation.py [--json PATH] [--samples N] [--batch B] [--smoke]

On a GPU, run it with --batch 1024 (the goal there: one stream >= 48,000 samples/s, nv-wavenet's
CUDA figure on a P40). Figures measured so far, per machine: docs/performance.md#expected-figures.

Prints a table (what, config, value, goal). Reference points on a 2-core CPU of the
development machine's kind: ibab's queue generator ≈ 530 samples/s, r9y9 ≈ 300. The goals
were set on a 2-core AVX-512 CPU; the table also gives this machine's ceilings
(benchmarks/machine.py): one stream reads every weight once per sample, so it cannot beat
the one-row matmul bandwidth / weight bytes (the roofline), nor the head's three matmuls
alone, run back to back on one core as the step runs them (the head floor: different
matrices in a row stream slower than the roofline's); B streams together cannot beat
the matmul rate / FLOPs per sample. The 64 streams run as generate.continue_from runs them
on a CPU: groups of 16 streams, two threads per core (generate.stream_groups).
The `mol_` rows are the same network with r9y9's output (configs/default.py:mol): the
previous sample as a scalar, a mixture of 10 logistics over 16-bit levels drawn inside the
scan; `mol_cost` is the categorical rate over the mixture's.

--smoke: tiny sizes (the model's first 4 layers, 64 samples, short ceiling measurements) that
prove the script runs in seconds; the figures mean nothing.
"""
import argparse
import os
import resource
import sys
import time

if __name__ == '__main__':  # `python benchmarks/X.py` puts benchmarks/ on sys.path; the imports below need the checkout
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import machine, table, wavenet_costs
from benchmarks.train_step import SMOKE_DILATIONS
from wavenet_jax.generation import generate
from wavenet_jax.models.wavenet import WaveNet
from wavenet_jax.runtime import xla_cpu


def timed_generate(model, params, streams, samples, repeats=5):
  """(compile seconds, samples/s over all streams) of a scan of `samples` samples: the
  compile timed alone (generate.compile_continue_from), then the median of `repeats` runs
  after an untimed first one (a shared 2-core host's speed moves by 25-50% from one minute
  to the next; compare code in one process, alternating)."""
  keys = jax.random.split(jax.random.key(0), streams)
  carry = generate.prime(model, params, generate.silence(model, streams), None)
  start = time.perf_counter()
  generate.compile_continue_from(model, params, carry, keys, 0, samples)
  compile_s = time.perf_counter() - start
  jax.block_until_ready(generate.continue_from(model, params, carry, keys, 0, samples))
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(generate.continue_from(model, params, carry, keys, 0, samples))
    times.append(time.perf_counter() - start)
  return compile_s, streams * samples / float(np.median(times))


def naive_samples_per_s(model, params, samples=50):
  """Recomputing the whole receptive field for every sample (what queues avoid)."""
  rf = model.receptive_field
  forward = jax.jit(lambda p, x: model.apply(p, x, num_outputs=1)[:, -1])
  window = jnp.full((1, rf), 128, jnp.int32)
  jax.block_until_ready(forward(params, window))
  start = time.perf_counter()
  for _ in range(samples):
    nxt = jnp.argmax(forward(params, window), -1).astype(jnp.int32)
    window = jnp.concatenate([window[:, 1:], nxt[:, None]], axis=1)
  jax.block_until_ready(window)
  return samples / (time.perf_counter() - start)


def main():
  xla_cpu.configure()  # first, before jax starts: the CPU settings launch.py uses.
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--json', help='also write the figures here as a flat JSON object')
  parser.add_argument('--samples', type=int, help='samples per stream per timed scan (16000; 64 with --smoke)')
  parser.add_argument('--batch', type=int, default=64)
  parser.add_argument('--smoke', action='store_true',
                      help='tiny sizes (4 layers): proves the script runs; the figures mean nothing')
  args = parser.parse_args()
  samples = args.samples or (64 if args.smoke else 16000)
  batch_samples = samples if args.smoke else max(samples // 8, 500)
  layers = dict(dilations=SMOKE_DILATIONS) if args.smoke else {}
  steps = dict(steps=20) if args.smoke else {}  # of the ceilings' scans
  matmul = machine.matmul_gflops(m=256) if args.smoke else machine.matmul_gflops()

  model = WaveNet(**layers)
  params = model.init(jax.random.key(0), jnp.zeros((1, 8), jnp.int32))
  compile_s, single = timed_generate(model, params, 1, samples)
  _, batched = timed_generate(model, params, args.batch, batch_samples)
  mol = WaveNet(output='logistic_mixture', num_mixtures=10, scalar_input=True, **layers)
  mol_params = mol.init(jax.random.key(0), jnp.zeros((1, 40), jnp.float32))
  _, mol_single = timed_generate(mol, mol_params, 1, samples)
  _, mol_batched = timed_generate(mol, mol_params, args.batch, batch_samples)
  naive = naive_samples_per_s(model, params, 5 if args.smoke else 50)
  roofline = machine.gemv_gb_per_s(**steps) * 1e9 / wavenet_costs.weight_bytes(model)
  head_floor = 1 / machine.gemv_chain_seconds(wavenet_costs.head_gemv_shapes(model),
                                              compiler_options=generate.scan_compiler_options(), **steps)
  ceiling = matmul * 1e9 / wavenet_costs.sample_flops(model)
  figures = {
      'single_stream_samples_per_s': round(single),
      f'batch{args.batch}_samples_per_s': round(batched),
      'naive_samples_per_s': round(naive, 1),
      'speedup_vs_naive': round(single / naive, 1),
      'compile_s': round(compile_s, 2),
      'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
      'single_stream_roofline_samples_per_s': round(roofline),
      'single_stream_fraction_of_roofline': round(single / roofline, 3),
      'single_stream_head_floor_samples_per_s': round(head_floor),
      'matmul_ceiling_samples_per_s': round(ceiling),
      f'batch{args.batch}_fraction_of_ceiling': round(batched / ceiling, 3),
      'mol_single_stream_samples_per_s': round(mol_single),
      f'mol_batch{args.batch}_samples_per_s': round(mol_batched),
      'mol_cost_single_stream': round(single / mol_single, 2),
      f'mol_cost_batch{args.batch}': round(batched / mol_batched, 2),
  }
  platform = jax.devices()[0].platform
  if platform == 'gpu':  # with --batch 1024 (see the docstring)
    goals = {'single_stream_samples_per_s': ">= 48,000 (nv-wavenet's CUDA figure on a P40)"}
  else:
    goals = {'single_stream_samples_per_s': '>= 16,000 (the 2-core AVX-512 CPU)',
             'batch64_samples_per_s': '>= 60,000 (same)',
             'batch64_fraction_of_ceiling': '>= 0.86 (60,000 of ~70,000 there)'}  # 64 streams' goal only
  name = 'smoke: ibab default, 4 layers' if args.smoke else 'ibab default'
  cfg = f'{name}, f32, {jax.device_count()}x {platform}'
  table.report(figures, cfg, goals, args.json)


if __name__ == '__main__':
  main()
