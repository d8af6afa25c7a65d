"""Vocoder speed and quality: real-time factors of r9y9's size, and a trained vocoder vs Griffin-Lim.

    python -m benchmarks.vocoder rtf [--seconds 0.25] [--heads mol,lpc] [--fold_frames N] [--json PATH] [--smoke]
    python -m benchmarks.vocoder scores --workdir runs/demo_vocoder --speech DIR [--fold_frames N] [--json PATH]
    python -m benchmarks.vocoder train [--steps 5] [--json PATH] [--smoke]
    python -m benchmarks.vocoder pwg [--seconds 10] [--chunk_frames 128] [--windows 1] [--json PATH] [--smoke]

rtf: configs/ljspeech_vocoder.py's model (24 layers, 128/256/128, r9y9's upsampler) with
random weights, for each head (mixture of 10 logistics, Gaussian, 256-way categorical, and
that softmax over a linear predictor's excitation, `:lpc`; --heads picks some), vocoding 1
and 8 files of `--seconds` of random log-mels at once, as --mode=vocode draws them
(generation/vocoding.draw_chunks: the conditioning a chunk at a time, one lax.scan per chunk). The
value is seconds of audio made per second of wall time (1 = real time), timed after a first,
compiling run. --fold_frames N adds one file of 8 x `--seconds` vocoded as
segments of N frames side by side (vocode.fold_frames, --overlap_frames of overlap).

scores: a trained vocoder's checkpoint (either kind) resynthesises every recording under --speech
(audio -> log-mels -> audio, at generate.temperature of the checkpoint's config or
--temperature), Griffin-Lim inverts the same log-mels, and both are scored against the
recording (evaluation/speech_scores.py); --fold_frames as vocode.fold_frames. Goal: the vocoder
above Griffin-Lim on PESQ and STOI on speech it did not train on; LSD and MCD are reported too
(Griffin-Lim optimises the magnitudes they measure). docs/performance.md says which recordings
were used.

train: seconds per train step of configs/demo_vocoder.py (its batch of 8 x 2,048 predicted
samples, each crop with the receptive field and the frames' context) and of
configs/ljspeech_vocoder.py at batch 1, timed as benchmarks/train_step.py times a step.
Goal: the demo's 2,000 steps within its 15-minute budget on a 2-core CPU.

pwg: the non-autoregressive vocoder as configs/ljspeech_pwg.py builds it (Parallel WaveGAN's
generator at the paper's size: 30 layers in 3 stacks, kernel 3, residual 64, gate 128, skip
64; LJSpeech's features, kan-bayashi's upsampler), random weights, vocoding 1 and 8 files of
`--seconds` of random log-mels as generation/parallel_vocoding.vocode does (chunks of --chunk_frames frames with the
generator's halo, --windows per call), timed after a first, compiling run; then the peak
resident memory of the process after vocoding one 60 s file. Goal: >= 2x real time for one
file on 2 CPU cores (>= 25x the autoregressive vocoder's one stream).

--smoke (rtf, train, pwg): each config with a 2-layer decoder (generator) of 8 channels and
one-hop crops (1 s files), to prove the script runs in seconds; the figures mean nothing.
"""
import argparse
import os
import resource
import sys
import time

if __name__ == '__main__':  # `python benchmarks/X.py` puts benchmarks/ on sys.path; the imports below need the checkout
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax
import ml_collections
import numpy as np

from benchmarks import device_train, table
from configs import default, demo_vocoder, ljspeech_pwg, ljspeech_vocoder
from wavenet_jax.apps import vocode
from wavenet_jax.checkpoints import trained
from wavenet_jax.evaluation import speech_scores
from wavenet_jax.generation import chunks, parallel_vocoding, vocoding
from wavenet_jax.input import audio
from wavenet_jax.kinds import registry
from wavenet_jax.runtime import xla_cpu

HEADS = ('', 'gaussian', 'categorical', 'lpc')  # configs/ljspeech_vocoder.py's variants
DEMO_BUDGET_S = 15 * 60  # the demo's training budget on a 2-core CPU (issue 29, point 5)


def shrunk(c, smoke):
  """--smoke: c with a 2-layer decoder of 8 channels and crops of one hop (else c as it is)."""
  if smoke:
    c.model.dilations = (1, 2)
    c.model.residual_channels = c.model.dilation_channels = c.model.skip_channels = 8
    c.data.sample_size = c.model.mel.hop
  return c


