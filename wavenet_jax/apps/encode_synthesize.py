"""`launch.py --mode=encode|synthesize`: audio -> NSynth embeddings -> audio, as magenta's fastgen.

encode      every audio file under embeddings.input -> <out>/<relative path>.npy, float32
            [frames, E]: the file at the checkpoint's sample rate, its tail cut to a multiple
            of hop (fastgen's trim_for_encoding), through the encoder alone.
synthesize  every .npy under embeddings.input (or an interpolation of two) -> <out>/<name>.wav
            and a spectrogram .png: the decoder run by fast generation (generate.py) from one
            zero input, the embedding upsampled to the sample rate as its local conditioning.

The checkpoint is one of ours (an autoencoder, or a classifier, whose encoder alone can
encode) or magenta's released TF checkpoint. Every stream is sampled with the same key,
jax.random.key(generate.seed): a file's audio depends only on its embedding and the seed,
never on which files share its folder or batch, and an interpolation changes only the
embedding from step to step, not the noise.
"""
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

from wavenet_jax.checkpoints import trained
from wavenet_jax.common import config_checks, files, plots, progress
from wavenet_jax.common.errors import UserError
from wavenet_jax.generation import chunks, encoding, generate, sampling
from wavenet_jax.input import audio
from wavenet_jax.models import heads


class EmbeddingError(UserError, ValueError):
  """A .npy that is not an embedding of this model; the message names the file."""


def encode_files(config, workdir: str):
  """--mode=encode: every audio file under embeddings.input -> one .npy; returns the paths."""
  e = config.embeddings
  for key in ('batch_size', 'chunk_frames'):
    if not config_checks.positive_int(e[key]):
      raise config_checks.ConfigError(f'embeddings.{key}={e[key]!r}: must be an integer >= 1')
  if not e.input:
    raise config_checks.ConfigError('embeddings.input is empty: set it to a folder of audio files '
                                    '(searched recursively) or to one file')
  workdir = config_checks.check_workdir(workdir)
  inputs = files.find_files(os.path.expanduser(e.input), audio.AUDIO_EXTENSIONS, f'embeddings.input={e.input}')
  model = trained.load_nsynth(e.checkpoint or workdir, config, 'embeddings.checkpoint')
  out_dir = e.out_dir or os.path.join(workdir, 'embeddings')
  written, short, seconds = [], [], 0.0
  shown = progress.Progress('encoding', len(inputs), 'files', piece='batch')
  pending = []  # consecutive files of one trimmed length, encoded as one batch

  def flush():
    embeddings = encoding.encode(model, np.stack([w for _, w in pending]), e.chunk_frames)  # [B, F, E]
    for (name, _), en in zip(pending, embeddings):
      path = os.path.join(out_dir, name + '.npy')
      files.save_npy(path, en)
      written.append(path)
    pending.clear()
    shown.update(len(written) + len(short))

  in_progress = lambda: ', '.join(n for n, _ in pending) or 'the next file'
  with files.interruptible(written, in_progress, 'embedding file'):
    for path, name in inputs:
      wav = encoding.trim_for_encoding(audio.load(path, model.sample_rate), model.hop)
      if wav.size == 0:
        short.append(path)
        continue
      if pending and (len(pending) == e.batch_size or pending[0][1].size != wav.size):
        flush()
      pending.append((name, wav))
      seconds += wav.size / model.sample_rate
    if pending:
      flush()
  shown.close()
  if short:
    print(f'warning: skipped {files.count(len(short), "file")} shorter than one frame ({model.hop} samples at '
          f'{model.sample_rate} Hz): {", ".join(short)}', file=sys.stderr, flush=True)
  print(f'encoded {files.count(len(written), "file")} ({seconds:,.1f} s of audio, {model.channels} channels every '
        f'{model.hop} samples) to {out_dir}' + (f'; skipped {len(short)} too short' if short else ''),
        flush=True)
  return written


# ------------------------------------------------------------------------- synthesis

def load_embedding(path: str, channels: int):
  """A .npy holding float [frames, channels] finite values -> float32 array, or one-line EmbeddingError."""
  array = files.load_npy(path, EmbeddingError)
  want = f'float [frames, {channels}] (this model\'s bottleneck)'
  if not isinstance(array, np.ndarray) or array.ndim != 2:
    raise EmbeddingError(f'{path}: expected a 2-D embedding {want}, found shape {np.shape(array)}')
  if not np.issubdtype(array.dtype, np.floating):
    raise EmbeddingError(f'{path}: expected {want}, found dtype {array.dtype}')
  if array.shape[1] != channels:
    raise EmbeddingError(f'{path}: expected {want}, found {array.shape[1]} channels (shape {array.shape})')
  if array.shape[0] == 0:
    raise EmbeddingError(f'{path}: expected at least one frame, found shape {array.shape}')
  bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
  if bad:
    raise EmbeddingError(f'{path}: expected finite values, found {bad} NaN/inf')
  return array.astype(np.float32)


