"""NSynth autoencoder speed, random weights: magenta's h512_bo16 ('full') and nsynth.tiny_config ('tiny').

    python benchmarks/nsynth.py [--json PATH] [--seconds S] [--samples N] [--streams B] [--only full|tiny]

For each model:
  encode_audio_seconds_per_s   seconds of 16 kHz audio the encoder turns into embeddings per
                               wall second (one jitted encode of a [1, S·16000] clip, rounded up
                               to a multiple of the hop)
  synth_samples_per_s_1stream  fast generation (generate.continue_from, as embeddings.synthesize
  synth_samples_per_s_Bstreams runs it: on a CPU, B streams as groups on threads of their own)
                               from a random embedding upsampled to the sample rate,
                               conditioning fed inside the scan; total samples/s over all B streams
  *_compile_s                  XLA compile time of each timed function, not in the rates
  peak_rss_mb                  the process's peak RSS once that model is done (tiny runs first,
                               so full's figure is the whole run's peak)
Each function is compiled ahead of time and then run once, timed. The same command runs on a
GPU (JAX picks the accelerator). Reference point: magenta's own NSynth generator does about
100 samples/s single stream on a GPU.
"""
import argparse
import math
import os
import resource
import sys
import time

if __name__ == '__main__':  # `python benchmarks/X.py` puts benchmarks/ on sys.path; the imports below need the checkout
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax
import jax.numpy as jnp

from benchmarks import table
from wavenet_jax.generation import generate
from wavenet_jax.models import nsynth
from wavenet_jax.runtime import xla_cpu

SAMPLE_RATE = 16000
CONFIGS = {'full': nsynth.h512_bo16_config, 'tiny': nsynth.tiny_config}
# Per-stream samples of a synth timing: the full model's step takes ~10 ms on a CPU; the tiny
# one's ~10 µs, so it needs many more for a timing well above timer and scheduling noise.
DEFAULT_SAMPLES = {'full': 4000, 'tiny': 64000}


def compiled(fn, *args):
  """(executable, compile seconds). Ahead-of-time, so the timed call is pure run time and the
  compiling call does not also run a whole synthesis (minutes for the full model on a CPU)."""
  start = time.perf_counter()
  exe = jax.jit(fn).lower(*args).compile()
  return exe, time.perf_counter() - start


def timed(exe, *args):
  start = time.perf_counter()
  jax.block_until_ready(exe(*args))
  return time.perf_counter() - start


def encode_rate(model, params, seconds):
  """(compile seconds, audio seconds encoded per wall second) for one [1, T] clip."""
  t = math.ceil(seconds * SAMPLE_RATE / model.hop) * model.hop  # the encoder pools whole hops
  clip = 0.5 * jnp.sin(jnp.arange(t) * 0.05)[None]  # [1, T]; speed does not depend on content
  exe, compile_s = compiled(lambda p, a: model.apply(p, a, method=nsynth.Autoencoder.encode),
                            params, clip)
  return compile_s, (t / SAMPLE_RATE) / timed(exe, params, clip)


def synth_rate(model, params, streams, samples):
  """(compile seconds, samples/s over all streams) of one scan of `samples` samples per stream."""
  decoder = model.decoder
  dparams = {'params': params['params']['decoder']}
  frames = math.ceil((samples + 1) / model.hop)  # the prime's input and `samples` fed-back ones
  embedding = jax.random.normal(jax.random.key(1), (streams, frames, model.encoder.bottleneck))
  lc = nsynth.upsample(embedding, model.hop)  # [B, frames·hop, E]
  # NSynth's decoder input is shifted right with a zero first: that zero, paired with the
  # embedding of sample 0, is the prime; sample i is then fed back with the embedding of i + 1.
  carry = generate.prime(decoder, dparams, jnp.zeros((streams, 1)), None, lc[:, :1])
  keys = jax.random.split(jax.random.key(0), streams)
  lc_fed = lc[:, 1:samples + 1]  # [B, samples, E]
  # As embeddings.synthesize runs it: at top level, so on a CPU the streams run as groups
  # on threads of their own (generate.stream_groups); compiled ahead, so the timing is run time.
  args = (decoder, dparams, carry, keys, 0, samples, None, 1.0, 'nsynth')
  start = time.perf_counter()
  generate.compile_continue_from(*args, lc=lc_fed)
  compile_s = time.perf_counter() - start
  start = time.perf_counter()
  jax.block_until_ready(generate.continue_from(*args, lc=lc_fed))
  return compile_s, streams * samples / (time.perf_counter() - start)


def measure(name, args):
  model = nsynth.from_config(CONFIGS[name]())
  params = model.init(jax.random.key(0), jnp.zeros((1, model.hop)))
  samples = args.samples or DEFAULT_SAMPLES[name]
  enc_compile, enc = encode_rate(model, params, args.seconds)
  one_compile, one = synth_rate(model, params, 1, samples)
  many_compile, many = synth_rate(model, params, args.streams, samples)
  return {
      f'{name}_encode_audio_seconds_per_s': round(enc, 2),
      f'{name}_encode_compile_s': round(enc_compile, 2),
      f'{name}_synth_samples_per_s_1stream': round(one, 1),
      f'{name}_synth_samples_per_s_{args.streams}streams': round(many, 1),
      f'{name}_synth_compile_s_1stream': round(one_compile, 2),
      f'{name}_synth_compile_s_{args.streams}streams': round(many_compile, 2),
      f'{name}_peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
  }


def main():
  xla_cpu.configure()  # first, before jax starts: the CPU settings launch.py uses.
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--json', help='also write the figures here as a flat JSON object')
  parser.add_argument('--seconds', type=float, default=4.0, help='audio length of the encode timing')
  parser.add_argument('--samples', type=int, default=None,
                      help=f'samples per stream of a synth timing (default: {DEFAULT_SAMPLES})')
  parser.add_argument('--streams', type=int, default=16, help='streams of the batched synth timing')
  parser.add_argument('--only', choices=sorted(CONFIGS), help='measure one model only')
  args = parser.parse_args()

  names = [args.only] if args.only else ['tiny', 'full']  # tiny first: see peak_rss_mb
  measured = {name: measure(name, args) for name in names}
  figures = {k: v for name in CONFIGS if name in measured for k, v in measured[name].items()}
  samples = args.samples or ', '.join(f'{n} {DEFAULT_SAMPLES[n]}' for n in CONFIGS if n in names)
  cfg = (f'random weights, {args.seconds:g} s encoded, {samples} samples/stream, f32, '
         f'{jax.device_count()}x {jax.devices()[0].platform}')
  goals = {
      'full_synth_samples_per_s_1stream': '>= 100 (magenta on a GPU)',
      # magenta's generator runs its batch in lockstep on a GPU, so a batch of B streams costs it
      # about one stream's time: B × its single-stream rate.
      f'full_synth_samples_per_s_{args.streams}streams': f'>= {100 * args.streams:,} (est.: magenta GPU batch)',
      # Encoding a clip should not take longer than the clip: faster than real time.
      'full_encode_audio_seconds_per_s': '>= 1 (real time)',
      'tiny_encode_audio_seconds_per_s': '>= 1 (real time)',
  }
  table.report(figures, cfg, goals, args.json)


if __name__ == '__main__':
  main()