def real_time_factor(head, files, seconds, fold=None, smoke=False):
  """Seconds of audio per wall second vocoding `files` files of `seconds` each (one folded file:
  fold = (segment, overlap) frames)."""
  c = shrunk(ljspeech_vocoder.get_config(head or None), smoke)
  kind = registry.of(c.model)
  model = kind.build(c, kind.num_classes(c, 1))  # one speaker: no speaker embedding
  params = jax.jit(model.init)(jax.random.key(0), *registry.get('vocoder').init_inputs(model, c.model))
  num_frames = int(seconds * c.data.sample_rate) // model.hop
  frames = np.random.default_rng(0).uniform(0.2, 0.8, (files, num_frames, model.features.num_mels))
  g = ml_collections.ConfigDict(dict(seed=0, temperature=1.0, top_k=0, top_p=1.0, chunk_size=num_frames * model.hop,
                                     batch_size=64))

  def run():
    if fold:
      vocoding.draw_folded(model, params, frames[0].astype(np.float32), None, g, c.model.mu_law, fold)
      return
    for chunk in vocoding.draw_chunks(model, params, frames.astype(np.float32), None, g, c.model.mu_law):
      jax.block_until_ready(chunk)

  run()  # compiles
  start = time.perf_counter()
  run()
  return files * num_frames * model.hop / c.data.sample_rate / (time.perf_counter() - start)


def rtf_table(seconds, fold, json_path, smoke=False, heads=HEADS):
  figures = {}
  for head in heads:
    for files in (1, 8):
      figures[f'rtf_{head or "mol"}_{files}_files'] = round(real_time_factor(head, files, seconds, None, smoke), 4)
    if fold:
      figures[f'rtf_{head or "mol"}_1_file_folded'] = round(real_time_factor(head, 1, 8 * seconds, fold, smoke), 4)
  setting = ('smoke: ' if smoke else '') + 'configs/ljspeech_vocoder.py, random weights'
  table.report(figures, setting + (f', fold {fold}' if fold else ''), {}, json_path)


