"""Audio in and out of the model: mu-law quantisation, silence trimming, wav I/O.

The quantisers take an array namespace `xp` so that one formula serves numpy (data
building, priming), jax.numpy (inside jitted steps) and tf.experimental.numpy (tf.data).
"""
import contextlib
import math
import os
import warnings

import numpy as np

from wavenet_jax.common import files
from wavenet_jax.common.errors import UserError

# The two mu-law conventions users meet in the wild.
#   'ibab':   ibab/tensorflow-wavenet and r9y9 — round((sign·log1p(mu|x|)/log1p(mu) + 1)/2·mu).
#   'nsynth': magenta NSynth — floor(sign·log1p(mu|x|)/log1p(mu) · C/2), shifted by C/2 to a class.
MU_LAW_KINDS = ('ibab', 'nsynth')
# What the modes that read a user's audio files (encode, vocode) look for in a folder.
AUDIO_EXTENSIONS = ('.wav', '.flac', '.au', '.mp3', '.ogg', '.aiff', '.aif')


class AudioError(UserError, ValueError):
  """A file that cannot be turned into audio; the message names the file."""


def _check_kind(kind):
  if kind not in MU_LAW_KINDS:
    raise ValueError(f'mu_law kind {kind!r} is not one of {MU_LAW_KINDS}')


def mu_law_encode(audio, channels=256, kind='ibab', xp=np):
  """Float audio in [-1, 1] -> int32 classes in [0, channels)."""
  _check_kind(kind)
  mu = channels - 1
  clipped = xp.minimum(xp.abs(audio), 1.0)
  # A Python float, not np.log1p: a NumPy float64 scalar would make numpy compute in
  # float64 (NEP 50) and TF refuse to mix it with float32, so the namespaces would differ.
  magnitude = xp.log1p(mu * clipped) / math.log1p(mu)
  signal = xp.sign(audio) * magnitude
  # xp.asarray(·, dtype) rather than .astype: TF tensors have no .astype unless numpy
  # behaviour is switched on process-wide.
  if kind == 'ibab':
    return xp.asarray(xp.floor((signal + 1.0) / 2.0 * mu + 0.5), dtype=xp.int32)
  half = channels // 2
  # NSynth's floor(·128) maps +1.0 to 128, one past int8; clip keeps it a valid class.
  q = xp.clip(xp.floor(signal * half), -half, half - 1)
  return xp.asarray(q + half, dtype=xp.int32)


def mu_law_decode(classes, channels=256, kind='ibab', xp=np):
  """int classes in [0, channels) -> float32 audio in [-1, 1]."""
  _check_kind(kind)
  mu = channels - 1
  classes = xp.asarray(classes, dtype=xp.float32)
  if kind == 'ibab':
    signal = 2.0 * (classes / mu) - 1.0
    return xp.asarray(xp.sign(signal) * (1.0 / mu) * ((1.0 + mu) ** xp.abs(signal) - 1.0),
                      dtype=xp.float32)
  half = channels // 2
  q = classes - half
  # NSynth decodes bin centres ((q + .5)·2/(mu+1)) and keeps q == 0 at exact silence.
  centre = (q + 0.5) * 2.0 / (mu + 1.0)
  out = xp.sign(centre) / mu * ((1.0 + mu) ** xp.abs(centre) - 1.0)
  return xp.asarray(xp.where(q == 0, xp.zeros_like(out), out), dtype=xp.float32)


def nsynth_scalar(classes, channels=256, xp=np):
  """NSynth's scalar network input: its 8-bit mu-law value scaled to [-1, 1)."""
  half = channels // 2
  return (classes - half).astype(xp.float32) / half


