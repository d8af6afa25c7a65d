"""Folded sampling: one long conditioning sequence cut into overlapping segments that are
sampled side by side as one batch, then joined with a crossfade (fatchord/WaveRNN's batched
generation).

A stream is sequential, but a batch of B streams costs little more per step than one (each
step reads the weights once for all of them), so one file cut into K segments is sampled up to
~K times faster. Segment k covers frames [k·size - overlap, (k+1)·size) of the sequence (zeros
outside it): its first `overlap` frames remake the end of segment k-1. The first half of them
is warm-up (the stream's history fills with its own samples, then is dropped); over the second
half the output fades linearly from segment k-1 to segment k. Every segment is an exact stream
of the model; the seams are not its joint distribution, so folding is opt-in.
"""
import numpy as np


def windows(frames, size: int, overlap: int, margin: int):
  """Frames [F, M] -> [K, margin + overlap + size + margin, M], K = ceil(F / size): segment k's
  frames with `margin` frames of the sequence's own context each side (zeros past its ends), so
  each segment's conditioning equals the whole sequence's at the same samples."""
  num_frames = len(frames)
  k = -(-num_frames // size)
  padded = np.pad(frames, ((overlap + margin, k * size - num_frames + margin), (0, 0)))
  length = overlap + size + 2 * margin
  return np.stack([padded[i * size:i * size + length] for i in range(k)])


def join(segments, size: int, overlap: int):
  """Sampled segments [K, overlap + size] (in samples: size and overlap times the hop) ->
  [K·size]: each segment's last `size` samples, its start crossfaded with the end of the
  segment before over the last overlap // 2 of its overlap."""
  segments = np.asarray(segments)
  out = segments[:, overlap:].reshape(-1).copy()  # [K·size]
  fade = overlap // 2
  w = (np.arange(fade) + 0.5) / fade  # [fade], 0 -> 1
  for k in range(1, len(segments)):
    before = segments[k - 1, overlap + size - fade:]  # segment k-1 at samples [k·size - fade, k·size)
    after = segments[k, overlap - fade:overlap]  # segment k at the same samples
    out[k * size - fade:k * size] = (1 - w) * before + w * after
  return out