def pwg_table(seconds, chunk_frames, windows, json_path, smoke=False):
  """Parallel WaveGAN's generator: x real time for 1 and 8 files, peak memory after a 60 s file."""
  c = ljspeech_pwg.get_config()
  if smoke:
    c.model.generator.update(dict(num_layers=2, stacks=1, residual_channels=8, gate_channels=8, skip_channels=8))
  kind = registry.of(c.model)
  model = kind.build(c, 0)
  seconds = 1.0 if smoke else seconds
  num_frames = int(seconds * c.data.sample_rate) // model.hop
  params = jax.jit(model.init)(jax.random.key(0), *kind.init_inputs(model, c.model))
  rng = np.random.default_rng(0)

  def rtf(files, num_frames):
    items = [rng.uniform(0.2, 0.8, (num_frames, model.features.num_mels)).astype(np.float32) for _ in range(files)]
    keys = [jax.random.key(i) for i in range(files)]
    start = time.perf_counter()
    parallel_vocoding.vocode(model, params, items, keys, chunk_frames, batch_size=windows)
    return files * num_frames * model.hop / c.data.sample_rate / (time.perf_counter() - start)

  rtf(1, num_frames)  # compiles the one shape every call uses
  figures = {'pwg_rtf_1_file': round(rtf(1, num_frames), 3), 'pwg_rtf_8_files': round(rtf(8, num_frames), 3)}
  rtf(1, int((5 if smoke else 60) * c.data.sample_rate) // model.hop)
  figures['pwg_peak_rss_mb_60s_file'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
  figures['pwg_generator_halo_frames'] = parallel_vocoding.halo_frames(model)
  setting = (('smoke: a 2-layer generator' if smoke else 'paper size') + f', ljspeech features, {seconds:g} s files, '
             f'chunks of {chunk_frames} frames, {windows} per call, random weights')
  table.report(figures, setting, {'pwg_rtf_1_file': '>= 2 (2 CPU cores)'}, json_path)


def scores_table(workdir, speech, temperature, fold, json_path, batch_size=8):
  model, params, meta = trained.load_vocoder(workdir)
  kind = registry.of(meta['model'])
  rate, m = model.sample_rate, model.features
  c = default.get_config()
  c.model = ml_collections.ConfigDict(meta['model'])
  c.generate.update(dict(seed=0, temperature=temperature, chunk_size=rate, batch_size=batch_size))
  c.vocode.fold_frames, c.vocode.overlap_frames = fold or (0, 8)
  paths = sorted(os.path.join(d, f) for d, _, names in os.walk(speech) for f in names
                 if f.lower().endswith(('.wav', '.flac')))
  items = [(f'{i:03d}', vocode.read_frames(model, p)) for i, p in enumerate(paths)]
  sinks = [chunks.Collected() for _ in items]
  speakers = [0] * len(items) if kind.class_conditioned else None
  start = time.perf_counter()
  kind.draw_speech(model, params, items, speakers, c, sinks, 'recordings')
  seconds = time.perf_counter() - start
  rows, baseline = [], []
  for path, (_, frames), sink in zip(paths, items, sinks):
    x = audio.load(path, rate, min_rate=2 * m.fmax)
    x = np.pad(x, (0, -len(x) % m.hop))
    rows.append(speech_scores.scores(x, sink.audio(), m, rate))
    baseline.append(speech_scores.scores(x, speech_scores.griffin_lim(frames, m, rate, len(x)), m, rate))
  ours, gl = speech_scores.mean_scores(rows), speech_scores.mean_scores(baseline)
  total = sum(len(f) for _, f in items) * m.hop / rate
  figures = {'recordings': len(paths), 'seconds': round(total, 2), 'x_real_time': round(total / seconds, 3)}
  for key in speech_scores.KEYS:
    figures[f'vocoder_{key}'] = None if ours[key] is None else round(ours[key], 3)
    figures[f'griffin_lim_{key}'] = None if gl[key] is None else round(gl[key], 3)
  goals = {'vocoder_pesq': f'> griffin_lim_pesq ({figures["griffin_lim_pesq"]})',
           'vocoder_stoi': f'> griffin_lim_stoi ({figures["griffin_lim_stoi"]})'}
  setting = (f'{workdir} ({kind.name}) step {meta["step"]}, temperature {temperature}'
             + (f', fold {fold}' if fold else '') + ' (x_real_time includes compiling)')
  table.report(figures, setting, goals, json_path)


def train_table(timed_steps, json_path, smoke=False):
  figures, goals = {}, {}
  for name, module, batch_size in (('demo_vocoder', demo_vocoder, None), ('ljspeech_vocoder', ljspeech_vocoder, 1)):
    c = shrunk(module.get_config(), smoke)
    batch_size = batch_size or c.train.batch_size
    key = f'train_step_s_{name}_batch_{batch_size}'
    figures[key] = round(device_train.measure(c, batch_size, timed_steps)[1], 3)
    if module is demo_vocoder:
      goals[key] = f'<= {DEMO_BUDGET_S / c.train.num_train_steps:.2f} ({c.train.num_train_steps} steps in 15 min)'
  table.report(figures, ('smoke: ' if smoke else '') + 'median step, float32', goals, json_path)


def main():
  xla_cpu.configure()  # first, before jax starts: the CPU settings launch.py uses.
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('what', choices=('rtf', 'scores', 'train', 'pwg'))
  parser.add_argument('--seconds', type=float, help='rtf, pwg: audio per file (0.25; pwg 10)')
  parser.add_argument('--chunk_frames', type=int, default=128, help='pwg: frames per chunk')
  parser.add_argument('--windows', type=int, default=1, help='pwg: chunks vocoded side by side per call')
  parser.add_argument('--heads', default='mol,gaussian,categorical,lpc', help='rtf: the heads timed, comma-separated')
  parser.add_argument('--workdir', help='scores: a trained vocoder')
  parser.add_argument('--speech', help='scores: a folder of recordings (.wav, .flac)')
  parser.add_argument('--temperature', type=float, default=1.0)
  parser.add_argument('--batch_size', type=int, default=8,
                      help='scores: generate.batch_size (files side by side; Parallel WaveGAN: chunks per call)')
  parser.add_argument('--steps', type=int, default=5, help='train: timed steps after a first one')
  parser.add_argument('--fold_frames', type=int, default=0, help='rtf, scores: vocode.fold_frames (0 = off)')
  parser.add_argument('--overlap_frames', type=int, default=8, help='with --fold_frames: vocode.overlap_frames')
  parser.add_argument('--smoke', action='store_true',
                      help='rtf, train: tiny decoders: proves the script runs; the figures mean nothing')
  parser.add_argument('--json')
  args = parser.parse_args()
  fold = (args.fold_frames, args.overlap_frames) if args.fold_frames else None
  if args.what == 'rtf':
    heads = [{'mol': ''}.get(h, h) for h in args.heads.split(',')]
    if set(heads) - set(HEADS):
      parser.error(f'--heads {args.heads}: each of mol, gaussian, categorical, lpc')
    rtf_table(args.seconds or 0.25, fold, args.json, args.smoke, heads)
  elif args.what == 'pwg':
    pwg_table(args.seconds or 10.0, args.chunk_frames, args.windows, args.json, args.smoke)
  elif args.what == 'train':
    train_table(args.steps, args.json, args.smoke)
  else:
    scores_table(args.workdir, args.speech, args.temperature, fold, args.json, args.batch_size)


if __name__ == '__main__':
  main()
