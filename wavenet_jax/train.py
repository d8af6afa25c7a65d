"""Training and evaluation: `train_and_evaluate(config, workdir)`, `evaluate(config, workdir, split)`.

Every step is a pure function of (state, batch) jitted over a mesh of all devices:
state replicated, batch sharded on `data`. What is learnt depends on model.kind:
  wavenet             the cross entropy of the next sample's mu-law class over the
                      targets that have a full receptive field of context and are not padding;
  nsynth_autoencoder  the same for every sample of the crop, given the crop's embedding;
  nsynth_classifier   the class cross entropy of the pooled encoder embedding (classifier.py);
  nsynth_autoencoder_classifier  the reconstruction cross entropy + w · the class cross entropy.
"""
import json
import math
import os
import signal
import time
from typing import Any

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax
from clu import metric_writers

from wavenet_jax import (audio, augment, checkpointing, classifier, config_checks, generate,
                         input_pipeline, nsynth, plots, sharding, sources)
from wavenet_jax.wavenet import WaveNet


class NonFiniteLossError(RuntimeError):
  """The loss became NaN or inf; the message names the step and the last good checkpoint."""


@flax.struct.dataclass
class TrainState:
  step: jnp.ndarray
  params: Any
  opt_state: Any
  ema_params: Any  # None when train.ema_decay == 0.
  rng: jnp.ndarray  # raw uint32 key data: checkpoints hold plain arrays.


# ---------------------------------------------------------------------------- setup

def create_model(config, num_classes: int):
  """The model of config.model.kind; num_classes = gc_cardinality (WaveNet) or head outputs."""
  kind = kind_of(config.model)
  if kind == 'nsynth_autoencoder':
    return nsynth.from_config(config.model)
  if kind in classifier.KINDS:
    return classifier.from_config(config.model, num_classes,
                                  freeze_encoder=config.train.encoder_training == 'frozen')
  model = config.model.copy_and_resolve_references()
  with model.unlocked():
    model.gc_cardinality = num_classes
  return WaveNet.from_config(model)


def kind_of(model_config) -> str:
  return model_config.get('kind', 'wavenet')


def is_autoencoder(model_config) -> bool:
  return kind_of(model_config) == 'nsynth_autoencoder'


def is_classifier(model) -> bool:
  return isinstance(model, (classifier.Classifier, classifier.AutoencoderClassifier))


def context_of(model) -> int:
  """Samples of context the pipeline pads each crop with: a WaveNet's receptive field
  (ibab's leading silence); none for the NSynth models, which, like magenta, learn every
  sample of their crop from zero history (and whose encoder sees the crop whole)."""
  return 0 if isinstance(model, (nsynth.Autoencoder, classifier.Classifier)) else model.receptive_field


def learning_rate_schedule(t):
  if t.lr_schedule == 'constant':
    return optax.constant_schedule(t.learning_rate)
  if t.lr_schedule == 'piecewise':  # NSynth's: lr_values[i] from step lr_boundaries[i - 1] on.
    return optax.piecewise_constant_schedule(
        t.lr_values[0], {int(b): v / u for b, v, u in zip(t.lr_boundaries, t.lr_values[1:], t.lr_values)})
  if t.lr_schedule == 'cosine':
    return optax.cosine_decay_schedule(t.learning_rate, max(t.num_train_steps, 1))
  return optax.warmup_cosine_decay_schedule(0.0, t.learning_rate, t.warmup_steps,
                                            max(t.num_train_steps, t.warmup_steps + 1))


def make_optimizer(t):
  """(optax transformation, schedule); train.encoder_training freezes the NSynth encoder
  or scales its learning rate (the other modules train at the schedule's rate)."""
  schedule = learning_rate_schedule(t)

  def base():
    if t.optimizer == 'adam':
      return optax.adam(schedule, eps=t.adam_epsilon)
    if t.optimizer == 'sgd':
      return optax.sgd(schedule, momentum=t.momentum)
    # TF's RMSProp as ibab configures it: decay 0.9, epsilon 1e-5 inside the sqrt.
    return optax.rmsprop(schedule, decay=0.9, eps=1e-5, momentum=t.momentum)

  opt = base()
  mode = t.get('encoder_training', 'fine_tune')
  if mode != 'fine_tune':
    encoder = optax.set_to_zero() if mode == 'frozen' else optax.chain(base(), optax.scale(t.encoder_lr_scale))
    opt = optax.multi_transform({'encoder': encoder, 'rest': opt}, _encoder_labels)
  if t.grad_clip_norm > 0:
    opt = optax.chain(optax.clip_by_global_norm(t.grad_clip_norm), opt)
  return opt, schedule