def silence_bounds(audio, threshold, frame_length=2048, hop_length=512):
  """[start, end) of `audio` once leading and trailing silence are cut (ibab's rule).

  A frame is sound when its RMS (librosa's centred, zero-padded frames) exceeds
  `threshold`; the kept span runs from the first sound frame's start sample to the
  last one's start sample, as ibab's `trim_silence` slices it. threshold <= 0 keeps all.
  Returns (0, 0) when every frame is silent.
  """
  audio = np.asarray(audio, np.float32)
  if threshold <= 0 or audio.size == 0:
    return 0, int(audio.size)
  rms = frame_rms(audio, frame_length, hop_length)
  loud = np.nonzero(rms > threshold)[0]
  if loud.size == 0:
    return 0, 0
  return int(loud[0] * hop_length), int(loud[-1] * hop_length)


def frame_rms(audio, frame_length=2048, hop_length=512):
  """RMS of centred frames, zero padded by frame_length // 2 on each side. [T] -> [F]."""
  pad = frame_length // 2
  padded = np.pad(np.asarray(audio, np.float64), (pad, pad))
  num_frames = 1 + audio.size // hop_length
  power = np.cumsum(np.concatenate([[0.0], padded ** 2]))
  starts = np.arange(num_frames) * hop_length
  ends = np.minimum(starts + frame_length, padded.size)
  return np.sqrt((power[ends] - power[starts]) / frame_length).astype(np.float32)


def trim_silence(audio, threshold, frame_length=2048, hop_length=512):
  start, end = silence_bounds(audio, threshold, frame_length, hop_length)
  return audio[start:end]


def load(path, sample_rate, min_rate=0):
  """Any file soundfile or librosa decode -> mono float32 [T] at `sample_rate`; a file
  recorded below `min_rate` Hz (too little bandwidth for what reads it) is an AudioError."""
  import librosa
  import soundfile

  path = os.fspath(path)
  if not os.path.isfile(path):
    raise AudioError(f'{path}: no such file')
  if os.path.getsize(path) == 0:
    raise AudioError(f'{path}: empty file')
  try:
    audio, rate = soundfile.read(path, dtype='float32', always_2d=True)
    audio = audio.mean(axis=1)
  except Exception as e:  # decoders raise a zoo of types; the caller needs one.
    first_error = f'{type(e).__name__}: {e}'
    try:
      # mp3 on old libsndfile, odd containers: librosa falls back to audioread, warning
      # once per file; the AudioError below is the one report the caller needs.
      with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        audio, rate = librosa.load(path, sr=None, mono=True)
    except Exception:
      # soundfile's reason ("Format not recognised") says more than audioread's.
      raise AudioError(f'{path}: cannot decode audio ({first_error})') from None
  audio = np.asarray(audio, np.float32)
  if audio.size == 0:
    raise AudioError(f'{path}: no samples')
  if not np.all(np.isfinite(audio)):
    raise AudioError(f'{path}: non-finite samples')
  if rate < min_rate:
    raise AudioError(f'{path}: recorded at {rate} Hz; needs at least {min_rate:g} Hz')
  if rate != sample_rate:
    audio = librosa.resample(audio, orig_sr=rate, target_sr=sample_rate, res_type='soxr_hq')
  return audio.astype(np.float32)


def to_int16(audio):
  return np.round(np.clip(audio, -1.0, 32767 / 32768) * 32768).astype(np.int16)


def from_int16(audio):
  return np.asarray(audio, np.float32) / 32768.0


@contextlib.contextmanager
def wav_writers(paths, sample_rate):
  """16-bit PCM wav files to write in pieces: each is renamed into place when the block
  succeeds; if it fails, none of them (nor a temporary file) is left."""
  import soundfile

  with contextlib.ExitStack() as stack:
    tmps = [stack.enter_context(files.atomic_path(os.fspath(p))) for p in paths]
    yield [stack.enter_context(soundfile.SoundFile(t, 'w', sample_rate, 1, 'PCM_16', format='WAV'))
           for t in tmps]


def write_wav(path, audio, sample_rate):
  """Writes 16-bit PCM atomically (a temp file renamed), so a killed run leaves no half wav."""
  import soundfile

  with files.atomic_path(os.fspath(path)) as tmp:
    soundfile.write(tmp, np.asarray(audio, np.float32), sample_rate, subtype='PCM_16', format='WAV')
