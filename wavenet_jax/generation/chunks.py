"""Streams' audio as it is generated, chunk by chunk: into wav files or into memory.

A scan yields draws [B, n] a chunk at a time (generate.generate_chunks); each stream's samples
go to its sink (an open wav, or `Collected`), cut at the stream's own length, with progress on
stderr (common/progress.py).
"""
import numpy as np

from wavenet_jax.common import progress


class Collected:
  """A sink that keeps what it is given: `audio()` is the samples [T] float32."""

  def __init__(self):
    self.parts = []

  def write(self, x):
    self.parts.append(np.asarray(x, np.float32))

  def audio(self):
    return np.concatenate(self.parts) if self.parts else np.zeros((0,), np.float32)


def write_chunks(sinks, chunks, to_audio, lengths, total: int, label: str) -> None:
  """Appends each chunk of draws ([B, n], `to_audio` makes them samples) to its stream's sink,
  cut at the stream's length, and reports progress on stderr."""
  shown, done = progress.Progress(label, total, 'samples', rate_scale=len(lengths)), 0
  for chunk in chunks:
    for f, x, length in zip(sinks, to_audio(chunk), lengths):
      f.write(x[:max(length - done, 0)])
    done += chunk.shape[1]
    shown.update(min(done, total))
  shown.close()
