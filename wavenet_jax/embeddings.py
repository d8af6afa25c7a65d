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
import dataclasses
import functools
import math
import os
import sys
import time
from typing import Optional

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from wavenet_jax import (audio, checkpointing, config_checks, generate, generate_files, importers, nsynth,
                         plots)
from wavenet_jax.wavenet import WaveNet

NSYNTH_KINDS = ('nsynth_autoencoder', 'nsynth_classifier', 'nsynth_autoencoder_classifier')
DECODER_KINDS = ('nsynth_autoencoder', 'nsynth_autoencoder_classifier')
AUDIO_EXTENSIONS = ('.wav', '.flac', '.au', '.mp3', '.ogg', '.aiff', '.aif')
MAGENTA_SAMPLE_RATE = 16000  # NSynth's; magenta's checkpoints carry no meta of their own.


class EmbeddingError(ValueError):
  """A .npy that is not an embedding of this model; the message names the file."""


@dataclasses.dataclass
class Model:
  encoder: nsynth.Encoder
  decoder: Optional[WaveNet]  # None for a classifier trained without one.
  params: dict  # {'encoder': ..., 'decoder': ...}: each module's own params.
  quantization_channels: int  # of the mu-law that makes the encoder's input
  sample_rate: int
  kind: str
  path: str

  @property
  def hop(self) -> int:
    return self.encoder.hop

  @property
  def channels(self) -> int:
    return self.encoder.bottleneck


# ------------------------------------------------------------------------- the model

def _encoder(e) -> nsynth.Encoder:
  return nsynth.Encoder(width=e.width, filter_width=e.filter_width, dilations=tuple(e.dilations),
                        bottleneck=e.bottleneck, hop=e.hop)


def load_model(path: str, config=None) -> Model:
  """The encoder (and decoder, when there is one) of a run's checkpoint or a magenta TF prefix.

  A magenta prefix is read as config.model when that is an NSynth kind, else as h512_bo16.
  """
  path = os.path.expanduser(path)
  if os.path.exists(path + '.index'):
    m = config.model if config is not None and config.model.get('kind') in NSYNTH_KINDS else None
    m = m if m is not None else nsynth.h512_bo16_config()
    params = jax.device_put(importers.import_magenta_nsynth(path, m)['params'])
    return Model(_encoder(m.encoder), WaveNet.from_config(m), params, m.quantization_channels,
                 MAGENTA_SAMPLE_RATE, 'nsynth_autoencoder', path)
  state, meta = checkpointing.load(path)
  m = ml_collections.ConfigDict(meta.get('model') or {})
  kind = m.get('kind', 'wavenet')
  if kind not in NSYNTH_KINDS:
    raise checkpointing.CheckpointError(
        f'{path}: model.kind {kind!r} is a WaveNet, not an NSynth autoencoder (encode and '
        f"synthesize need model.kind 'nsynth_autoencoder' or a classifier built on its encoder)")
  params = state['ema_params'] if state.get('ema_params') is not None else state['params']
  params = jax.device_put(params['params'])  # once, not with every window or chunk
  decoder = None
  if kind in DECODER_KINDS and 'decoder' in params:
    decoder = WaveNet.from_config(m)
    if decoder.lc_channels != m.encoder.bottleneck:
      raise checkpointing.CheckpointError(
          f'{path}: decoder lc_channels {decoder.lc_channels} != encoder bottleneck {m.encoder.bottleneck}')
  if 'encoder' not in params:
    raise checkpointing.CheckpointError(f'{path}: model.kind {kind!r} but no encoder params')
  return Model(_encoder(m.encoder), decoder, params, m.quantization_channels, int(meta['sample_rate']),
               kind, path)


def need_decoder(model: Model) -> None:
  if model.decoder is None:
    raise checkpointing.CheckpointError(
        f'{model.path}: model.kind {model.kind!r} has no decoder: synthesize needs an NSynth '
        f"autoencoder (model.kind 'nsynth_autoencoder' or 'nsynth_autoencoder_classifier')")


# ------------------------------------------------------------------------- encoding

