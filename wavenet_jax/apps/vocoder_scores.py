"""A vocoder's `--mode=eval` beyond the NLL: resynthesis scored against the classical baseline.

The split's first `eval.vocode_clips` clips (trimmed as crops are, cut to
`eval.vocode_seconds` and to whole hops) are turned into log-mels, vocoded as
`--mode=vocode` does (generate.temperature, top_k, top_p, seed; a multi-speaker vocoder
as each clip's own speaker) and inverted by Griffin-Lim from the same log-mels. Both are
scored against the clip (training/speech_scores.py): lsd_db, mcd_db, pesq, stoi and
griffin_lim_<same>, means over clips. The triples (original, vocoded, griffin_lim) go to
WORKDIR/eval_<split>_audio/ as wavs (+ the vocoded PNG pairs) and to TensorBoard.
"""
import os

import jax.numpy as jnp

from wavenet_jax.apps import vocode
from wavenet_jax.common import files, plots
from wavenet_jax.training import speech_scores
from wavenet_jax.input import audio, pipeline

MAX_TENSORBOARD_CLIPS = 3


def clips_of(run, config, split):
  """[(label, audio [T] float32, T a multiple of the hop)] to resynthesise."""
  e, hop = config.eval, run.model.hop
  limit = int(e.vocode_seconds * config.data.sample_rate) // hop * hop
  out = []
  for label, x in pipeline.clips(run.sources, which=run.which(split), count=e.vocode_clips,
                                 silence_threshold=config.data.silence_threshold):
    x = x[:min(limit, len(x) // hop * hop)]
    if len(x):
      out.append((int(label), x))
  return out


def score(run, params, config, split, writer=None, step=0):
  """{lsd_db, mcd_db, pesq, stoi, griffin_lim_*, vocode_clips}; writes the audio triples."""
  model, rate = run.model, config.data.sample_rate
  clips = clips_of(run, config, split)
  if not clips:
    return {}
  out_dir = os.path.join(run.workdir, f'eval_{split}_audio')
  frames = [vocode.audio_frames(model, x) for _, x in clips]
  batch = [(f'{i:02d}_vocoded', f) for i, f in enumerate(frames)]
  gc_ids = jnp.asarray([label for label, _ in clips], jnp.int32) if model.decoder.gc_cardinality else None
  paths = vocode.vocode_batches(model, params, batch, gc_ids, out_dir, config.generate,
                                config.model.mu_law, 'eval clips')
  rows, baseline = [], []
  for i, ((_, x), f, path) in enumerate(zip(clips, frames, paths)):
    vocoded = audio.load(path, rate)
    griffin_lim = speech_scores.griffin_lim(f, model.features, rate, len(x), seed=config.generate.seed)
    audio.write_wav(os.path.join(out_dir, f'{i:02d}_original.wav'), x, rate)
    audio.write_wav(os.path.join(out_dir, f'{i:02d}_griffin_lim.wav'), griffin_lim, rate)
    rows.append(speech_scores.scores(x, vocoded, model.features, rate))
    baseline.append(speech_scores.scores(x, griffin_lim, model.features, rate))
    if writer is not None and i < MAX_TENSORBOARD_CLIPS:
      triple = {'original': x, 'vocoded': vocoded[:len(x)], 'griffin_lim': griffin_lim}
      writer.write_audios(step, {f'resynthesis/{i:02d}/{k}': w[None, :, None] for k, w in triple.items()},
                          sample_rate=rate)
      writer.write_images(step, {f'resynthesis/{i:02d}/{k}/spectrogram':
                                 plots.spectrogram_image(w, rate, f'{i:02d} {k}')[None] for k, w in triple.items()})
  metrics = speech_scores.mean_scores(rows)
  metrics.update({f'griffin_lim_{k}': v for k, v in speech_scores.mean_scores(baseline).items()})
  metrics['vocode_clips'] = len(clips)
  if writer is not None:
    writer.write_scalars(step, {f'eval/{k}': v for k, v in metrics.items() if v is not None})
  return metrics


def format_scores(metrics):
  """'LSD 9.1 dB (Griffin-Lim 7.2), ...' for a log line."""
  parts = []
  for key, name, unit in (('lsd_db', 'LSD', ' dB'), ('mcd_db', 'MCD', ' dB'), ('pesq', 'PESQ', ''),
                          ('stoi', 'STOI', '')):
    value, gl = metrics.get(key), metrics.get(f'griffin_lim_{key}')
    if value is not None:
      parts.append(f'{name} {value:.3g}{unit} (Griffin-Lim {gl:.3g})' if gl is not None else f'{name} {value:.3g}{unit}')
  return f'{files.count(metrics["vocode_clips"], "clip")} resynthesised: ' + ', '.join(parts)
