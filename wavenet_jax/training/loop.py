"""The training loop: resume, train, log, sample, evaluate, checkpoint.

`train_and_evaluate(config, workdir)` trains from WORKDIR's latest checkpoint (or a warm
start, train.init_from), logs and evaluates every so often, and checkpoints; SIGTERM/SIGINT
save a checkpoint and return. What is learnt, logged, sampled and measured is the model
kind's (kinds/registry.Kind); the steps are steps.py, the run's setup run.py.
"""
import signal
import threading
import time

import jax
import numpy as np
from clu import metric_writers

from wavenet_jax.checkpoints import checkpointing, warm_start
from wavenet_jax.common import plots, progress
from wavenet_jax.common.errors import UserError
from wavenet_jax.input import pipeline
from wavenet_jax.runtime import sharding
from wavenet_jax.training import optim, steps
from wavenet_jax.training.run import augmentation, open_run


class NonFiniteLossError(UserError, RuntimeError):
  """The loss became NaN or inf; the message names the step and the last good checkpoint."""


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


def write_eval(writer, kind, step, metrics):
  """An evaluation's TensorBoard scalars and images (the kind's eval report)."""
  writer.write_scalars(step, kind.eval_scalars(metrics))
  images = kind.eval_images(metrics, step)
  if images:
    writer.write_images(step, {f'eval/{name}': image[None] for name, image in images.items()})


def train_and_evaluate(config, workdir: str) -> dict:
  """Trains (resuming from WORKDIR's latest checkpoint), evaluates, checkpoints; returns last eval."""
  run = open_run(config, workdir)
  t = config.train
  tx, schedule = optim.make_optimizer(config)
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
          scalars = run.kind.train_scalars(mean)
          rate = ''
          if timer_steps:  # none since the compiling step: no rate yet
            steps_per_s = timer_steps / max(time.time() - timer_start, 1e-9)
            scalars.update({'train/steps_per_s': steps_per_s,
                            'train/audio_samples_per_s': steps_per_s * t.batch_size * config.data.sample_size})
            eta = (t.num_train_steps - step) / max(steps_per_s, 1e-9)
            rate = f'  {steps_per_s:.2f} steps/s  ETA {progress.duration(eta)}'
          writer.write_scalars(step, scalars)
          print(f'step {step}/{t.num_train_steps}  {run.kind.format_train(mean)}{rate}', flush=True)
          timer_start, timer_steps = time.time(), 0
        if t.eval_every_steps and step % t.eval_every_steps == 0 and step < t.num_train_steps:
          eval_metrics = run.evaluate(eval_step, checkpointing.eval_params(state), config.data.eval_split)
          write_eval(writer, run.kind, step, eval_metrics)
          print(f'eval step {step}: {run.kind.format_eval(eval_metrics)}', flush=True)
        if t.generate_every_steps and (step % t.generate_every_steps == 0 or step == t.num_train_steps):
          _write_samples(writer, step, run, checkpointing.eval_params(state), config)
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
  write_eval(writer, run.kind, step, eval_metrics)
  print(f'eval step {step}: {run.kind.format_eval(eval_metrics)}', flush=True)
  ckpt.wait()
  ckpt.close()
  writer.flush()
  return eval_metrics


def _write_samples(writer, step, run, params, config):
  """The kind's training-time samples as TensorBoard audio and spectrogram images."""
  wavs = run.kind.training_samples(run.model, params, config, run.class_names)
  if not wavs:
    return
  rate = config.data.sample_rate
  writer.write_audios(step, {f'generated/{n}': w[None, :, None] for n, w in wavs.items()}, sample_rate=rate)
  writer.write_images(step, {f'generated/{n}/spectrogram': plots.spectrogram_image(w, rate, n)[None]
                             for n, w in wavs.items()})