def _encoder_labels(params):
  """'encoder' for every leaf of the NSynth encoder, 'rest' for the others."""
  return {'params': {name: jax.tree_util.tree_map(lambda _: 'encoder' if name == 'encoder' else 'rest', sub)
                     for name, sub in params['params'].items()}}


def _is_bias(path) -> bool:
  return 'bias' in jax.tree_util.keystr(path)


def l2_penalty(params, strength):
  """ibab's regulariser: strength · Σ ½|w|² over every non-bias variable."""
  if not strength:
    return 0.0
  leaves = [0.5 * jnp.sum(w**2) for p, w in jax.tree_util.tree_leaves_with_path(params) if not _is_bias(p)]
  return strength * sum(leaves)


# ------------------------------------------------------------------- the pure steps

def model_inputs(model_config, crop):
  """Float crop [B, C] -> (network input [B, C], mu-law classes [B, C])."""
  q, kind = model_config.quantization_channels, model_config.mu_law
  classes = audio.mu_law_encode(crop, q, kind, xp=jnp)
  if not model_config.scalar_input:
    return classes, classes
  if kind == 'nsynth':  # NSynth feeds its 8-bit mu-law value scaled to [-1, 1).
    return audio.nsynth_scalar(classes, q, xp=jnp), classes
  return crop, classes  # ibab feeds the raw samples.


def drop_classes(key, labels, rate, null_id):
  """Class dropout: each label becomes the null class with probability `rate`. [B] -> [B]

  A model trained so learns p(x) under the null class beside p(x | class): one
  conditioned model also generates unconditioned audio (the "general audio model").
  """
  return jnp.where(jax.random.bernoulli(key, rate, labels.shape), null_id, labels)


def nll_per_target(model, model_config, params, batch, receptive_field, gc_ids=None):
  """-> (nll [B, S] in nats, target mask [B, S]); gc_ids default to the batch's labels."""
  if isinstance(model, nsynth.Autoencoder):  # reconstruction: every sample of the crop
    logits, classes, _ = model.apply(params, batch['audio'])
    return optax.softmax_cross_entropy_with_integer_labels(logits, classes), batch['mask']
  inputs, classes = model_inputs(model_config, batch['audio'])
  num_outputs = classes.shape[1] - receptive_field
  gc = (batch['label'] if gc_ids is None else gc_ids) if model.gc_cardinality else None
  logits = model.apply(params, inputs[:, :-1], gc, num_outputs=num_outputs)  # [B, S, Q]
  targets = classes[:, receptive_field:]
  nll = optax.softmax_cross_entropy_with_integer_labels(logits, targets)
  return nll, batch['mask'][:, receptive_field:]


def objective(model, config, params, batch, gc_ids=None):
  """-> (loss to minimise, metrics {'loss': .., ...}) of one batch, for every model kind."""
  if is_classifier(model):
    return classifier.losses(model, params, batch, config.train.classification_weight)
  nll, mask = nll_per_target(model, config.model, params, batch, context_of(model), gc_ids)
  loss = jnp.sum(nll * mask) / jnp.maximum(jnp.sum(mask), 1.0)
  return loss, {'loss': loss}