def interpolate(a, b, steps: int):
  """[(alpha, (1 - alpha)·a + alpha·b)] for alpha in linspace(0, 1, steps), over the shorter's frames.

  In float64, then float32: alpha 0 gives `a` and alpha 1 gives `b` exactly.
  """
  frames = min(len(a), len(b))
  a64, b64 = np.asarray(a[:frames], np.float64), np.asarray(b[:frames], np.float64)
  return [(float(t), ((1 - t) * a64 + t * b64).astype(np.float32)) for t in np.linspace(0, 1, steps)]


def _plan(config, workdir, model):
  """[(output name, embedding [F, E])] of the .npy files or the interpolation, checked."""
  e = config.embeddings
  if not e.interpolate:
    root = os.path.expanduser(e.input) if e.input else os.path.join(workdir, 'embeddings')
    what = f'embeddings.input={e.input}' if e.input else f"embeddings.input='' (= {root}, encode's output)"
    return [(name, load_embedding(path, model.channels)) for path, name in files.find_files(root, ('.npy',), what)]
  if e.input:
    raise config_checks.ConfigError('embeddings.input and embeddings.interpolate are both set: '
                                    'synthesize reads one or the other')
  if len(e.interpolate) != 2 or not all(isinstance(p, str) for p in e.interpolate):
    raise config_checks.ConfigError(f'embeddings.interpolate={tuple(e.interpolate)!r}: must be a '
                                    'pair of .npy paths')
  steps = e.interpolation_steps
  if not isinstance(steps, int) or isinstance(steps, bool) or steps < 2:
    raise config_checks.ConfigError(f'embeddings.interpolation_steps={steps!r}: must be an integer >= 2')
  (pa, a), (pb, b) = [(p, load_embedding(os.path.expanduser(p), model.channels)) for p in e.interpolate]
  stem = lambda p: os.path.splitext(os.path.basename(p))[0]
  mixes = [(f'{stem(pa)}_{stem(pb)}_mix{alpha:.4g}', mix) for alpha, mix in interpolate(a, b, steps)]
  if len({n for n, _ in mixes}) < len(mixes):
    raise config_checks.ConfigError(f'embeddings.interpolation_steps={steps}: too many to name apart')
  return mixes


def synthesize_files(config, workdir: str):
  """--mode=synthesize: every embedding -> a wav of frames·hop samples (+ spectrogram PNG).

  Uses generate.temperature, top_k, top_p, seed (one key for every stream), batch_size
  (files generated together) and chunk_size (samples per scan).
  """
  g = config.generate
  sampling.check(g, ('batch_size', 'chunk_size'))
  workdir = config_checks.check_workdir(workdir)
  model = trained.load_nsynth(config.embeddings.checkpoint or workdir, config, 'embeddings.checkpoint')
  trained.need_decoder(model)
  sampling.check_top_k(g, model.decoder.quantization_channels)
  heads.check_sampling(model.decoder.output, g)
  items = _plan(config, workdir, model)
  out_dir = config.embeddings.out_dir or os.path.join(workdir, 'synthesized')
  if config.embeddings.interpolate:
    for name, mix in items:
      files.save_npy(os.path.join(out_dir, name + '.npy'), mix)
  # Files of similar length share a batch (less generated past a short file's end); the
  # order cannot change a stream, whose key and conditioning are its own.
  items = sorted(items, key=lambda item: len(item[1]))
  written = []
  for b in range(0, len(items), g.batch_size):
    batch = items[b:b + g.batch_size]
    with files.interruptible(written, ', '.join(name for name, _ in batch)):
      written += _synthesize_batch(model, batch, out_dir, g, f'files {b + 1}-{b + len(batch)}/{len(items)}')
  print(f'wrote {files.count(len(written), "wav file")} (+ a spectrogram PNG each) to {out_dir}', flush=True)
  return written


def _synthesize_batch(model: trained.NSynthModel, batch, out_dir, g, label):
  import soundfile
  hop = model.hop
  frames = max(len(en) for _, en in batch)
  # Shorter embeddings hold their last frame; what is generated past their end is dropped.
  padded = np.stack([np.concatenate([en, np.repeat(en[-1:], frames - len(en), 0)]) for _, en in batch])
  lengths = [len(en) * hop for _, en in batch]
  keys = jnp.stack([jax.random.key(g.seed)] * len(batch))
  start_input = jnp.zeros((len(batch), 1), jnp.float32)  # the decoder's shifted-in zero
  paths = [os.path.join(out_dir, name + '.wav') for name, _ in batch]
  total = frames * hop
  with audio.wav_writers(paths, model.sample_rate) as wavs:
    drawn = generate.generate_chunks(model.decoder, {'params': model.params['decoder']}, keys,
                                     total, g.chunk_size, None, g.temperature, 'nsynth',
                                     start_input, g.top_k, g.top_p, lc=encoding.Upsampled(padded, hop))
    chunks.write_chunks(wavs, drawn, lambda c: generate.to_audio(model.decoder, c, 'nsynth'), lengths, total, label)
  for path, (name, _) in zip(paths, batch):
    plots.save_spectrogram(path[:-4] + '.png', soundfile.read(path, dtype='float32')[0],
                           model.sample_rate, name)
  return paths
