"""`launch.py --mode=train|eval`: the training loop (resume, checkpoints, logs) and evaluation.

`train_and_evaluate(config, workdir)` trains from WORKDIR's latest checkpoint (or a warm
start, train.init_from), logs and evaluates every so often, and checkpoints; SIGTERM/SIGINT
save a checkpoint and return. `evaluate(config, workdir, split)` is --mode=eval. What is
learnt and measured is the model kind's (kinds/registry.py); the steps are training/steps.py.
"""
import math
import os
import signal
import threading
import time

import jax
import jax.numpy as jnp
import numpy as np
from clu import metric_writers

from data import prepare
from wavenet_jax.checkpoints import checkpointing, warm_start
from wavenet_jax.common import files, plots, progress
from wavenet_jax.generation import generate
from wavenet_jax.input import pipeline
from wavenet_jax.kinds import nsynth_classifier
from wavenet_jax.runtime import sharding
from wavenet_jax.training import optim, steps
from wavenet_jax.training.run import Run, augmentation
from wavenet_jax.common.errors import UserError


class NonFiniteLossError(UserError, RuntimeError):
  """The loss became NaN or inf; the message names the step and the last good checkpoint."""


def open_run(config, workdir) -> Run:
  """The Run of config in workdir, raw data trees prepared into data.cache_dir (data/prepare.py)."""
  pipeline.keep_tf_off_accelerators()  # before preparing data runs TensorFlow
  return Run(config, workdir, prepare.resolver(config.data))


class _StopSignal:
  """SIGTERM/SIGINT ask the loop to checkpoint and return instead of dying mid-step.

  Python lets only the main thread install handlers: a run trained from another thread
  keeps the process's handlers, and says that a signal will not stop it cleanly.
  """

  def __init__(self):
    self.received = None
    self._previous = {}

  def __enter__(self):
    if threading.current_thread() is not threading.main_thread():
      print('note: training outside the main thread: SIGTERM/SIGINT will not checkpoint and stop '
            'this run', flush=True)
      return self
    for sig in (signal.SIGTERM, signal.SIGINT):
      self._previous[sig] = signal.signal(sig, self._handle)
    return self

  def _handle(self, signum, frame):
    self.received = signal.Signals(signum).name

  def __exit__(self, *exc):
    for sig, handler in self._previous.items():
      signal.signal(sig, handler)


def _format_eval(metrics):
  if 'accuracy' in metrics:
    return nsynth_classifier.format_table(metrics)
  per_class = ', '.join(f'{k} {v:.3f}' for k, v in metrics['bits_per_sample_per_class'].items())
  line = f"{metrics['split']}: {metrics['bits_per_sample']:.4f} bits/sample ({per_class})"
  if 'vocode_clips' in metrics:
    from wavenet_jax.apps import vocoder_scores
    line += '\n' + vocoder_scores.format_scores(metrics)
  return line


def _write_eval(writer, step, metrics):
  scalars = {}
  if 'bits_per_sample' in metrics:
    scalars['eval/bits_per_sample'] = metrics['bits_per_sample']
    scalars.update({f'eval/bits_per_sample/{k}': v for k, v in metrics['bits_per_sample_per_class'].items()})
  if 'accuracy' in metrics:
    for key in ('accuracy', 'top5_accuracy', 'mean_per_class_accuracy', 'cross_entropy', 'clip_accuracy',
                'clip_top5_accuracy', 'baseline_accuracy', 'baseline_clip_accuracy'):
      if key in metrics:
        scalars[f'eval/{key}'] = metrics[key]
    scalars.update({f'eval/accuracy/{k}': v for k, v in metrics['per_class_accuracy'].items()})
    names = list(metrics['per_class_accuracy'])
    writer.write_images(step, {'eval/confusion': plots.confusion_image(
        metrics['confusion'], names, f"{metrics['split']} step {step}")[None]})
    if 'clip_confusion' in metrics:
      writer.write_images(step, {'eval/clip_confusion': plots.confusion_image(
          metrics['clip_confusion'], names, f"{metrics['split']} clips, step {step}")[None]})
  writer.write_scalars(step, scalars)


