"""`launch.py --mode=vocode`: audio or log-mel spectrograms -> speech, by a trained vocoder of any kind.

vocode.input is a file or folder of audio (resynthesis: audio -> log-mels -> audio, at the
checkpoint's sample rate) or of `.npy` log-mels [frames, num_mels] from a TTS front end:
float, in [0, 1], on input/mel.py's scale with the checkpoint's model.mel settings (r9y9's:
80 bands, hop 256 at 22,050 Hz, 20·log10 magnitude floored at -100 dB, minus 20 dB, mapped
to [0, 1]). Frame i becomes samples [i·hop, (i+1)·hop). Each file gives
WORKDIR/vocoded/<name>.wav (subfolders kept) and <name>.png, its input's log-mels above
the output's. Files go to the model's kind `generate.batch_size` at a time (Kind.draw_speech).
The autoregressive vocoder samples them side by side, `generate.chunk_size` samples per scan,
each wav written as its chunks arrive (generation/vocoding.py: memory does not grow with
length); vocode.fold_frames > 0 instead cuts each file into segments of that many frames
sampled side by side (generation/folding.py): one long file several times faster, crossfaded
at the seams. Parallel WaveGAN makes each file in one pass, in exact chunks of
`generate.chunk_size` samples (generation/parallel_vocoding.py).
"""
import os

import ml_collections
import numpy as np

from wavenet_jax.checkpoints import trained
from wavenet_jax.common import config_checks, files, plots
from wavenet_jax.generation import vocoding
from wavenet_jax.input import audio
from wavenet_jax.kinds import registry


def read_frames(model, path):
  """A file -> its log-mel frames [F, M]: computed from audio, or a checked .npy."""
  m = model.features
  if not path.lower().endswith('.npy'):
    # Its log-mels reach fmax: a file sampled below twice that lacks the top bands.
    return vocoding.audio_frames(model, audio.load(path, model.sample_rate, min_rate=2 * m.fmax))
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
  workdir = config_checks.check_workdir(workdir)
  model, params, meta = trained.load_vocoder(config.vocode.checkpoint or workdir, 'vocode.checkpoint')
  kind = registry.of(meta['model'])
  config = config.copy_and_resolve_references()
  with config.unlocked():
    config.model = ml_collections.ConfigDict(meta['model'])  # what the kind samples with: the checkpoint's
  class_id = kind.check_vocode(model, meta, config)
  v = config.vocode
  items = files.find_files(os.path.expanduser(v.input), audio.AUDIO_EXTENSIONS + ('.npy',), f'vocode.input={v.input}')
  items = sorted(((name, read_frames(model, path)) for path, name in items), key=lambda item: len(item[1]))
  out_dir = v.out_dir or os.path.join(workdir, 'vocoded')
  written, size = [], config.generate.batch_size
  for b in range(0, len(items), size):
    batch = items[b:b + size]
    with files.interruptible(written, ', '.join(name for name, _ in batch)):
      written += _vocode_batch(kind, model, params, batch, None if class_id is None else [class_id] * len(batch),
                               out_dir, config, f'files {b + 1}-{b + len(batch)}/{len(items)}')
  print(f'wrote {files.count(len(written), "wav file")} (+ a spectrogram PNG each) to {out_dir}', flush=True)
  return written


def _vocode_batch(kind, model, params, batch, class_ids, out_dir, config, label):
  """[(name, log-mels [F, M])] -> out_dir/<name>.wav (each grows as the kind writes it) and .png."""
  paths = [os.path.join(out_dir, name + '.wav') for name, _ in batch]
  for path in paths:
    os.makedirs(os.path.dirname(path), exist_ok=True)
  with audio.wav_writers(paths, model.sample_rate) as wavs:
    kind.draw_speech(model, params, batch, class_ids, config, wavs, label)
  for path, (name, f) in zip(paths, batch):
    _save_pair(path[:-4] + '.png', f, audio.load(path, model.sample_rate), model, name)
  return paths


def _save_pair(path, frames, wav, model, name):
  """The input's log-mels above the output's, on one scale."""
  plots.save_log_mel_pair(path, name, frames, vocoding.audio_frames(model, wav), model.hop)
