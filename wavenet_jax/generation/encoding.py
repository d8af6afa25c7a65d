"""NSynth embeddings for any length: audio -> embedding frames in windows, frames -> the decoder's lc.

`encode` runs the encoder over windows of frames plus a halo that covers its reach, so
device memory does not grow with length and every frame is the whole file's frame.
`Upsampled` reads embedding frames as sample-rate local conditioning, a slice at a time.
"""
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from wavenet_jax.models import nsynth


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


def encode(model, wavs, chunk_frames: int):
  """float audio [B, T] (T a multiple of hop) -> float32 embeddings [B, T / hop, E].

  model: a checkpoints.trained.NSynthModel. Each window starts or ends at the file's own
  start or end when it reaches it, so the convs pad exactly where they would on the whole
  file: the frames kept are the whole-file frames (the tests check this).
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
