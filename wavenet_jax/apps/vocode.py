"""`launch.py --mode=vocode`: audio or log-mel spectrograms -> speech, by a trained vocoder.

vocode.input is a file or folder of audio (resynthesis: audio -> log-mels -> audio, at the
checkpoint's sample rate) or of `.npy` log-mels [frames, num_mels] from a TTS front end:
float, in [0, 1], on input/mel.py's scale with the checkpoint's model.mel settings (r9y9's:
80 bands, hop 256 at 22,050 Hz, 20·log10 magnitude floored at -100 dB, minus 20 dB, mapped
to [0, 1]). Frame i becomes samples [i·hop, (i+1)·hop). Each file gives
WORKDIR/vocoded/<name>.wav (subfolders kept) and <name>.png, its input's log-mels above
the output's. Files are generated `generate.batch_size` at a time, `generate.chunk_size`
samples per scan, each wav written as its chunks arrive (generation/vocoding.py: memory does
not grow with length). vocode.fold_frames > 0 instead cuts each file into segments of that
many frames sampled side by side (generation/folding.py): one long file several times faster,
crossfaded at the seams.
"""
import os

import jax.numpy as jnp
import numpy as np

from wavenet_jax.checkpoints import trained
from wavenet_jax.common import config_checks, files, plots
from wavenet_jax.generation import sampling, vocoding
from wavenet_jax.input import audio
from wavenet_jax.models import heads
from wavenet_jax.models.vocoder import Vocoder


def read_frames(model: Vocoder, path):
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
  g, v = config.generate, config.vocode
  sampling.check(g, ('batch_size', 'chunk_size'))
  fold = check_fold(v)
  workdir = config_checks.check_workdir(workdir)
  model, params, meta = trained.load_vocoder(v.checkpoint or workdir, 'vocode.checkpoint')
  heads.check_sampling(model.decoder.output, g)
  sampling.check_top_k(g, model.decoder.quantization_channels)
  gc_ids = None
  class_id = 0 if v.class_id == -1 else v.class_id
  if not model.decoder.gc_cardinality and v.class_id != -1:
    raise config_checks.ConfigError(f'vocode.class_id={v.class_id!r}: this vocoder is not speaker-conditioned '
                                    '(trained with model.gc_cardinality=0); leave it out')
  if model.decoder.gc_cardinality:
    if not isinstance(class_id, int) or not 0 <= class_id < model.decoder.gc_cardinality:
      raise config_checks.ConfigError(f'vocode.class_id={v.class_id!r}: this vocoder\'s classes are '
                                      f'0..{model.decoder.gc_cardinality - 1} ({", ".join(meta["class_names"])})')
  items = files.find_files(os.path.expanduser(v.input), audio.AUDIO_EXTENSIONS + ('.npy',), f'vocode.input={v.input}')
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


def _vocode_batch(model: Vocoder, params, batch, gc_ids, out_dir, g, mu_law, label):
  paths = [os.path.join(out_dir, name + '.wav') for name, _ in batch]
  for path in paths:
    os.makedirs(os.path.dirname(path), exist_ok=True)
  with audio.wav_writers(paths, model.sample_rate) as wavs:  # each wav grows as its chunks arrive
    vocoding.draw_into(model, params, [f for _, f in batch], gc_ids, g, mu_law, wavs, label)
  for path, (name, f) in zip(paths, batch):
    _save_pair(path[:-4] + '.png', f, audio.load(path, model.sample_rate), model, name)
  return paths


def _vocode_folded(model: Vocoder, params, name, frames, gc_id, out_dir, g, mu_law, fold, label):
  """One file's log-mels [F, M] -> out_dir/<name>.wav and .png, sampled as folded segments."""
  wav = vocoding.draw_folded(model, params, frames, gc_id, g, mu_law, fold, label)
  path = os.path.join(out_dir, name + '.wav')
  os.makedirs(os.path.dirname(path), exist_ok=True)
  audio.write_wav(path, wav, model.sample_rate)
  _save_pair(path[:-4] + '.png', frames, wav, model, name)
  return path


def _save_pair(path, frames, wav, model: Vocoder, name):
  """The input's log-mels above the output's, on one scale."""
  plots.save_log_mel_pair(path, name, frames, vocoding.audio_frames(model, wav), model.hop)
