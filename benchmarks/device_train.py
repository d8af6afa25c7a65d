"""Training speed on an accelerator: samples/s and model FLOP utilisation (issue 31, point 2).

    python -m benchmarks.device_train [--json PATH] [--steps N] [--quick] [--smoke]

ibab's default WaveNet (configs/default.py: batch 1, 8, 32 of 100,000 predicted samples + the
receptive field) and NSynth h512 (configs/nsynth_autoencoder.py: batch 32 x 6,144), each with
train.compute_dtype float32 and bfloat16, timed as benchmarks/train_step.py times a step. MFU
divides model FLOP/s by the device's float32 and bfloat16 matmul rates measured in the same run
(an 8192^3 matmul chain; f32 at default precision, as training runs). Goal: NSynth h512 bf16 at
>= 0.40 of the bf16 rate. samples/s counts predicted samples (as train_step.py). FLOPs: ibab from
benchmarks/wavenet_costs.py; NSynth from XLA's cost analysis of the lowered float32 step. On a
CPU (or with --quick) every size shrinks so the script just proves it runs (~1-3 minutes);
--smoke shrinks the models too (ibab's first 4 layers, configs/nsynth_autoencoder.py:tiny), to
prove it in seconds.
"""
import argparse
import gc
import json
import os
import sys

if __name__ == '__main__':  # `python benchmarks/X.py` puts benchmarks/ on sys.path; the imports below need the checkout
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import machine, train_step, wavenet_costs
from configs import default, nsynth_autoencoder
from wavenet_jax.kinds import registry
from wavenet_jax.runtime import sharding, xla_cpu
from wavenet_jax.training import optim, steps

GOAL = '>= 0.40 of the bf16 matmul rate'


def matmul_tflops(dtype, n=8192, reps=10):
  """TFLOP/s of a chain of [n, n] @ [n, n] in `dtype`, accumulating in float32."""
  a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32).astype(dtype)
  b = (jax.random.normal(jax.random.key(1), (n, n), jnp.float32) / n**0.5).astype(dtype)
  step = lambda i, x: jnp.dot(x, b, preferred_element_type=jnp.float32).astype(dtype)
  f = jax.jit(lambda a: jax.lax.fori_loop(0, reps, step, a))
  return 2 * reps * n**3 / machine._best_seconds(f, a, repeats=3) / 1e12


def xla_flops(lowered):
  cost = lowered.cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  return float(cost['flops'])


def measure(config, batch_size, timed_steps):
  """(compile s, median step s, predicted samples per step, step FLOPs) of one train step."""
  kind = registry.of(config.model)
  model = kind.build(config, 0)
  context = kind.context(model) + kind.context_after(model)  # samples a crop carries beside its predicted ones
  size = config.data.sample_size
  mesh = sharding.make_mesh()
  tx, schedule = optim.make_optimizer(config)
  # Jitted: one compile, not one per op (the same values; seconds less on a CPU).
  params = jax.jit(model.init)(jax.random.key(0), *kind.init_inputs(model, config.model))
  state = steps.TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params),
                           ema_params=None, rng=jax.random.PRNGKey(0))
  state = jax.device_put(state, sharding.replicated(mesh))
  step = steps.make_train_step(kind, model, config, tx, schedule, mesh)
  t = np.arange(context + size)
  rng = np.random.default_rng(0)
  audio = 0.5 * np.sin(t * 0.05 * (1 + np.arange(batch_size)[:, None] / batch_size))
  audio = audio + 0.05 * rng.normal(size=audio.shape)
  batch = sharding.global_batch({'audio': audio.astype(np.float32),
                                 'mask': np.ones(audio.shape, np.float32),
                                 'label': np.zeros(batch_size, np.int32)}, mesh)
  if config.model.kind == 'wavenet':
    flops = batch_size * wavenet_costs.train_step_flops(model, context + size - 1, size)
  elif config.train.compute_dtype == 'float32':
    flops = xla_flops(step.lower(state, batch))
  else:  # the model's FLOPs do not depend on the dtype: count the float32 step's
    with config.unlocked():
      config.train.compute_dtype = 'float32'
    flops = xla_flops(steps.make_train_step(kind, model, config, tx, schedule, mesh).lower(state, batch))
  compile_s, times = train_step.time_step(step, state, batch, timed_steps)
  return compile_s, float(np.median(times)), batch_size * size, flops


def out_of_memory(e):
  text = str(e)
  return 'RESOURCE_EXHAUSTED' in text or 'out of memory' in text.lower()