def make_train_step(model, config, tx, schedule, mesh):
  t = config.train

  def loss_fn(params, batch, gc_ids):
    loss, metrics = objective(model, config, params, batch, gc_ids)
    return loss + l2_penalty(params, t.l2_regularization_strength), metrics

  def train_step(state, batch):
    gc_ids = batch['label']
    if t.class_dropout > 0:
      key = jax.random.fold_in(state.rng, state.step)
      gc_ids = drop_classes(key, gc_ids, t.class_dropout, model.gc_cardinality - 1)
    (_, metrics), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params, batch, gc_ids)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    ema = state.ema_params
    if ema is not None:
      ema = optax.incremental_update(params, ema, step_size=1.0 - t.ema_decay)
    metrics = dict(metrics, grad_norm=optax.tree.norm(grads), learning_rate=schedule(state.step))
    return state.replace(step=state.step + 1, params=params, opt_state=opt_state, ema_params=ema), metrics

  repl, data = sharding.replicated(mesh), sharding.batch_sharding(mesh)
  return jax.jit(train_step, in_shardings=(repl, data), out_shardings=(repl, repl), donate_argnums=0)


def make_eval_step(model, config, num_classes, mesh):
  rf = context_of(model)

  def eval_step(params, batch):  # -> {name: per-class sums}, summed over batches by Run.evaluate
    if is_classifier(model):
      return classifier.eval_sums(model, params, batch, num_classes)
    nll, mask = nll_per_target(model, config.model, params, batch, rf)
    per_example = {'nll': jnp.sum(nll * mask, axis=1), 'targets': jnp.sum(mask, axis=1)}
    return {k: jax.ops.segment_sum(v, batch['label'], num_classes) for k, v in per_example.items()}

  return jax.jit(eval_step, in_shardings=(sharding.replicated(mesh), sharding.batch_sharding(mesh)),
                 out_shardings=sharding.replicated(mesh))


# ------------------------------------------------------------------------- a run

class Run:
  """What train and eval share: data, model, mesh, and the checkpoint layout."""

  def __init__(self, config, workdir):
    config_checks.check_config(config)
    self.config = config
    self.workdir = config_checks.check_workdir(workdir)
    try:
      augment.from_config(config.data.augment)
    except ValueError as e:
      raise config_checks.ConfigError(f'data.augment.{e}') from None
    self.sources = sources.from_config(config.data, _resolver(config.data))
    self.class_names = self.sources.class_names
    if kind_of(config.model) in classifier.KINDS:
      self.gc_cardinality = 0
      self.num_outputs = config_checks.check_classifier_classes(config, len(self.class_names))
    else:
      self.gc_cardinality = self.num_outputs = config_checks.check_class_count(config, len(self.class_names))
    self.model = create_model(config, self.num_outputs)
    self.receptive_field = context_of(self.model)
    self.mesh = sharding.make_mesh()

  def init_state(self, tx):
    t = self.config.train
    if is_classifier(self.model):
      hop = self.model.encoder.hop
      args = (jnp.zeros((1, hop), jnp.float32), jnp.ones((1, hop), jnp.float32))
    elif isinstance(self.model, nsynth.Autoencoder):
      args = (jnp.zeros((1, self.model.hop), jnp.float32),)
    else:
      inputs, _ = model_inputs(self.config.model, jnp.zeros((1, self.receptive_field + 1), jnp.float32))
      args = (inputs, jnp.zeros((1,), jnp.int32) if self.model.gc_cardinality else None)

    def init(seed):
      key = jax.random.PRNGKey(seed)
      params = self.model.init(jax.random.fold_in(key, 0), *args)
      return TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params),
                        ema_params=params if t.ema_decay > 0 else None,
                        rng=jax.random.fold_in(key, 1))

    return jax.jit(init, static_argnums=0, out_shardings=sharding.replicated(self.mesh))(self.config.seed)

  def meta(self, step, position):
    return {'step': int(step), 'data_position': int(position), 'class_names': self.class_names,
            'sample_rate': self.config.data.sample_rate, 'receptive_field': self.receptive_field,
            'gc_cardinality': self.gc_cardinality, 'model': self.config.model.to_dict(),
            'null_class_id': self.gc_cardinality - 1 if self.config.model.gc_null_class else None,
            'data_dirs': self.sources.data_dirs}

  def eval_batches(self, split):
    """Batches of `split`; the configured train/eval split names mean each part's own."""
    c = self.config
    which = {c.data.eval_split: 'eval', c.data.train_split: 'train'}.get(split, split)
    return input_pipeline.eval_batches(
        self.sources, which=which, seed=c.eval.seed, receptive_field=self.receptive_field,
        sample_size=c.data.sample_size, batch_size=c.eval.batch_size // jax.process_count(),
        silence_threshold=c.data.silence_threshold, crops_per_example=c.eval.crops_per_example,
        augment=_augmentation(c.data.augment, split), process_index=jax.process_index(),
        process_count=jax.process_count())

  def evaluate(self, eval_step, params, split):
    """Validation NLL in bits/sample, overall and per class; a classifier's accuracy metrics."""
    totals = None
    for batch in self.eval_batches(split):
      sums = jax.device_get(eval_step(params, sharding.global_batch(batch, self.mesh)))
      sums = {k: np.asarray(v, np.float64) for k, v in sums.items()}
      totals = sums if totals is None else {k: totals[k] + v for k, v in sums.items()}
    if is_classifier(self.model):
      return classifier.summarize(totals, self.class_names, split)
    nll, count = totals['nll'], totals['targets']
    bits = lambda n, c: float(n / c / math.log(2)) if c else float('nan')
    return {
        'split': split, 'targets': int(count.sum()),
        'bits_per_sample': bits(nll.sum(), count.sum()),
        'bits_per_sample_per_class': {k: bits(n, c) for k, n, c in zip(self.class_names, nll, count)},
    }


