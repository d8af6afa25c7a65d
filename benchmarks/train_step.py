"""Train-step speed of ibab's default WaveNet: batch 1, a 100,000-sample crop + receptive field,
float32 and (train.compute_dtype) bfloat16.

    python benchmarks/train_step.py [--json PATH] [--steps N] [--sample_size S] [--bf16_rounds R] [--smoke]

The bfloat16 rows time the same step with its matmuls and activations in bfloat16, in rounds
alternating with float32 ones; goal: <= 0.6 of the float32 step on a CPU with AVX512_BF16.

Prints a table (what, config, value, goal). Reference points on the 2-core AVX-512 CPU the
goal was set on: ibab's TensorFlow step ≈ 6.5 s (≈ 137 GFLOP/s, two thirds of that machine's
matmul rate as the goal's author measured it, ~205 GFLOP/s), a straightforward JAX one ≈ 8 s;
goal 4.5 s, ≈ 90% of that rate. Seconds hold for one kind of machine, so the table also gives
this machine's matmul rate as XLA reaches it (benchmarks/machine.py: a large matmul in 512-bit
kernels, 390-420 GFLOP/s on that same kind of CPU, twice the author's figure) and the step's
share of it, to compare hosts by: on the goal's CPU, 4.5 s is a share of about 0.49.

--smoke: tiny sizes (the model's first 4 layers, 64-sample crops, 1 timed step, 1 bfloat16
round, a small matmul for the rate) that prove the script runs in seconds; the figures mean nothing.
"""
import argparse
import os
import sys
import time

if __name__ == '__main__':  # `python benchmarks/X.py` puts benchmarks/ on sys.path; the imports below need the checkout
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import machine, table, wavenet_costs
from configs import default
from wavenet_jax.kinds import registry
from wavenet_jax.runtime import sharding, xla_cpu
from wavenet_jax.training import optim, steps


SMOKE_DILATIONS = (1, 2, 4, 8)  # --smoke: the default model's first 4 layers


def measure(sample_size=100_000, timed_steps=5, compute_dtype='float32', dilations=None):
  """(compile seconds, [step seconds], model) of ibab's default train step, batch 1
  (`dilations`: other layers, e.g. SMOKE_DILATIONS).

  The compile is timed alone (`lower(...).compile()`); one untimed step follows it (the
  first run allocates), then `timed_steps` timed ones.
  """
  config = default.get_config()
  config.data.sample_size = sample_size
  if dilations:
    config.model.dilations = dilations
  config.train.compute_dtype = compute_dtype
  model = registry.of(config.model).build(config, 0)
  rf = model.receptive_field
  mesh = sharding.make_mesh()
  tx, schedule = optim.make_optimizer(config)
  params = model.init(jax.random.key(0), jnp.zeros((1, 8), jnp.int32))
  state = steps.TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params),
                           ema_params=None, rng=jax.random.PRNGKey(0))
  state = jax.device_put(state, sharding.replicated(mesh))
  step = steps.make_train_step(registry.of(config.model), model, config, tx, schedule, mesh)
  rng = np.random.default_rng(0)
  crop = (0.5 * np.sin(np.arange(rf + sample_size) * 0.05) + 0.05 * rng.normal(size=rf + sample_size))
  batch = sharding.global_batch({'audio': crop[None].astype(np.float32),
                                 'mask': np.ones((1, rf + sample_size), np.float32),
                                 'label': np.zeros(1, np.int32)}, mesh)
  compile_s, times = time_step(step, state, batch, timed_steps)
  return compile_s, times, model


def time_step(step, state, batch, timed_steps):
  """(compile seconds, [step seconds]) of a jitted train step: the compile alone, one untimed
  step (the first run allocates), then `timed_steps` timed ones."""
  start = time.perf_counter()
  compiled = step.lower(state, batch).compile()
  compile_s = time.perf_counter() - start
  state, metrics = compiled(state, batch)
  jax.block_until_ready(metrics)
  times = []
  for _ in range(timed_steps):
    start = time.perf_counter()
    state, metrics = compiled(state, batch)
    jax.block_until_ready(metrics)
    times.append(time.perf_counter() - start)
  return compile_s, times


def main():
  xla_cpu.configure()  # first, before jax starts: the CPU settings launch.py uses.
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--json', help='also write the figures here as a flat JSON object')
  parser.add_argument('--steps', type=int, help='timed steps after the compile and a first step (5; 1 with --smoke)')
  parser.add_argument('--sample_size', type=int, help='predicted samples per crop (100,000; 64 with --smoke)')
  parser.add_argument('--bf16_rounds', type=int,
                      help='rounds of float32 then bfloat16 steps, alternating (2; 1 with --smoke; 0 = float32 only)')
  parser.add_argument('--smoke', action='store_true',
                      help='tiny sizes (4 layers): proves the script runs; the figures mean nothing')
  args = parser.parse_args()
  size = args.sample_size or (64 if args.smoke else 100_000)
  timed = args.steps or (1 if args.smoke else 5)
  rounds = (1 if args.smoke else 2) if args.bf16_rounds is None else args.bf16_rounds
  dilations = SMOKE_DILATIONS if args.smoke else None

  compile_s, times, model = measure(size, timed, dilations=dilations)
  bf16_times = []
  for _ in range(rounds):  # alternating, so a shared host's drift hits both alike
    bf16_compile_s, t, _ = measure(size, timed, 'bfloat16', dilations)
    bf16_times += t
    if len(bf16_times) < rounds * timed:
      times += measure(size, timed, dilations=dilations)[1]
  median = float(np.median(times))
  rf = model.receptive_field
  gflop = wavenet_costs.train_step_flops(model, rf + size - 1, size) / 1e9
  matmul = machine.matmul_gflops(m=256) if args.smoke else machine.matmul_gflops()
  figures = {
      'compile_s': round(compile_s, 2),
      'step_time_s_median': round(median, 3),
      'samples_per_s': round(size / median, 1),
      'step_gflop': round(gflop, 1),
      'step_gflops': round(gflop / median, 1),
      'matmul_gflops': round(matmul, 1),
      'fraction_of_matmul_rate': round(gflop / median / matmul, 3),
  }
  if bf16_times:
    bf16 = float(np.median(bf16_times))
    figures.update({'bf16_compile_s': round(bf16_compile_s, 2), 'bf16_step_time_s_median': round(bf16, 3),
                    'bf16_over_f32_step': round(bf16 / median, 3)})
  model_name = f'smoke: ibab default, {len(dilations)} layers' if args.smoke else 'ibab default'
  cfg = f'{model_name}, B=1, {size}+{rf} samples, f32, {jax.device_count()}x {jax.devices()[0].platform}'
  goals = {'step_time_s_median': '<= 4.5 (the 2-core AVX-512 CPU)', 'samples_per_s': '>= 22,222 (same)',
           'fraction_of_matmul_rate': '(4.5 s there: ~0.49)',
           'bf16_over_f32_step': '<= 0.6 (a CPU with AVX512_BF16)'}
  table.report(figures, cfg, goals, args.json)


if __name__ == '__main__':
  main()
