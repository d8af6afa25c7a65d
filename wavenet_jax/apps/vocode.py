"""`launch.py --mode=vocode`: audio or log-mel spectrograms -> speech, by a trained vocoder.

vocode.input is a file or folder of audio (resynthesis: audio -> log-mels -> audio, at the
checkpoint's sample rate) or of `.npy` log-mels [frames, num_mels] from a TTS front end:
float, in [0, 1], on input/mel.py's scale with the checkpoint's model.mel settings (r9y9's:
80 bands, hop 256 at 22,050 Hz, 20·log10 magnitude floored at -100 dB, minus 20 dB, mapped
to [0, 1]). Frame i becomes samples [i·hop, (i+1)·hop). Each file gives
WORKDIR/vocoded/<name>.wav (subfolders kept) and <name>.png, its input's log-mels above
the output's. Files are generated `generate.batch_size` at a time, `generate.chunk_size`
samples per scan; the conditioning is computed a chunk at a time with its margin frames
(`Conditioning`), so memory does not grow with length. vocode.fold_frames > 0 instead cuts each
file into segments of that many frames sampled side by side (generation/folding.py): one long
file several times faster, crossfaded at the seams.
"""
import os

import jax
import jax.numpy as jnp
import numpy as np

from wavenet_jax.apps import generate_files
from wavenet_jax.apps.encode_synthesize import AUDIO_EXTENSIONS
from wavenet_jax.checkpoints import trained
from wavenet_jax.common import config_checks, files, plots, progress
from wavenet_jax.generation import folding, generate
from wavenet_jax.input import audio, lpc, mel
from wavenet_jax.models import heads
from wavenet_jax.models.vocoder import Vocoder


# One compiled program per vocoder and slice shape, shared by every batch of files.
_condition = jax.jit(lambda model, params, frames: model.apply(params, frames, method=Vocoder.condition),
                     static_argnames=('model',))
_filters = jax.jit(lpc.filters, static_argnums=(1, 2, 3))
TAPS_BLOCK = 64  # frames per call of _filters: one compiled shape, and memory bounded for a long file


def audio_frames(model: Vocoder, wav):
  """Audio [T] at the model's rate -> its log-mels [ceil(T / hop), M] (zeros pad the last hop)."""
  wav = np.pad(np.asarray(wav, np.float32), (0, -len(wav) % model.hop))
  return np.asarray(mel.log_mel(jnp.asarray(wav[None]), model.features, model.sample_rate))[0]


class Conditioning:
  """A vocoder's upsampled conditioning of frames [B, F, M] read as lc [B, F·hop, M], one
  slice at a time: each slice is computed from its frames and `margin` frames each side
  (zeros past the ends, as training sees a clip's), so it equals one pass over the whole.
  with_margins: the frames [B, margin + F + margin, M] already carry their margins (folded segments)."""

  def __init__(self, model: Vocoder, params, frames, with_margins=False):
    self.model, self.params = model, params
    margins = 0 if with_margins else model.margin
    self.frames = np.pad(np.asarray(frames, np.float32), ((0, 0), (margins,) * 2, (0, 0)))
    num_frames = self.frames.shape[1] - 2 * model.margin
    self.shape = (frames.shape[0], num_frames * model.hop, frames.shape[2])

  def __getitem__(self, index):
    hop = self.model.hop
    a, b, f0, f1 = _frame_span(index, self.shape[1], hop)
    lc = _condition(self.model, self.params, self.frames[:, f0:f1 + 2 * self.model.margin])  # [B, (f1-f0)·hop, M]
    return lc[:, a - f0 * hop:b - f0 * hop]


class Taps:
  """A linear-prediction vocoder's per-sample predictor taps of frames [B, F, M], read as
  [B, F·hop, order] one slice at a time (frame i's for samples [i·hop, (i+1)·hop))."""

  def __init__(self, model: Vocoder, frames):
    self.hop = model.hop
    num_frames = frames.shape[1]
    padded = np.pad(np.asarray(frames, np.float32), ((0, 0), (0, -num_frames % TAPS_BLOCK), (0, 0)))
    self.taps = np.concatenate([  # [B, F, order]
        np.asarray(_filters(padded[:, f:f + TAPS_BLOCK], model.features, model.sample_rate, model.lpc_order))
        for f in range(0, padded.shape[1], TAPS_BLOCK)], axis=1)[:, :num_frames]
    self.shape = (frames.shape[0], num_frames * self.hop, model.lpc_order)

  def __getitem__(self, index):
    a, b, f0, f1 = _frame_span(index, self.shape[1], self.hop)
    return np.repeat(self.taps[:, f0:f1], self.hop, axis=1)[:, a - f0 * self.hop:b - f0 * self.hop]


def _frame_span(index, length: int, hop: int):
  """A [:, a:b] index over `length` samples -> (a, b, f0, f1): frames f0..f1 - 1 cover them."""
  rows, samples = index
  assert rows == slice(None), index
  a, b, _ = samples.indices(length)
  return a, b, a // hop, -(-b // hop)


