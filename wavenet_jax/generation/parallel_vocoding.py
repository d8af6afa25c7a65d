"""A non-autoregressive vocoder's sampling (Parallel WaveGAN): every sample of a file in one pass.

A file's noise is N(0, 1) drawn from its own key, so batching never changes the file. A long
file goes in chunks of `chunk_frames` frames, each computed over a window of `halo_frames`
more on each side (the generator's reach; the conditioning's margin frames beyond that, zeros
past the file's ends as training sees a clip's) and cut back to its own samples: equal to one
pass over the file, with memory bounded by the chunk. Every file's windows are batched
`batch_size` at a time in one compiled shape, a shorter window padded and masked
(models/parallel_wavegan.Generator's `valid`).
"""
import jax
import numpy as np

from wavenet_jax.models.parallel_wavegan import ParallelVocoder

_apply = jax.jit(lambda model, params, noise, frames, valid: model.apply(params, noise, frames, valid),
                 static_argnames=('model',))


def halo_frames(model: ParallelVocoder) -> int:
  """Frames each side of a chunk whose samples reach it through the generator."""
  return -(-model.generator.halo // model.hop)


def noise(key, num_samples: int):
  """A file's noise [num_samples] float32: N(0, 1) from its key alone."""
  return np.asarray(jax.random.normal(key, (num_samples,)), np.float32)


def vocode(model: ParallelVocoder, params, items, keys, chunk_frames: int, batch_size: int):
  """log-mels [[F_i, M]] and one key per file -> audio [[F_i·hop]] float32 in [-1, 1]."""
  hop, margin, halo = model.hop, model.margin, halo_frames(model)
  width = chunk_frames + 2 * halo  # frames of the widest window
  windows = []  # (file, window frames a..b, chunk frames f0..f1, its noise, its frames with margins)
  for i, (frames, key) in enumerate(zip(items, keys)):
    n = len(frames)
    drawn = noise(key, n * hop)
    padded = np.pad(np.asarray(frames, np.float32), ((margin, margin), (0, 0)))  # [margin + F + margin, M]
    for f0 in range(0, n, chunk_frames):
      f1 = min(f0 + chunk_frames, n)
      a, b = max(f0 - halo, 0), min(f1 + halo, n)
      windows.append((i, a, f0, f1, drawn[a * hop:b * hop], padded[a:b + 2 * margin]))
  out = [np.zeros(len(frames) * hop, np.float32) for frames in items]
  num_mels = model.features.num_mels
  for s in range(0, len(windows), batch_size):
    part = windows[s:s + batch_size]
    noise_b = np.zeros((batch_size, width * hop), np.float32)
    frames_b = np.zeros((batch_size, width + 2 * margin, num_mels), np.float32)
    valid = np.zeros((batch_size, width * hop), bool)
    for j, (_, _, _, _, window_noise, window_frames) in enumerate(part):
      noise_b[j, :len(window_noise)] = window_noise
      frames_b[j, :len(window_frames)] = window_frames
      valid[j, :len(window_noise)] = True
    audio = np.asarray(_apply(model, params, noise_b, frames_b, valid))  # [batch_size, width·hop]
    for j, (i, a, f0, f1, _, _) in enumerate(part):
      out[i][f0 * hop:f1 * hop] = audio[j, (f0 - a) * hop:(f1 - a) * hop]
  return [np.clip(x, -1.0, 1.0) for x in out]
