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
from wavenet_jax.common import config_checks, files, plots, progress
from wavenet_jax.generation import generate
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
  check_sampling(g, ('batch_size', 'chunk_size', 'streams_per_class'))


def check_sampling(g, counts) -> None:
  """config.generate's sampling options and the positive integers named in `counts`."""
  if g.temperature < 0:
    raise config_checks.ConfigError(f'generate.temperature={g.temperature!r}: must be >= 0')
  if not isinstance(g.top_k, int) or g.top_k < 0:
    raise config_checks.ConfigError(f'generate.top_k={g.top_k!r}: must be an integer >= 0 (0 = off)')
  if not 0 < g.top_p <= 1:
    raise config_checks.ConfigError(f'generate.top_p={g.top_p!r}: must be in (0, 1] (1 = off)')
  if g.get('guidance', 1.0) < 0:
    raise config_checks.ConfigError(f'generate.guidance={g.guidance!r}: must be >= 0 (1 = off)')
  for key in counts:
    if not isinstance(g[key], int) or isinstance(g[key], bool) or g[key] < 1:
      raise config_checks.ConfigError(f'generate.{key}={g[key]!r}: must be an integer >= 1')


def check_top_k(g, num_classes: int) -> None:
  """generate.top_k against the model's output classes: keeping k >= all of them is no cut."""
  if g.top_k >= num_classes:
    raise config_checks.ConfigError(f'generate.top_k={g.top_k}: must be below the model\'s {num_classes} '
                                    f'output classes (0 = off)')


def write_chunks(wavs, chunks, to_audio, lengths, total: int, label: str) -> None:
  """Appends each chunk of draws ([B, n], `to_audio` makes them samples) to its stream's wav,
  cut at the stream's length, and reports progress on stderr."""
  shown, done = progress.Progress(label, total, 'samples', rate_scale=len(lengths)), 0
  for chunk in chunks:
    for f, x, length in zip(wavs, to_audio(chunk), lengths):
      f.write(x[:max(length - done, 0)])
    done += chunk.shape[1]
    shown.update(min(done, total))
  shown.close()


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
    primes = [(None, None)] if g.get('unprimed_too', False) else []
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
  check_top_k(g, model.quantization_channels)
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
      chunks = generate.generate_chunks(model, params, keys, g.num_samples, g.chunk_size, gc,
                                        g.temperature, mu_law, inputs, g.top_k, g.top_p,
                                        guidance=g.guidance, null_id=null, prime_start=prime_start)
      write_chunks(wavs, chunks, lambda c: generate.to_audio(model, c, mu_law), [g.num_samples] * len(batch),
                   g.num_samples, f'streams {b + 1}-{b + len(batch)}/{len(streams)}')
    for path, s in zip(paths, batch):
      written.append(path)
      plots.save_spectrogram(path[:-4] + '.png', soundfile.read(path, dtype='float32')[0], rate, s.name)
  print(f'wrote {files.count(len(written), "wav file")} (+ a spectrogram PNG each) to {out_dir}', flush=True)
  return written