def _augmentation(cfg, split):
  """The noise augmentation of `split` ((audio, mask, seed) -> audio), or None when off."""
  return augment.from_config(cfg) if augment.applies_to(cfg, split) else None


def _resolver(d):
  """(source, corpus, options) -> a prepared dir: raw trees are prepared once into data.cache_dir."""
  from data import prepare  # the project's dataset builders (top-level data/).

  def resolve(source, corpus, options):
    options = dict(options)
    if corpus == 'folder' and 'label_from' not in options:
      options['label_from'] = 'pattern' if options.get('pattern') else 'folder'
    if corpus in ('folder', 'gtzan', 'vctk', 'librispeech'):  # corpora split by a fraction
      options.setdefault('validation_fraction', d.validation_fraction)
    return prepare.resolve(source, corpus, os.path.expanduser(d.cache_dir),
                           sample_rate=d.sample_rate, **options)

  return resolve


class _StopSignal:
  """SIGTERM/SIGINT ask the loop to checkpoint and return instead of dying mid-step."""

  def __init__(self):
    self.received = None
    self._previous = {}

  def __enter__(self):
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
    return classifier.format_table(metrics)
  per_class = ', '.join(f'{k} {v:.3f}' for k, v in metrics['bits_per_sample_per_class'].items())
  return f"{metrics['split']}: {metrics['bits_per_sample']:.4f} bits/sample ({per_class})"


def _write_eval(writer, step, metrics):
  scalars = {}
  if 'bits_per_sample' in metrics:
    scalars['eval/bits_per_sample'] = metrics['bits_per_sample']
    scalars.update({f'eval/bits_per_sample/{k}': v for k, v in metrics['bits_per_sample_per_class'].items()})
  if 'accuracy' in metrics:
    for key in ('accuracy', 'top5_accuracy', 'mean_per_class_accuracy', 'cross_entropy'):
      scalars[f'eval/{key}'] = metrics[key]
    scalars.update({f'eval/accuracy/{k}': v for k, v in metrics['per_class_accuracy'].items()})
    names = list(metrics['per_class_accuracy'])
    writer.write_images(step, {'eval/confusion': plots.confusion_image(
        metrics['confusion'], names, f"{metrics['split']} step {step}")[None]})
  writer.write_scalars(step, scalars)


