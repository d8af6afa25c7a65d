"""Training speed on an accelerator: samples/s and model FLOP utilisation (issue 31, point 2).

    python -m benchmarks.device_train [--json PATH] [--steps N] [--quick] [--smoke]
    python -m benchmarks.device_train --estimate {h100,a100,v5e,v4} [--smoke] [--json PATH]

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

--estimate DEVICE times nothing: it compiles each row's step here and reads XLA's cost analysis
(FLOPs and bytes accessed per step), then prints the roofline time on DEVICE from its published
peak rates (`DEVICES`): max(FLOPs / peak, bytes / HBM bandwidth), and which bound it is. The
bytes are this host's compiled HLO's (its fusion, not the device's): read them as an estimate.
For generation, the weights one sample's step reads (nv-wavenet's and ibab's model, float32)
against the device's on-chip memory, and the samples/s one stream gets if they stream from HBM
every sample (what a kernel launch per sample does; a persistent kernel can keep them on chip).
"""
import argparse
import gc
import json
import os
import sys
from typing import NamedTuple

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


class Device(NamedTuple):
  """Published peak rates per chip, dense (no sparsity). f32: what a float32 step's matmuls
  run at by default (TF32 tensor cores on NVIDIA, one bf16 pass on a TPU)."""
  name: str
  bf16_flops: float
  f32_flops: float
  hbm_bytes_per_s: float
  on_chip_bytes: float  # what a kernel can keep weights in: registers + shared memory / VMEM
  source: str


DEVICES = {
    'h100': Device('H100 SXM5', 989e12, 495e12, 3.35e12, 132 * (256 + 228) * 1024,
                   'NVIDIA H100 datasheet: BF16 1,979 / TF32 989 TFLOPS with sparsity (half dense), 3.35 TB/s; '
                   'Hopper whitepaper: 132 SMs, 256 KB registers + 228 KB shared memory each (50 MB L2 besides)'),
    'a100': Device('A100 SXM4 80 GB', 312e12, 156e12, 2.039e12, 108 * (256 + 164) * 1024,
                   'NVIDIA A100 datasheet: BF16 312, TF32 156 TFLOPS dense, 2,039 GB/s; Ampere whitepaper: 108 SMs, '
                   '256 KB registers + 164 KB shared memory each (40 MB L2 besides)'),
    'v5e': Device('TPU v5e', 197e12, 197e12, 819e9, 128 * 2**20,
                  'cloud.google.com/tpu/docs/v5e: 197 TFLOPs bf16, 819 GBps; VMEM 128 MiB '
                  '(jax.experimental.pallas.tpu.get_tpu_info_for_chip)'),
    'v4': Device('TPU v4', 275e12, 275e12, 1.2e12, 2 * 16 * 2**20,
                 'cloud.google.com/tpu/docs/v4: 275 TFLOPs bf16, 1,200 GBps; VMEM 2 x 16 MiB (two TensorCores; '
                 '128 MiB CMEM besides; get_tpu_info_for_chip)'),
}


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


def prepared(config, batch_size):
  """(jitted train step, state, batch, predicted samples per step, (kind, model, tx, schedule,
  mesh)) of a row, random weights."""
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
  return step, state, batch, batch_size * size, (kind, model, tx, schedule, mesh)


def measure(config, batch_size, timed_steps):
  """(compile s, median step s, predicted samples per step, step FLOPs) of one train step."""
  step, state, batch, samples, (kind, model, tx, schedule, mesh) = prepared(config, batch_size)
  context, size = kind.context(model) + kind.context_after(model), config.data.sample_size
  if config.model.kind == 'wavenet':
    flops = batch_size * wavenet_costs.train_step_flops(model, context + size - 1, size)
  elif config.train.compute_dtype == 'float32':
    flops = xla_flops(step.lower(state, batch))
  else:  # the model's FLOPs do not depend on the dtype: count the float32 step's
    with config.unlocked():
      config.train.compute_dtype = 'float32'
    flops = xla_flops(steps.make_train_step(kind, model, config, tx, schedule, mesh).lower(state, batch))
  compile_s, times = train_step.time_step(step, state, batch, timed_steps)
  return compile_s, float(np.median(times)), samples, flops


