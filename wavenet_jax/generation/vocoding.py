"""A trained autoregressive vocoder's sampling: log-mel spectrograms -> audio.

Frame i becomes samples [i·hop, (i+1)·hop). The conditioning is computed a chunk at a time
with its margin frames (`Conditioning`), so memory does not grow with length; a
linear-prediction vocoder's taps likewise (`Taps`). `draw_into` samples files side by side,
`draw_folded` one long file as segments side by side (generation/folding.py), crossfaded at the
seams. `draw_files` is what the vocoder kind's Kind.draw_speech runs, for `--mode=vocode`
(apps/vocode.py) and the resynthesis scores (evaluation/resynthesis.py).
"""
import jax
import jax.numpy as jnp
import numpy as np

from wavenet_jax.common import config_checks, progress
from wavenet_jax.generation import chunks, folding, generate
from wavenet_jax.input import lpc, mel
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


def draw_into(model: Vocoder, params, batch, gc_ids, g, mu_law, sinks, label):
  """log-mels [[F_i, M]] drawn side by side (shorter ones padded with silent frames), each
  file's samples appended to its sink (an open wav, chunks.Collected) as its chunks arrive,
  cut at F_i·hop; gc_ids [B] (a multi-speaker vocoder's speakers) or None."""
  frames = max(len(f) for f in batch)
  padded = np.stack([np.pad(f, ((0, frames - len(f)), (0, 0))) for f in batch])  # [B, F, M]
  chunks.write_chunks(sinks, draw_chunks(model, params, padded, gc_ids, g, mu_law), lambda c: to_audio(model, c, mu_law),
                      [len(f) * model.hop for f in batch], frames * model.hop, label)


def fold_of(v):
  """vocode.fold_frames and overlap_frames -> (segment, overlap) frames, or None when off."""
  for key in ('fold_frames', 'overlap_frames'):
    if not config_checks.nonnegative_int(v[key]):
      raise config_checks.ConfigError(f'vocode.{key}={v[key]!r}: must be an integer >= 0')
  return (v.fold_frames, v.overlap_frames) if v.fold_frames else None


def draw_files(model: Vocoder, params, items, gc_ids, config, sinks, label):
  """log-mels [[F_i, M]] -> each file's samples into its sink: `config.generate.batch_size`
  files side by side, or with vocode.fold_frames each file alone as folded segments (`draw_folded`);
  gc_ids [N] (a multi-speaker vocoder's speakers) or None. Sampled with config.generate's
  settings and config.model's mu-law."""
  g, mu_law, fold = config.generate, config.model.mu_law, fold_of(config.vocode)
  n = len(items)
  if fold:
    for i, (frames, sink) in enumerate(zip(items, sinks)):
      sink.write(draw_folded(model, params, frames, None if gc_ids is None else gc_ids[i], g, mu_law, fold,
                             f'{label} {i + 1}/{n}'))
    return
  for b in range(0, n, g.batch_size):
    draw_into(model, params, items[b:b + g.batch_size], None if gc_ids is None else gc_ids[b:b + g.batch_size], g,
              mu_law, sinks[b:b + g.batch_size], f'{label} {b + 1}-{min(b + g.batch_size, n)}/{n}')


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