def train_and_evaluate(config, workdir: str) -> dict:
  """Trains (resuming from WORKDIR's latest checkpoint), evaluates, checkpoints; returns last eval."""
  run = Run(config, workdir)
  t = config.train
  tx, schedule = make_optimizer(t)
  state = run.init_state(tx)
  ckpt = checkpointing.Checkpointer(run.workdir, max_to_keep=t.max_checkpoints_to_keep)
  position = 0
  latest = ckpt.latest_step()
  if latest is not None:
    state, meta = ckpt.restore(latest, target=state)
    position = meta['data_position']
    print(f'Resuming from {ckpt.directory}/{latest} (step {latest}).', flush=True)
  elif t.init_from:
    params, modules = _params_from(t.init_from, state.params, run.mesh, config, run.class_names)
    state = state.replace(params=params)
    if state.ema_params is not None:
      state = state.replace(ema_params=state.params)
    fresh = [m for m in params['params'] if m not in modules]
    print(f'Initialised {", ".join(modules) if fresh else "params"} from {t.init_from}'
          + (f' ({", ".join(fresh)} fresh)' if fresh else '') + '; fresh optimizer.', flush=True)

  per_host = sharding.per_host_batch_size(t.batch_size)
  batches = input_pipeline.train_iterator(
      run.sources, which='train', seed=config.seed, 
      augment=_augmentation(config.data.augment, config.data.train_split),
      receptive_field=run.receptive_field, sample_size=config.data.sample_size,
      batch_size=per_host, silence_threshold=config.data.silence_threshold,
      shuffle_buffer=config.data.shuffle_buffer, position=position,
      process_index=jax.process_index(), process_count=jax.process_count())
  train_step = make_train_step(run.model, config, tx, schedule, run.mesh)
  eval_step = make_eval_step(run.model, config, len(run.class_names), run.mesh)
  eval_params = lambda s: s.ema_params if s.ema_params is not None else s.params

  writer = metric_writers.create_default_writer(run.workdir, just_logging=jax.process_index() > 0)
  step = int(jax.device_get(state.step))
  last_saved = latest
  print(f'{len(run.class_names)} classes, {_describe(run.model)}, '
        f'{jax.device_count()} devices, global batch {t.batch_size}; steps {step} -> {t.num_train_steps}.',
        flush=True)

  def save(state, step):
    nonlocal last_saved
    ckpt.save(step, state, run.meta(step, position))
    last_saved = step

  pending, eval_metrics = [], None
  timer_start, timer_steps = time.time(), 0
  with _StopSignal() as stop:
    while step < t.num_train_steps and not stop.received:
      state, metrics = train_step(state, sharding.global_batch(next(batches), run.mesh))
      step += 1
      position += per_host
      timer_steps += 1
      pending.append(metrics)
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
          elapsed = time.time() - timer_start
          steps_per_s = timer_steps / max(elapsed, 1e-9)
          mean = {k: float(np.mean([v[k] for v in values])) for k in values[-1]}
          scalars = {f'train/{k}': v for k, v in mean.items()}
          if 'accuracy' not in mean:
            scalars['train/bits_per_sample'] = mean['loss'] / math.log(2)
          if 'reconstruction_loss' in mean:
            scalars['train/reconstruction_bits_per_sample'] = mean['reconstruction_loss'] / math.log(2)
          scalars.update({'train/steps_per_s': steps_per_s,
                          'train/audio_samples_per_s': steps_per_s * t.batch_size * config.data.sample_size})
          writer.write_scalars(step, scalars)
          eta = (t.num_train_steps - step) / max(steps_per_s, 1e-9)
          print(f'step {step}/{t.num_train_steps}  {_format_train(mean)}  {steps_per_s:.2f} steps/s  '
                f'ETA {_duration(eta)}', flush=True)
          timer_start, timer_steps = time.time(), 0
        if t.eval_every_steps and step % t.eval_every_steps == 0 and step < t.num_train_steps:
          eval_metrics = run.evaluate(eval_step, eval_params(state), config.data.eval_split)
          _write_eval(writer, step, eval_metrics)
          print(f'eval step {step}: {_format_eval(eval_metrics)}', flush=True)
        if t.generate_every_steps and kind_of(config.model) == 'wavenet' and (
            step % t.generate_every_steps == 0 or step == t.num_train_steps):
          _write_generations(writer, step, run, eval_params(state), config)
        if due_ckpt or stop.received:
          save(state, step)
  if stop.received:
    ckpt.wait()
    writer.flush()
    print(f'Received {stop.received}: saved step {step} to {ckpt.directory}; relaunch with the '
          f'same --workdir to resume.', flush=True)
    return {'stopped_at': step}
  if last_saved != step:
    save(state, step)
  eval_metrics = run.evaluate(eval_step, eval_params(state), config.data.eval_split)
  _write_eval(writer, step, eval_metrics)
  print(f'eval step {step}: {_format_eval(eval_metrics)}', flush=True)
  ckpt.wait()
  ckpt.close()
  writer.flush()
  return eval_metrics