def trim_for_encoding(wav, hop: int):
  """[T] -> [T // hop · hop]: the tail that would not fill a frame is dropped (magenta's fastgen)."""
  return wav[:len(wav) // hop * hop]


def halo_frames(encoder: nsynth.Encoder) -> int:
  """Frames each side of a window that reach its inner frames through the 'SAME' convs."""
  radius = (encoder.filter_width // 2) * (1 + sum(encoder.dilations))  # samples, start conv + stack
  return math.ceil(radius / encoder.hop)


@functools.partial(jax.jit, static_argnames=('encoder', 'q'))
def _apply_encoder(encoder, params, audio_f, q):  # [B, T] -> [B, T / hop, E]
  return encoder.apply({'params': params}, nsynth.scaled_input(audio_f, q))


def encode(model: Model, wavs, chunk_frames: int):
  """float audio [B, T] (T a multiple of hop) -> float32 embeddings [B, T / hop, E].

  Long audio goes through in windows of `chunk_frames` frames plus a halo that covers the
  encoder's reach, so device memory does not grow with length. Each window starts or ends at the
  file's own start or end when it reaches it, so the convs pad exactly where they would on
  the whole file: the frames kept are the whole-file frames (the tests check this).
  """
  hop, halo = model.hop, halo_frames(model.encoder)
  frames = wavs.shape[1] // hop
  out = []
  for f0 in range(0, frames, chunk_frames):
    f1 = min(f0 + chunk_frames, frames)
    w0, w1 = max(f0 - halo, 0), min(f1 + halo, frames)
    en = _apply_encoder(model.encoder, model.params['encoder'], jnp.asarray(wavs[:, w0 * hop:w1 * hop]),
                        model.quantization_channels)
    out.append(np.asarray(en[:, f0 - w0:f1 - w0], np.float32))  # [B, f1 - f0, E]
  return np.concatenate(out, axis=1)


def find_files(root: str, extensions, what: str):
  """(path, name = relative path without extension) of every matching file under root, sorted.

  what: how errors name root ('embeddings.input=DIR').
  """
  if os.path.isfile(root):
    return [(root, os.path.splitext(os.path.basename(root))[0])]
  if not os.path.isdir(root):
    raise config_checks.ConfigError(f'{what}: no such file or folder')
  found = []
  for folder, dirs, files in os.walk(root):
    dirs.sort()
    for f in sorted(files):
      if f.lower().endswith(extensions) and not f.startswith('.'):
        path = os.path.join(folder, f)
        found.append((path, os.path.splitext(os.path.relpath(path, root))[0]))
  if not found:
    raise config_checks.ConfigError(f'{what}: no {"/".join(e[1:] for e in extensions)} files in it')
  seen = {}
  for path, name in found:
    if name in seen:  # a.wav and a.flac would both become a.npy
      raise config_checks.ConfigError(f'{what}: {seen[name]} and {path} would write the same output {name}')
    seen[name] = path
  return found


def save_npy(path: str, array) -> None:
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with open(path + '.tmp', 'wb') as f:  # np.save(name) would append .npy to the temp name.
    np.save(f, array)
  os.replace(path + '.tmp', path)


def encode_files(config, workdir: str):
  """--mode=encode: every audio file under embeddings.input -> one .npy; returns the paths."""
  e = config.embeddings
  for key in ('batch_size', 'chunk_frames'):
    if not isinstance(e[key], int) or isinstance(e[key], bool) or e[key] < 1:
      raise config_checks.ConfigError(f'embeddings.{key}={e[key]!r}: must be an integer >= 1')
  if not e.input:
    raise config_checks.ConfigError('embeddings.input is empty: set it to a folder of audio files '
                                    '(searched recursively) or to one file')
  workdir = config_checks.check_workdir(workdir)
  files = find_files(os.path.expanduser(e.input), AUDIO_EXTENSIONS, f'embeddings.input={e.input}')
  model = load_model(e.checkpoint or workdir, config)
  out_dir = e.out_dir or os.path.join(workdir, 'embeddings')
  written, short, seconds, start = [], [], 0.0, time.time()
  pending = []  # consecutive files of one trimmed length, encoded as one batch

  def flush():
    embeddings = encode(model, np.stack([w for _, w in pending]), e.chunk_frames)  # [B, F, E]
    for (name, _), en in zip(pending, embeddings):
      path = os.path.join(out_dir, name + '.npy')
      save_npy(path, en)
      written.append(path)
    pending.clear()
    print(f'\rencoded {len(written)}/{len(files)} files, {seconds / max(time.time() - start, 1e-9):,.1f} '
          f's of audio per second', end='', file=sys.stderr, flush=True)

  for path, name in files:
    wav = trim_for_encoding(audio.load(path, model.sample_rate), model.hop)
    if wav.size == 0:
      short.append(path)
      continue
    if pending and (len(pending) == e.batch_size or pending[0][1].size != wav.size):
      flush()
    pending.append((name, wav))
    seconds += wav.size / model.sample_rate
  if pending:
    flush()
  print(file=sys.stderr)
  if short:
    print(f'warning: skipped {len(short)} files shorter than one frame ({model.hop} samples at '
          f'{model.sample_rate} Hz): {", ".join(short)}', file=sys.stderr, flush=True)
  print(f'encoded {len(written)} files ({seconds:,.1f} s of audio, {model.channels} channels every '
        f'{model.hop} samples) to {out_dir}' + (f'; skipped {len(short)} too short' if short else ''),
        flush=True)
  return written


# ------------------------------------------------------------------------- synthesis

def load_embedding(path: str, channels: int):
  """A .npy holding float [frames, channels] finite values -> float32 array, or one-line EmbeddingError."""
  try:
    array = np.load(path, allow_pickle=False)
  except Exception as err:  # bad magic, truncated data, pickled objects, a folder…
    reason = ' '.join(f'{type(err).__name__}: {err}'.split())
    raise EmbeddingError(f'{path}: cannot read as a .npy array ({reason})') from None
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


class Upsampled:
  """Frames [B, F, E] read as lc [B, F·hop, E], one slice at a time: host memory stays
  O(frames), whatever the length (generate_chunks only slices lc[:, a:b])."""

  def __init__(self, frames, hop: int):
    self.frames, self.hop = frames, hop
    self.shape = (frames.shape[0], frames.shape[1] * hop, frames.shape[2])

  def __getitem__(self, index):
    rows, samples = index
    assert rows == slice(None), index
    a, b, _ = samples.indices(self.shape[1])
    f0 = a // self.hop
    held = np.repeat(self.frames[:, f0:-(-b // self.hop)], self.hop, axis=1)
    return held[:, a - f0 * self.hop:b - f0 * self.hop]


def _plan(config, workdir, model):
  """[(output name, embedding [F, E])] of the .npy files or the interpolation, checked."""
  e = config.embeddings
  if not e.interpolate:
    root = os.path.expanduser(e.input) if e.input else os.path.join(workdir, 'embeddings')
    what = f'embeddings.input={e.input}' if e.input else f"embeddings.input='' (= {root}, encode's output)"
    return [(name, load_embedding(path, model.channels)) for path, name in find_files(root, ('.npy',), what)]
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
  generate_files.check_sampling(g, ('batch_size', 'chunk_size'))
  workdir = config_checks.check_workdir(workdir)
  model = load_model(config.embeddings.checkpoint or workdir, config)
  need_decoder(model)
  items = _plan(config, workdir, model)
  out_dir = config.embeddings.out_dir or os.path.join(workdir, 'synthesized')
  if config.embeddings.interpolate:
    for name, mix in items:
      save_npy(os.path.join(out_dir, name + '.npy'), mix)
  # Files of similar length share a batch (less generated past a short file's end); the
  # order cannot change a stream, whose key and conditioning are its own.
  items = sorted(items, key=lambda item: len(item[1]))
  written = []
  for b in range(0, len(items), g.batch_size):
    batch = items[b:b + g.batch_size]
    written += _synthesize_batch(model, batch, out_dir, g, f'files {b + 1}-{b + len(batch)}/{len(items)}')
  print(f'wrote {len(written)} wav files (+ spectrogram PNGs) to {out_dir}', flush=True)
  return written


def _synthesize_batch(model: Model, batch, out_dir, g, label):
  import soundfile
  hop, q = model.hop, model.quantization_channels
  frames = max(len(en) for _, en in batch)
  # Shorter embeddings hold their last frame; what is generated past their end is dropped.
  padded = np.stack([np.concatenate([en, np.repeat(en[-1:], frames - len(en), 0)]) for _, en in batch])
  lengths = [len(en) * hop for _, en in batch]
  keys = jnp.stack([jax.random.key(g.seed)] * len(batch))
  start_input = jnp.zeros((len(batch), 1), jnp.float32)  # the decoder's shifted-in zero
  paths = [os.path.join(out_dir, name + '.wav') for name, _ in batch]
  for path in paths:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  files = [soundfile.SoundFile(p + '.tmp', 'w', model.sample_rate, 1, 'PCM_16', format='WAV')
           for p in paths]
  start, done, total = time.time(), 0, frames * hop
  for chunk in generate.generate_chunks(model.decoder, {'params': model.params['decoder']}, keys,
                                        total, g.chunk_size, None, g.temperature, 'nsynth',
                                        start_input, g.top_k, g.top_p, lc=Upsampled(padded, hop)):
    samples = audio.mu_law_decode(np.asarray(chunk), q, 'nsynth')  # [B, n]
    for f, x, length in zip(files, samples, lengths):
      f.write(x[:max(length - done, 0)])
    done += chunk.shape[1]
    print(f'\r{label}: {done}/{total} samples, {done * len(batch) / max(time.time() - start, 1e-9):,.0f} '
          f'samples/s', end='', file=sys.stderr, flush=True)
  print(file=sys.stderr)
  for f, path, (name, _) in zip(files, paths, batch):
    f.close()
    os.replace(path + '.tmp', path)
    plots.save_spectrogram(path[:-4] + '.png', soundfile.read(path, dtype='float32')[0],
                           model.sample_rate, name)
  return paths