def rows(quick, smoke=False):
  """(name, label, config, batch, dtype) of every row, float32 before bfloat16."""
  ibab_size, ibab_batches, ns_size, ns_batch = (1000, (1, 2), 1024, 1) if quick else (100_000, (1, 8, 32), 6144, 32)
  if smoke:
    ibab_size, ibab_batches, ns_size = 64, (1,), 256
  for dtype in ('float32', 'bfloat16'):
    for b in ibab_batches:
      c = default.get_config()
      c.data.sample_size = ibab_size
      if smoke:
        c.model.dilations = train_step.SMOKE_DILATIONS
      yield f'ibab_b{b}', f'ibab default{" 4 layers" if smoke else ""} B={b} x {ibab_size:,}+rf', c, b, dtype
    c = nsynth_autoencoder.get_config('tiny' if smoke else None)
    c.data.sample_size = ns_size
    yield f'nsynth_b{ns_batch}', f'NSynth {"tiny" if smoke else "h512"} B={ns_batch} x {ns_size:,}', c, ns_batch, dtype


def main():
  xla_cpu.configure()  # first, before jax starts: the CPU settings launch.py uses.
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--json', help='also write the figures here as a flat JSON object')
  parser.add_argument('--steps', type=int, default=5, help='timed steps after the compile and a first step')
  parser.add_argument('--quick', action='store_true', default=None,
                      help='tiny sizes, to prove the script runs (default on a CPU)')
  parser.add_argument('--smoke', action='store_true',
                      help='--quick with tiny models too: proves the script runs in seconds; the figures mean nothing')
  args = parser.parse_args()
  quick = args.smoke or (args.quick if args.quick is not None else jax.default_backend() == 'cpu')
  tag = ' (smoke)' if args.smoke else ' (quick)' if quick else ''

  n = 128 if args.smoke else 1024 if quick else 8192
  rate = {'float32': matmul_tflops(jnp.float32, n, 2 if quick else 10),
          'bfloat16': matmul_tflops(jnp.bfloat16, n, 2 if quick else 10)}
  figures = {'device_kind': jax.devices()[0].device_kind, 'jax_version': jax.__version__,
             'matmul_tflops_float32': round(rate['float32'], 2), 'matmul_tflops_bfloat16': round(rate['bfloat16'], 2)}
  head = ('config', 'dtype', 'compile_s', 'step_s', 'samples/s', 'TFLOP/s', 'MFU_dtype', 'MFU_bf16', 'goal')
  table = [head,
           ('device', '', '', '', '', '', '', '', figures['device_kind']),
           ('jax', '', '', '', '', '', '', '', jax.__version__),
           (f'matmul {n}^3{tag}', 'float32', '', '', '', f"{rate['float32']:.2f}", '', '', ''),
           (f'matmul {n}^3{tag}', 'bfloat16', '', '', '', f"{rate['bfloat16']:.2f}", '', '', '')]
  for name, label, config, b, dtype in rows(quick, args.smoke):
    config.train.batch_size = b
    config.train.compute_dtype = dtype
    key = f"{name}_{'f32' if dtype == 'float32' else 'bf16'}"
    goal = GOAL if name.startswith('nsynth') and dtype == 'bfloat16' else ''
    try:
      compile_s, step_s, samples, flops = measure(config, b, args.steps)
    except Exception as e:  # noqa: BLE001 - only out-of-memory becomes a row
      if not out_of_memory(e):
        raise
      figures[key] = 'OOM'
      table.append((label + tag, dtype, 'OOM', '', '', '', '', '', goal))
      continue
    finally:
      gc.collect()
      jax.clear_caches()
    tflops = flops / step_s / 1e12
    fig = {'compile_s': round(compile_s, 2), 'step_s': round(step_s, 4),
           'samples_per_s': round(samples / step_s, 1), 'step_tflop': round(flops / 1e12, 4),
           'tflops': round(tflops, 3), 'mfu_dtype': round(tflops / rate[dtype], 3),
           'mfu_bf16': round(tflops / rate['bfloat16'], 3)}
    figures.update({f'{key}_{k}': v for k, v in fig.items()})
    table.append((label + tag, dtype, f"{compile_s:.1f}", f"{step_s:.4f}", f"{samples / step_s:,.0f}",
                  f'{tflops:.3f}', f"{fig['mfu_dtype']:.3f}", f"{fig['mfu_bf16']:.3f}", goal))
  widths = [max(len(r[i]) for r in table) for i in range(len(head))]
  for r in table:
    print('  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
  if args.json:
    with open(args.json, 'w') as f:
      json.dump(figures, f, indent=2)


if __name__ == '__main__':
  main()