def _describe(model) -> str:
  """What a run's first line says about its model."""
  if isinstance(model, classifier.Classifier):
    return f'encoder hop {model.encoder.hop} + {model.head.pooling}-pooling head'
  if isinstance(model, nsynth.Autoencoder):
    head = f' + {model.head.pooling}-pooling head' if isinstance(model, classifier.AutoencoderClassifier) else ''
    return f'autoencoder hop {model.hop}, decoder receptive field {model.decoder.receptive_field} samples{head}'
  return f'receptive field {model.receptive_field} samples'


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
  model, q, kind = run.model, config.model.quantization_channels, config.model.mu_law
  ids = list(range(min(len(run.class_names), 16))) if model.gc_cardinality else [None]
  if config.model.gc_null_class:
    ids.append(model.gc_cardinality - 1)
  keys = jnp.stack([jax.random.key(config.generate.seed + i) for i in range(len(ids))])
  gc = jnp.asarray(ids, jnp.int32) if model.gc_cardinality else None
  null = model.gc_cardinality - 1 if config.model.gc_null_class else None  # check_config: guidance needs it
  classes = generate.generate(model, jax.device_get(params), keys, config.train.generate_num_samples,
                              gc, config.generate.temperature, kind, guidance=config.generate.guidance,
                              null_id=null)
  wavs = audio.mu_law_decode(np.asarray(classes), q, kind)  # [B, T]
  names = [run.class_names[i] if i is not None and i < len(run.class_names) else 'unconditioned'
           for i in ids]
  rate = config.data.sample_rate
  writer.write_audios(step, {f'generated/{n}': w[None, :, None] for n, w in zip(names, wavs)}, sample_rate=rate)
  writer.write_images(step, {f'generated/{n}': plots.spectrogram_image(w, rate, n)[None]
                             for n, w in zip(names, wavs)})


def _params_from(path, like, mesh, config, class_names=None):
  """Params to start from, checked leaf by leaf against this model's (`like`).

  path: another run (workdir or step dir; its EMA params when it kept them, the weights it
  evaluated with), or a TF1 checkpoint prefix (with a `.index` file) of ibab's WaveNet or
  magenta's NSynth autoencoder (importers.py).
  The top-level modules taken are train.init_modules, or by default all of this model's,
  a classifier head only when the source has one: an autoencoder starts a classifier's
  encoder (and decoder), its head keeps the fresh initialisation. An ibab checkpoint's
  speaker rows are moved to our class order (`class_names`, by the speaker number).
  """
  if os.path.exists(path + '.index'):
    from wavenet_jax import importers  # TF's checkpoint reader: only for this.
    if importers.is_ibab_checkpoint(path):  # ibab/tensorflow-wavenet (wavenet/causal_layer/filter)
      params, source_kind = importers.import_ibab_wavenet(path, config.model)[0], 'ibab wavenet'
      if 'gc_embedding' in params['params'] and 'gc_embedding' in like['params']:
        if not class_names:
          raise checkpointing.CheckpointError(f'{path}: a conditioned ibab checkpoint needs the run\'s '
                                              f'class names to place its speaker rows')
        params = _ibab_rows_in_our_order(params, like, class_names)
    else:
      params, source_kind = importers.import_magenta_nsynth(path, config.model), 'magenta nsynth_autoencoder'
  else:
    state, meta = checkpointing.load(path)
    params = state['ema_params'] if state.get('ema_params') is not None else state['params']
    source_kind = meta.get('model', {}).get('kind', 'wavenet')
  have = {jax.tree_util.keystr(k): v for k, v in jax.tree_util.tree_leaves_with_path(params)}
  source_modules = set(params.get('params', {}))
  modules = tuple(config.train.get('init_modules', ()))
  if not modules:
    modules = [m for m in like['params'] if m != 'head' or 'head' in source_modules]
  for m in modules:
    if m not in like['params']:
      raise config_checks.ConfigError(f'train.init_modules: this model has no module {m!r} '
                                      f'(it has {", ".join(like["params"])})')
  leaves = []
  for k, w in jax.tree_util.tree_leaves_with_path(like):
    name = jax.tree_util.keystr(k)
    if k[1].key not in modules:  # [params][module]...: starts afresh
      leaves.append(w)
      continue
    if name not in have:
      raise checkpointing.CheckpointError(
          f'{path}: has no parameter {name}: a {source_kind} checkpoint does not fit this '
          f'{kind_of(config.model)} model')
    if tuple(have[name].shape) != tuple(w.shape):
      hint = (" (train.init_modules=('encoder', ...) starts the head afresh)"
              if k[1].key == 'head' else '')
      raise checkpointing.CheckpointError(f'{path}: parameter {name} has shape {tuple(have[name].shape)}, '
                                          f'this model needs {tuple(w.shape)}{hint}')
    leaves.append(have[name])
  ordered = jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(like), leaves)
  return jax.device_put(ordered, sharding.replicated(mesh)), modules