def read_frames(model: Vocoder, path):
  """A file -> its log-mel frames [F, M]: computed from audio, or a checked .npy."""
  m = model.features
  if not path.lower().endswith('.npy'):
    # Its log-mels reach fmax: a file sampled below twice that lacks the top bands.
    return audio_frames(model, audio.load(path, model.sample_rate, min_rate=2 * m.fmax))
  frames = files.load_npy(path)
  if frames.ndim != 2 or frames.shape[1] != m.num_mels or frames.shape[0] < 1:
    raise config_checks.ConfigError(f'{path}: log-mels of shape {frames.shape}; this vocoder takes '
                                    f'[frames, {m.num_mels}]')
  if not np.issubdtype(frames.dtype, np.floating):
    raise config_checks.ConfigError(f'{path}: dtype {frames.dtype}; log-mels are float32 in [0, 1]')
  if not np.all(np.isfinite(frames)):
    raise config_checks.ConfigError(f'{path}: non-finite values')
  if frames.min() < -1e-4 or frames.max() > 1 + 1e-4:
    raise config_checks.ConfigError(f'{path}: values in [{frames.min():.3g}, {frames.max():.3g}]; log-mels are '
                                    'in [0, 1] (input/mel.py\'s scale: dB floored at min_level_db, mapped to [0, 1])')
  return np.clip(frames, 0, 1).astype(np.float32)


def vocode_files(config, workdir: str):
  g, v = config.generate, config.vocode
  generate_files.check_sampling(g, ('batch_size', 'chunk_size'))
  fold = check_fold(v)
  workdir = config_checks.check_workdir(workdir)
  model, params, meta = trained.load_vocoder(v.checkpoint or workdir, 'vocode.checkpoint')
  heads.check_sampling(model.decoder.output, g)
  generate_files.check_top_k(g, model.decoder.quantization_channels)
  gc_ids = None
  class_id = 0 if v.class_id == -1 else v.class_id
  if not model.decoder.gc_cardinality and v.class_id != -1:
    raise config_checks.ConfigError(f'vocode.class_id={v.class_id!r}: this vocoder is not speaker-conditioned '
                                    '(trained with model.gc_cardinality=0); leave it out')
  if model.decoder.gc_cardinality:
    if not isinstance(class_id, int) or not 0 <= class_id < model.decoder.gc_cardinality:
      raise config_checks.ConfigError(f'vocode.class_id={v.class_id!r}: this vocoder\'s classes are '
                                      f'0..{model.decoder.gc_cardinality - 1} ({", ".join(meta["class_names"])})')
  items = files.find_files(os.path.expanduser(v.input), AUDIO_EXTENSIONS + ('.npy',), f'vocode.input={v.input}')
  items = sorted(((name, read_frames(model, path)) for path, name in items), key=lambda item: len(item[1]))
  out_dir = v.out_dir or os.path.join(workdir, 'vocoded')
  if model.decoder.gc_cardinality:
    gc_ids = jnp.full((len(items),), class_id, jnp.int32)
  written = vocode_batches(model, params, items, gc_ids, out_dir, g, meta['model']['mu_law'], 'files', fold)
  print(f'wrote {files.count(len(written), "wav file")} (+ a spectrogram PNG each) to {out_dir}', flush=True)
  return written


def check_fold(v):
  """vocode.fold_frames and overlap_frames -> (segment, overlap) frames, or None when off."""
  for key in ('fold_frames', 'overlap_frames'):
    if not config_checks.nonnegative_int(v[key]):
      raise config_checks.ConfigError(f'vocode.{key}={v[key]!r}: must be an integer >= 0')
  return (v.fold_frames, v.overlap_frames) if v.fold_frames else None


def vocode_batches(model: Vocoder, params, items, gc_ids, out_dir, g, mu_law, label, fold=None):
  """items [(name, log-mels [F, M])] -> out_dir/<name>.wav and .png each, `g.batch_size` files
  at a time; gc_ids [N] (a multi-speaker vocoder's speakers) or None. fold (segment, overlap
  frames): each file instead as segments side by side, `g.batch_size` at a time. Returns the
  wav paths."""
  written = []
  if fold:
    for i, (name, frames) in enumerate(items):
      with files.interruptible(written, name):
        written.append(_vocode_folded(model, params, name, frames, None if gc_ids is None else gc_ids[i], out_dir,
                                      g, mu_law, fold, f'{label} {i + 1}/{len(items)}'))
    return written
  for b in range(0, len(items), g.batch_size):
    batch = items[b:b + g.batch_size]
    ids = None if gc_ids is None else gc_ids[b:b + len(batch)]
    with files.interruptible(written, ', '.join(name for name, _ in batch)):
      written += _vocode_batch(model, params, batch, ids, out_dir, g, mu_law,
                               f'{label} {b + 1}-{b + len(batch)}/{len(items)}')
  return written