def train_and_evaluate(config, workdir: str) -> dict:
  """Trains (resuming from WORKDIR's latest checkpoint), evaluates, checkpoints; returns last eval."""
  run = open_run(config, workdir)
  t = config.train
  tx, schedule = optim.make_optimizer(t)
  state = run.init_state(tx)
  ckpt = checkpointing.Checkpointer(run.workdir, max_to_keep=t.max_checkpoints_to_keep)
  position = 0
  latest, restored = None, ckpt.restore_newest_readable(state)
  if restored is not None:
    state, meta = restored
    latest, position = meta['step'], meta['data_position']
    print(f'Resuming from {ckpt.directory}/{latest} (step {latest}).', flush=True)
  elif t.init_from:
    params, modules = warm_start.params_from(t.init_from, state.params, run.mesh, config, run.class_names)
    state = state.replace(params=params)
    if state.ema_params is not None:
      state = state.replace(ema_params=state.params)
    fresh = [m for m in params['params'] if m not in modules]
    print(f'Initialised {", ".join(modules) if fresh else "params"} from {t.init_from}'
          + (f' ({", ".join(fresh)} fresh)' if fresh else '') + '; fresh optimizer.', flush=True)

  per_host = sharding.per_host_batch_size(t.batch_size)
  batches = pipeline.train_iterator(
      run.sources, which='train', seed=config.seed,
      augment=augmentation(config.data.augment, config.data.train_split),
      receptive_field=run.receptive_field, sample_size=config.data.sample_size,
      batch_size=per_host, silence_threshold=config.data.silence_threshold,
      shuffle_buffer=config.data.shuffle_buffer, position=position,
      process_index=jax.process_index(), process_count=jax.process_count(), **run.crop_layout)
  train_step = steps.make_train_step(run.kind, run.model, config, tx, schedule, run.mesh)
  eval_step = steps.make_eval_step(run.kind, run.model, config, len(run.class_names), run.mesh)

  writer = metric_writers.create_default_writer(run.workdir, just_logging=jax.process_index() > 0)
  step = int(jax.device_get(state.step))
  last_saved = latest
  print(f'{len(run.class_names)} classes, {run.kind.describe(run.model)}, '
        f'{jax.device_count()} devices, global batch {t.batch_size}; '
        + (f'steps {step} -> {t.num_train_steps}.' if step < t.num_train_steps else
           f'already at step {step} (train.num_train_steps={t.num_train_steps}): nothing to train, evaluating'
           + ('; a new --workdir trains from 0' if step > t.num_train_steps else '')), flush=True)

  def save(state, step):
    nonlocal last_saved
    ckpt.save(step, state, run.meta(step, position))
    last_saved = step

  pending, eval_metrics, first_step = [], None, step + 1
  timer_start, timer_steps = time.time(), 0
  with _StopSignal() as stop:
    while step < t.num_train_steps and not stop.received:
      state, metrics = train_step(state, sharding.global_batch(next(batches), run.mesh))
      step += 1
      position += per_host
      timer_steps += 1
      pending.append(metrics)
      if step == first_step:  # compiles the step: timed alone, left out of the rates
        jax.block_until_ready(metrics)
        print(f'compiled the train step: the first step took {time.time() - timer_start:.1f} s', flush=True)
        timer_start, timer_steps = time.time(), 0
      due_log = step % t.log_every_steps == 0 or step == t.num_train_steps
      due_ckpt = step % t.checkpoint_every_steps == 0 or step == t.num_train_steps
      if due_log or due_ckpt or stop.received:
        values = jax.device_get(pending)
        pending = []
        losses = np.array([v['loss'] for v in values])
        if not np.all(np.isfinite(losses)):
          bad = step - len(losses) + int(np.argmin(np.isfinite(losses)))
          ckpt.wait()
          where = f'step {last_saved} in {ckpt.directory}' if last_saved is not None else 'none saved yet'
          raise NonFiniteLossError(f'loss became {losses[~np.isfinite(losses)][0]} at step {bad + 1}; '
                                   f'stopped. Last good checkpoint: {where}')
        if due_log:
          mean = {k: float(np.mean([v[k] for v in values])) for k in values[-1]}
          scalars = {f'train/{k}': v for k, v in mean.items()}
          if 'accuracy' not in mean:
            scalars['train/bits_per_sample'] = mean['loss'] / math.log(2)
          if 'reconstruction_loss' in mean:
            scalars['train/reconstruction_bits_per_sample'] = mean['reconstruction_loss'] / math.log(2)
          rate = ''
          if timer_steps:  # none since the compiling step: no rate yet
            steps_per_s = timer_steps / max(time.time() - timer_start, 1e-9)
            scalars.update({'train/steps_per_s': steps_per_s,
                            'train/audio_samples_per_s': steps_per_s * t.batch_size * config.data.sample_size})
            eta = (t.num_train_steps - step) / max(steps_per_s, 1e-9)
            rate = f'  {steps_per_s:.2f} steps/s  ETA {progress.duration(eta)}'
          writer.write_scalars(step, scalars)
          print(f'step {step}/{t.num_train_steps}  {_format_train(mean)}{rate}', flush=True)
          timer_start, timer_steps = time.time(), 0
        if t.eval_every_steps and step % t.eval_every_steps == 0 and step < t.num_train_steps:
          eval_metrics = run.evaluate(eval_step, checkpointing.eval_params(state), config.data.eval_split)
          _write_eval(writer, step, eval_metrics)
          print(f'eval step {step}: {_format_eval(eval_metrics)}', flush=True)
        if t.generate_every_steps and run.kind.supports('generate') and (
            step % t.generate_every_steps == 0 or step == t.num_train_steps):
          _write_generations(writer, step, run, checkpointing.eval_params(state), config)
        if due_ckpt or stop.received:
          save(state, step)
  if stop.received:
    ckpt.wait()
    writer.flush()
    print(f'Received {stop.received}: saved step {step} to {ckpt.directory}; relaunch with the '
          f'same --workdir to resume.', flush=True)
    return {'stopped_at': step, 'signal': stop.received}
  if last_saved != step:
    save(state, step)
  eval_metrics = run.evaluate(eval_step, checkpointing.eval_params(state), config.data.eval_split)
  _write_eval(writer, step, eval_metrics)
  print(f'eval step {step}: {_format_eval(eval_metrics)}', flush=True)
  ckpt.wait()
  ckpt.close()
  writer.flush()
  return eval_metrics