def _ibab_rows_in_our_order(params, like, class_names):
  """ibab's table [N, G] (row = speaker number) -> ours [K(+null), G]: class j gets the row
  of its speaker; rows without a class (a null class) keep their fresh initialisation."""
  from wavenet_jax import importers
  table = np.asarray(params['params']['gc_embedding'])
  ours = np.array(jax.device_get(like['params']['gc_embedding']))
  if table.shape[1] != ours.shape[1]:
    return params  # the leaf check names the mismatch
  ours[:len(class_names)] = table[importers.ibab_class_rows(class_names, table.shape[0])]
  return {'params': dict(params['params'], gc_embedding=ours)}


def _duration(seconds):
  seconds = int(seconds)
  h, rem = divmod(seconds, 3600)
  return f'{h}h{rem // 60:02d}m' if h else f'{rem // 60}m{rem % 60:02d}s'


def evaluate(config, workdir: str, split: str = '', step=None) -> dict:
  """`--mode=eval`: the latest checkpoint's (or `step`'s) metrics on `split`, printed and
  written to WORKDIR/eval_<split>.json.

  NLL in bits/sample (per class too) for WaveNets and autoencoders; for classifiers accuracy,
  top-5, per-class accuracy and the confusion matrix (also drawn to WORKDIR/confusion_<split>.png).
  """
  run = Run(config, workdir)
  split = split or config.data.eval_split
  tx, _ = make_optimizer(config.train)
  target = run.init_state(tx)
  ckpt = checkpointing.Checkpointer(run.workdir, read_only=True)
  if ckpt.latest_step() is None:
    raise checkpointing.CheckpointError(f'{run.workdir}: no checkpoint to evaluate')
  if step is not None and step not in ckpt.all_steps():
    raise checkpointing.CheckpointError(f'{ckpt.directory}: no checkpoint at step {step}')
  state, meta = ckpt.restore(step, target=target)
  ckpt.close()
  params = state.ema_params if state.ema_params is not None else state.params
  metrics = run.evaluate(make_eval_step(run.model, config, len(run.class_names), run.mesh), params, split)
  metrics['step'] = meta['step']
  if jax.process_index() == 0:
    path = os.path.join(run.workdir, f'eval_{split}.json')
    with open(path + '.tmp', 'w') as f:
      json.dump(metrics, f, indent=2)
    os.replace(path + '.tmp', path)
    if 'confusion' in metrics:
      plots.save_image(os.path.join(run.workdir, f'confusion_{split}.png'), plots.confusion_image(
          metrics['confusion'], run.class_names, f'{split} step {meta["step"]}'))
  print(f'step {meta["step"]} {_format_eval(metrics)}', flush=True)
  return metrics
