"""`launch.py --mode=generate`: a checkpoint -> one wav and one spectrogram PNG per stream.

Streams = classes (every class of a conditioned model, or the configured ids) x primes
(none = a sample of silence; generate.unprimed_too adds it beside the primes) x
streams_per_class seeds, generated `batch_size` at a time in chunks, each chunk appended
to its wav as it arrives. Each stream's prime is prefilled as itself (generate.pad_primes), so
a stream's audio does not depend on the streams batched with it. Everything a user can get
wrong is checked before anything compiles.
"""
import dataclasses
import os
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from wavenet_jax.checkpoints import trained
from wavenet_jax.common import config_checks, files, plots
from wavenet_jax.generation import chunks, generate, sampling
from wavenet_jax.input import audio
from wavenet_jax.models import heads


@dataclasses.dataclass
class Stream:
  name: str
  class_id: Optional[int]
  prime: Optional[np.ndarray]  # the trimmed prime as draws (generate.to_draws), [P]
  seed: int


def check_options(g) -> None:
  if not isinstance(g.num_samples, int) or g.num_samples <= 0:
    raise config_checks.ConfigError(f'generate.num_samples={g.num_samples!r}: must be an integer >= 1')
  sampling.check(g, ('batch_size', 'chunk_size', 'streams_per_class'))


def plan_streams(g, model, meta):
  names = meta['class_names']
  null = meta.get('null_class_id')  # a conditioned model's "no class" row, if trained with one
  if model.gc_cardinality:
    ids = list(g.class_ids) or list(range(len(names))) + ([null] if null is not None else [])
    for k, i in enumerate(ids):
      if i == -1 and null is not None:
        ids[k] = null
      elif not isinstance(i, int) or not 0 <= i < model.gc_cardinality:
        raise config_checks.ConfigError(
            f'generate.class_ids: {i!r} is not a class id of this model (0..{model.gc_cardinality - 1}'
            + (', or -1 for its null class)' if null is not None else '; it has no null class)'))
  elif g.class_ids:
    raise config_checks.ConfigError('generate.class_ids: this model is not class conditioned')
  else:
    ids = [None]
  primes = [(None, None)]  # one sample of silence: unprimed
  if g.primes:
    primes = [(None, None)] if g.unprimed_too else []
    for path in g.primes:
      wav = audio.trim_silence(audio.load(path, meta['sample_rate']), g.prime_silence_threshold)
      if wav.size == 0:
        raise audio.AudioError(f'{path}: silent after trimming at {g.prime_silence_threshold}')
      q = generate.to_draws(model, wav, meta['model']['mu_law'])
      primes.append((os.path.splitext(os.path.basename(path))[0], q))
  streams = []
  for i in ids:
    label = 'unconditioned' if i is None or i == null else (names[i] if i < len(names) else f'class{i}')
    for prime_name, q in primes:
      for s in range(g.streams_per_class):
        seed = g.seed + s
        name = label + (f'_{prime_name}' if prime_name else '') + f'_seed{seed}'
        streams.append(Stream(name, i, q, seed))
  return streams


def generate_files(config, workdir: str):
  g = config.generate
  check_options(g)
  workdir = config_checks.check_workdir(workdir)
  model, params, meta = trained.load_wavenet(g.checkpoint or workdir, 'generate.checkpoint')
  sampling.check_top_k(g, model.quantization_channels)
  heads.check_sampling(model.output, g)
  streams = plan_streams(g, model, meta)
  null = trained.check_guidance(g.guidance, meta)
  mu_law, rate = meta['model']['mu_law'], meta['sample_rate']
  out_dir = g.out_dir or os.path.join(workdir, 'generated')
  os.makedirs(out_dir, exist_ok=True)
  import soundfile
  written = []
  for b in range(0, len(streams), g.batch_size):
    batch = streams[b:b + g.batch_size]
    keys = jnp.stack([jax.random.key(s.seed) for s in batch])
    gc = jnp.asarray([s.class_id for s in batch], jnp.int32) if model.gc_cardinality else None
    paths = [os.path.join(out_dir, s.name + '.wav') for s in batch]
    inputs, prime_start = generate.pad_primes(model, [s.prime for s in batch], mu_law)
    with files.interruptible(written, ', '.join(s.name for s in batch)), audio.wav_writers(paths, rate) as wavs:
      for f, s in zip(wavs, batch):  # the output holds the prime, then the continuation.
        if s.prime is not None:
          f.write(generate.to_audio(model, s.prime, mu_law))
      drawn = generate.generate_chunks(model, params, keys, g.num_samples, g.chunk_size, gc,
                                       g.temperature, mu_law, inputs, g.top_k, g.top_p,
                                       guidance=g.guidance, null_id=null, prime_start=prime_start)
      chunks.write_chunks(wavs, drawn, lambda c: generate.to_audio(model, c, mu_law), [g.num_samples] * len(batch),
                          g.num_samples, f'streams {b + 1}-{b + len(batch)}/{len(streams)}')
    for path, s in zip(paths, batch):
      written.append(path)
      plots.save_spectrogram(path[:-4] + '.png', soundfile.read(path, dtype='float32')[0], rate, s.name)
  print(f'wrote {files.count(len(written), "wav file")} (+ a spectrogram PNG each) to {out_dir}', flush=True)
  return written