def draw_chunks(model: Vocoder, params, frames, gc_ids, g, mu_law, keys=None, with_margins=False):
  """Log-mels [B, F, M] -> the draws of F·hop samples each, `g.chunk_size` at a time (`to_audio`
  makes them samples); keys [B] (default: generate.seed's for every file). with_margins: frames
  [B, margin + F + margin, M] with their margins, as `Conditioning` takes them."""
  if keys is None:
    keys = jnp.stack([jax.random.key(g.seed)] * len(frames))
  lc = Conditioning(model, params, frames, with_margins)
  own = frames[:, model.margin:frames.shape[1] - model.margin] if with_margins else frames  # [B, F, M]
  taps = Taps(model, own) if model.lpc_order else None
  return generate.generate_chunks(model.decoder, {'params': params['params']['decoder']}, keys, lc.shape[1],
                                  g.chunk_size, gc_ids, g.temperature, mu_law,
                                  generate.silence(model.decoder, len(frames), mu_law), g.top_k, g.top_p, lc=lc,
                                  taps=taps)


def to_audio(model: Vocoder, draws, mu_law):
  """`draw_chunks`'s draws [..., T] -> float32 samples: a linear-prediction vocoder's already are."""
  if model.lpc_order:
    return np.asarray(draws, np.float32)
  return generate.to_audio(model.decoder, draws, mu_law)


def _vocode_batch(model: Vocoder, params, batch, gc_ids, out_dir, g, mu_law, label):
  frames = max(len(f) for _, f in batch)
  padded = np.stack([np.pad(f, ((0, frames - len(f)), (0, 0))) for _, f in batch])  # silence past a file's end
  lengths = [len(f) * model.hop for _, f in batch]
  paths = [os.path.join(out_dir, name + '.wav') for name, _ in batch]
  for path in paths:
    os.makedirs(os.path.dirname(path), exist_ok=True)
  with audio.wav_writers(paths, model.sample_rate) as wavs:
    generate_files.write_chunks(wavs, draw_chunks(model, params, padded, gc_ids, g, mu_law),
                                lambda c: to_audio(model, c, mu_law),
                                lengths, padded.shape[1] * model.hop, label)
  for path, (name, f) in zip(paths, batch):
    _save_pair(path[:-4] + '.png', f, audio.load(path, model.sample_rate), model, name)
  return paths


def _vocode_folded(model: Vocoder, params, name, frames, gc_id, out_dir, g, mu_law, fold, label):
  """One file's log-mels [F, M] -> out_dir/<name>.wav and .png, sampled as folded segments."""
  wav = draw_folded(model, params, frames, gc_id, g, mu_law, fold, label)
  path = os.path.join(out_dir, name + '.wav')
  os.makedirs(os.path.dirname(path), exist_ok=True)
  audio.write_wav(path, wav, model.sample_rate)
  _save_pair(path[:-4] + '.png', frames, wav, model, name)
  return path


def draw_folded(model: Vocoder, params, frames, gc_id, g, mu_law, fold, label=''):
  """One file's log-mels [F, M] -> its samples [F·hop], drawn as segments of fold = (size,
  overlap) frames side by side, `g.batch_size` at a time (generation/folding.py)."""
  size, overlap = fold
  segments = folding.windows(frames, size, overlap, model.margin)  # [K, margin + overlap + size + margin, M]
  k = len(segments)
  if k > g.batch_size:  # silent segments fill the last batch: one compiled shape for every long file
    segments = np.pad(segments, ((0, -k % g.batch_size), (0, 0), (0, 0)))
  keys = jnp.stack([jax.random.fold_in(jax.random.key(g.seed), i) for i in range(len(segments))])
  drawn, shown = [], progress.Progress(label, k, 'segments', piece='batch') if label else None
  for b in range(0, len(segments), g.batch_size):
    part = segments[b:b + g.batch_size]
    ids = None if gc_id is None else jnp.full((len(part),), gc_id, jnp.int32)
    chunks = draw_chunks(model, params, part, ids, g, mu_law, keys[b:b + len(part)], with_margins=True)
    drawn.append(np.concatenate([to_audio(model, c, mu_law) for c in chunks], axis=1))  # [B', (overlap + size)·hop]
    if shown:
      shown.update(min(b + len(part), k))
  if shown:
    shown.close()
  return folding.join(np.concatenate(drawn)[:k], size * model.hop, overlap * model.hop)[:len(frames) * model.hop]


def _save_pair(path, frames, wav, model: Vocoder, name):
  """The input's log-mels above the output's, on one scale."""
  out = audio_frames(model, wav)
  fig, axes = plots.figure((8, 5), nrows=2)
  for ax, (title, image) in zip(axes, [(f'{name}: input', frames), ('vocoded', out)]):
    ax.imshow(image.T, origin='lower', aspect='auto', vmin=0, vmax=1, cmap='magma')
    ax.set_title(title)
    ax.set_ylabel('mel band')
  ax.set_xlabel(f'frame ({model.hop} samples)')
  plots.save_figure(fig, path)