def _format_train(mean):
  """The training metrics of a log line: the loss (in bits/sample when it is a reconstruction)."""
  if 'accuracy' not in mean:
    return f'loss {mean["loss"]:.4f} ({mean["loss"] / math.log(2):.3f} bits/sample)'
  line = f'loss {mean["loss"]:.4f}  accuracy {mean["accuracy"]:.3f}'
  if 'reconstruction_loss' in mean:  # the two heads' parts
    line += (f'  (classification {mean["classification_loss"]:.4f}, reconstruction '
             f'{mean["reconstruction_loss"] / math.log(2):.3f} bits/sample)')
  return line


def _write_generations(writer, step, run, params, config):
  """A short generation per class (at most 16) as TensorBoard audio and spectrogram images."""
  model, mu_law = run.model, config.model.mu_law
  ids = list(range(min(len(run.class_names), 16))) if model.gc_cardinality else [None]
  if config.model.gc_null_class:
    ids.append(model.gc_cardinality - 1)
  keys = jnp.stack([jax.random.key(config.generate.seed + i) for i in range(len(ids))])
  gc = jnp.asarray(ids, jnp.int32) if model.gc_cardinality else None
  null = model.gc_cardinality - 1 if config.model.gc_null_class else None  # check_config: guidance needs it
  draws = generate.generate(model, jax.device_get(params), keys, config.train.generate_num_samples,
                            gc, config.generate.temperature, mu_law, guidance=config.generate.guidance,
                            null_id=null)
  wavs = generate.to_audio(model, draws, mu_law)  # [B, T]
  names = [run.class_names[i] if i is not None and i < len(run.class_names) else 'unconditioned'
           for i in ids]
  rate = config.data.sample_rate
  writer.write_audios(step, {f'generated/{n}': w[None, :, None] for n, w in zip(names, wavs)}, sample_rate=rate)
  writer.write_images(step, {f'generated/{n}/spectrogram': plots.spectrogram_image(w, rate, n)[None]
                             for n, w in zip(names, wavs)})


def evaluate(config, workdir: str, split: str = '', step=None) -> dict:
  """`--mode=eval`: the metrics of checkpoint `step` (default eval.step; 0 = the latest) on
  `split`, printed and written to WORKDIR/eval_<split>.json.

  NLL in bits/sample (per class too) for WaveNets and autoencoders; for classifiers accuracy,
  top-5, per-class accuracy and the confusion matrix (also drawn to WORKDIR/confusion_<split>.png),
  by crop and by whole clip (clip_confusion_<split>.png), beside the MFCC baseline's accuracy;
  for vocoders also resynthesis scores beside Griffin-Lim's (apps/vocoder_scores.py).
  """
  run = open_run(config, workdir)
  split = split or config.data.eval_split
  tx, _ = optim.make_optimizer(config.train)
  target = run.init_state(tx)
  step = (config.eval.step or None) if step is None else step
  ckpt = checkpointing.Checkpointer(run.workdir, read_only=True)
  if ckpt.latest_step() is None:
    raise checkpointing.CheckpointError(f'{run.workdir}: no checkpoint to evaluate')
  if step is not None and step not in ckpt.all_steps():
    raise checkpointing.CheckpointError(f'{ckpt.directory}: no checkpoint at step {step} (eval.step); '
                                        f'it has {", ".join(map(str, ckpt.all_steps()))}')
  try:
    state, meta = ckpt.restore(step, target=target)
  except checkpointing.UnreadableCheckpoint as e:
    raise e.with_others(ckpt.all_steps(), '--config.eval.step={step}') from None
  finally:
    ckpt.close()
  eval_step = steps.make_eval_step(run.kind, run.model, config, len(run.class_names), run.mesh)
  params = checkpointing.eval_params(state)
  metrics = run.evaluate(eval_step, params, split)
  if run.kind.supports('vocode') and config.eval.vocode_clips and jax.process_index() == 0:
    from wavenet_jax.apps import vocoder_scores  # librosa, pesq and pystoi: only here
    writer = metric_writers.create_default_writer(os.path.join(run.workdir, 'eval'))
    metrics.update(vocoder_scores.score(run, jax.device_get(params), config, split, writer, meta['step']))
    writer.close()
  metrics['step'] = meta['step']
  if jax.process_index() == 0:
    files.write_json(os.path.join(run.workdir, f'eval_{split}.json'), metrics)
    for key in ('confusion', 'clip_confusion'):
      if key in metrics:
        plots.save_image(os.path.join(run.workdir, f'{key}_{split}.png'), plots.confusion_image(
            metrics[key], run.class_names, f'{split} {"clips, " if key != "confusion" else ""}step {meta["step"]}'))
  print(f'step {meta["step"]} {_format_eval(metrics)}', flush=True)
  return metrics