def compiled_costs(config, batch_size):
  """(FLOPs, bytes accessed, predicted samples) of one train step, from XLA's cost analysis of
  the step compiled on this host."""
  step, state, batch, samples, _ = prepared(config, batch_size)
  cost = step.lower(state, batch).compile().cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  return float(cost['flops']), float(cost['bytes accessed']), samples


def roofline(flops, nbytes, peak, bandwidth):
  """(seconds, 'compute' or 'memory'): the larger of the two times."""
  compute, memory = flops / peak, nbytes / bandwidth
  return max(compute, memory), 'compute' if compute >= memory else 'memory'


def weight_bytes(model):
  """Bytes of a WaveNet's float32 weights: what one sample's step reads, at batch 1."""
  shapes = jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, 2), jnp.int32))
  return 4 * sum(int(np.prod(a.shape)) for a in jax.tree.leaves(shapes))


def estimate(device, smoke, json_path):
  """Prints the roofline table of every row on `device` (a DEVICES key), and generation's."""
  d = DEVICES[device]
  figures = {'device': d.name, 'source': d.source}
  head = ('config', 'dtype', 'GFLOP/step', 'GB/step', 'FLOP/byte', 'roofline_s', 'bound', 'samples/s')
  table = [head]
  for name, label, config, b, dtype in rows(smoke, smoke):
    config.train.batch_size = b
    config.train.compute_dtype = dtype
    flops, nbytes, samples = compiled_costs(config, b)
    jax.clear_caches()
    seconds, bound = roofline(flops, nbytes, d.bf16_flops if dtype == 'bfloat16' else d.f32_flops, d.hbm_bytes_per_s)
    key = f"{name}_{'f32' if dtype == 'float32' else 'bf16'}"
    figures.update({f'{key}_gflop': round(flops / 1e9, 3), f'{key}_gbytes': round(nbytes / 1e9, 4),
                    f'{key}_roofline_s': float(f'{seconds:.4g}'), f'{key}_bound': bound,
                    f'{key}_samples_per_s': round(samples / seconds, 1)})
    table.append((label + (' (smoke)' if smoke else ''), dtype, f'{flops / 1e9:,.1f}', f'{nbytes / 1e9:,.3f}',
                  f'{flops / nbytes:.1f}', f'{seconds:.4g}', bound, f'{samples / seconds:,.0f}'))
  print(f'{d.name}: bf16 {d.bf16_flops / 1e12:g} TFLOP/s, float32 {d.f32_flops / 1e12:g}, HBM '
        f'{d.hbm_bytes_per_s / 1e9:,.0f} GB/s, on chip {d.on_chip_bytes / 2**20:.1f} MiB ({d.source})')
  _print(table)
  from benchmarks.pallas_generation import MODELS  # generation: the weights one sample reads
  table = [('generation model', 'weights_MiB', 'on_chip_MiB', 'fit', 'samples/s from HBM', 'goal')]
  for name, model in MODELS.items():
    nbytes = weight_bytes(model)
    fits = nbytes <= d.on_chip_bytes
    rate = d.hbm_bytes_per_s / nbytes
    figures.update({f'{name}_weight_mib': round(nbytes / 2**20, 2), f'{name}_weights_fit_on_chip': fits,
                    f'{name}_samples_per_s_weights_from_hbm': round(rate)})
    table.append((f'{name} (one stream, float32)', f'{nbytes / 2**20:.2f}', f'{d.on_chip_bytes / 2**20:.1f}',
                  'yes' if fits else 'no', f'{rate:,.0f}', '>= 48,000' if name == 'nv_wavenet' else ''))
  _print(table)
  if json_path:
    with open(json_path, 'w') as f:
      json.dump(figures, f, indent=2)


def _print(table):
  widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
  for r in table:
    print('  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


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
  parser.add_argument('--estimate', choices=sorted(DEVICES),
                      help="time nothing: each row's roofline on this device from XLA's cost analysis")
  args = parser.parse_args()
  if args.estimate:
    estimate(args.estimate, args.smoke, args.json)
    return
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
  _print(table)
  if args.json:
    with open(args.json, 'w') as f:
      json.dump(figures, f, indent=2)


if __name__ == '__main__':
  main()
