"""A vocoder's resynthesis scored against the classical baseline, in memory.

The split's first `eval.vocode_clips` clips (trimmed as crops are, cut to
`eval.vocode_seconds` and to whole hops) are turned into log-mels, vocoded by the model's
kind as `--mode=vocode` does (Kind.draw_speech: generate.*, vocode.fold_frames; a
multi-speaker vocoder as each clip's own speaker) and inverted by Griffin-Lim from the same log-mels. Both are
scored against the clip (speech_scores.py): lsd_db, mcd_db, pesq, stoi and
griffin_lim_<same>, means over clips. `write` keeps the triples (original, vocoded,
griffin_lim) as wavs (+ the vocoded log-mel PNG pairs) and in TensorBoard.
"""
import importlib.util
import os

import jax

from wavenet_jax.common import files, plots
from wavenet_jax.common.config_checks import ConfigError
from wavenet_jax.evaluation import speech_scores
from wavenet_jax.generation import chunks, vocoding
from wavenet_jax.input import audio

MAX_TENSORBOARD_CLIPS = 3


def check_scorers(config):
  """PESQ and STOI come from the `scores` extra: one line, before anything is vocoded, without it."""
  missing = [name for name in ('pesq', 'pystoi') if importlib.util.find_spec(name) is None]
  if missing:
    raise ConfigError(f'eval.vocode_clips={config.eval.vocode_clips}: the resynthesis scores need '
                      f'{" and ".join(missing)}: pip install "wavenet_jax[scores]", or set eval.vocode_clips=0')


def clips_of(run, config, split):
  """[(label, audio [T] float32, T a multiple of the hop)] to resynthesise."""
  from wavenet_jax.input import pipeline  # TensorFlow: only when clips are read, not with the kinds
  e, hop = config.eval, run.model.hop
  limit = int(e.vocode_seconds * config.data.sample_rate) // hop * hop
  out = []
  for label, x in pipeline.clips(run.sources, which=run.which(split), count=e.vocode_clips,
                                 silence_threshold=config.data.silence_threshold):
    x = x[:min(limit, len(x) // hop * hop)]
    if len(x):
      out.append((int(label), x))
  return out


def evaluate(run, params, split, writer=None, step=0):
  """A vocoder kind's extra evaluation at --mode=eval (writer given): eval.vocode_clips clips
  resynthesised and scored, the triples kept in WORKDIR/eval_<split>_audio/; {} otherwise."""
  config = run.config
  if writer is None or not config.eval.vocode_clips or jax.process_index() != 0:
    return {}
  check_scorers(config)
  params = jax.device_get(params)
  metrics, triples = score(run.kind, run.model, params, clips_of(run, config, split), config)
  write(os.path.join(run.workdir, f'eval_{split}_audio'), run.model, triples, metrics, writer, step)
  return metrics


def score(kind, model, params, clips, config):
  """-> ({lsd_db, mcd_db, pesq, stoi, griffin_lim_*, vocode_clips}, [{'original', 'vocoded',
  'griffin_lim': audio [T]}] one per clip); ({}, []) without clips. The clips are vocoded by
  the kind (Kind.draw_speech), each as its own class (a multi-speaker vocoder's speaker)."""
  if not clips:
    return {}, []
  rate = config.data.sample_rate
  frames = [vocoding.audio_frames(model, x) for _, x in clips]
  sinks = [chunks.Collected() for _ in clips]
  kind.draw_speech(model, params, [(f'{i:02d}', f) for i, f in enumerate(frames)], [label for label, _ in clips],
                   config, sinks, 'eval clips')
  vocoded = [sink.audio() for sink in sinks]
  rows, baseline, triples = [], [], []
  for (_, x), f, wav in zip(clips, frames, vocoded):
    griffin_lim = speech_scores.griffin_lim(f, model.features, rate, len(x), seed=config.generate.seed)
    rows.append(speech_scores.scores(x, wav, model.features, rate))
    baseline.append(speech_scores.scores(x, griffin_lim, model.features, rate))
    triples.append({'original': x, 'vocoded': wav[:len(x)], 'griffin_lim': griffin_lim})
  metrics = speech_scores.mean_scores(rows)
  metrics.update({f'griffin_lim_{k}': v for k, v in speech_scores.mean_scores(baseline).items()})
  metrics['vocode_clips'] = len(clips)
  return metrics, triples


def write(out_dir, model, triples, metrics, writer=None, step=0):
  """out_dir/NN_{original,vocoded,griffin_lim}.wav, NN_vocoded.png; the first clips' audio and
  spectrograms and every score in TensorBoard."""
  rate = model.sample_rate
  for i, triple in enumerate(triples):
    for which, wav in triple.items():
      audio.write_wav(os.path.join(out_dir, f'{i:02d}_{which}.wav'), wav, rate)
    plots.save_log_mel_pair(os.path.join(out_dir, f'{i:02d}_vocoded.png'), f'{i:02d}_vocoded',
                            vocoding.audio_frames(model, triple['original']),
                            vocoding.audio_frames(model, triple['vocoded']), model.hop)
    if writer is not None and i < MAX_TENSORBOARD_CLIPS:
      writer.write_audios(step, {f'resynthesis/{i:02d}/{k}': w[None, :, None] for k, w in triple.items()},
                          sample_rate=rate)
      writer.write_images(step, {f'resynthesis/{i:02d}/{k}/spectrogram':
                                 plots.spectrogram_image(w, rate, f'{i:02d} {k}')[None] for k, w in triple.items()})
  if writer is not None:
    writer.write_scalars(step, {f'eval/{k}': v for k, v in metrics.items() if v is not None})


def format_scores(metrics):
  """'LSD 9.1 dB (Griffin-Lim 7.2), ...' for a log line."""
  parts = []
  for key, name, unit in (('lsd_db', 'LSD', ' dB'), ('mcd_db', 'MCD', ' dB'), ('pesq', 'PESQ', ''),
                          ('stoi', 'STOI', '')):
    value, gl = metrics.get(key), metrics.get(f'griffin_lim_{key}')
    if value is not None:
      parts.append(f'{name} {value:.3g}{unit} (Griffin-Lim {gl:.3g})' if gl is not None else f'{name} {value:.3g}{unit}')
  return f'{files.count(metrics["vocode_clips"], "clip")} resynthesised: ' + ', '.join(parts)
