"""A run's setup, shared by training, evaluation and the studies built on them.

`Run(config, workdir, resolve)` checks the config, opens its data (resolve turns a
`data.source` into a prepared dataset dir; `open_run` prepares raw trees into data.cache_dir),
builds the model of its kind and the device mesh; it makes the initial train state, the
checkpoint meta, the eval batches and the evaluation itself.
"""
import jax
import jax.numpy as jnp
import numpy as np

from wavenet_jax.checkpoints import checkpointing, saved_model
from wavenet_jax.common import config_checks
from wavenet_jax.datasets import prepare
from wavenet_jax.input import augment, pipeline, sources
from wavenet_jax.runtime import sharding
from wavenet_jax.training import checks
from wavenet_jax.training.steps import TrainState


def augmentation(cfg, split):
  """The noise augmentation of `split` ((audio, mask, seed) -> audio), or None when off."""
  return augment.from_config(cfg) if augment.applies_to(cfg, split) else None


def open_run(config, workdir) -> 'Run':
  """The Run of config in workdir, raw data trees prepared into data.cache_dir (datasets/prepare.py)."""
  pipeline.keep_tf_off_accelerators()  # before preparing data runs TensorFlow
  return Run(config, workdir, prepare.resolver(config.data))


def _class_names_of(path):
  """The class names of the run (workdir or step dir) at path: data.class_names_from."""
  return checkpointing.load_meta(path).get('class_names')


class Run:
  """What train and eval share: data, model (of its kind), mesh, and the checkpoint meta."""

  def __init__(self, config, workdir, resolve):
    saved = saved_model.adopt(config, workdir)  # a config that contradicts WORKDIR's checkpoints: one line
    self.kind = checks.check_config(config)
    try:
      augment.from_config(config.data.augment)
    except ValueError as e:
      raise config_checks.ConfigError(f'data.augment.{e}') from None
    self.config = config
    self.workdir = config_checks.check_workdir(workdir)
    self.sources = sources.from_config(config.data, resolve, _class_names_of,
                                       saved_names=saved and saved.get('class_names'))
    self.class_names = self.sources.class_names
    self.num_outputs = self.kind.num_classes(config, len(self.class_names))
    self.gc_cardinality = self.num_outputs if self.kind.class_conditioned else 0
    self.model = self.kind.build(config, self.num_outputs)
    self.receptive_field = self.kind.context(self.model)
    # What a crop carries past its predicted samples, and the step its start is a multiple of.
    self.crop_layout = {'context_after': self.kind.context_after(self.model), 'align': self.kind.align(self.model)}
    self.mesh = sharding.make_mesh()
    self.kind.check_data(config, self.sources)

  def init_state(self, tx):
    t = self.config.train
    args = self.kind.init_inputs(self.model, self.config.model)

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

  def which(self, split):
    """A split name as the pipeline reads it: the configured train/eval split names mean each
    part's own ('train', 'eval'); any other name is itself."""
    d = self.config.data
    return {d.eval_split: 'eval', d.train_split: 'train'}.get(split, split)

  def eval_batches(self, split, whole=False):
    """This host's batches of `split` (whole: every host's, here)."""
    c = self.config
    which = self.which(split)
    hosts = 1 if whole else jax.process_count()
    return pipeline.eval_batches(
        self.sources, which=which, seed=c.eval.seed, receptive_field=self.receptive_field,
        sample_size=c.data.sample_size, batch_size=c.eval.batch_size // hosts,
        silence_threshold=c.data.silence_threshold, crops_per_example=c.eval.crops_per_example,
        augment=augmentation(c.data.augment, split), process_index=0 if whole else jax.process_index(),
        process_count=hosts, **self.crop_layout)

  def evaluate(self, eval_step, params, split, writer=None, step=0):
    """The kind's eval metrics of `split` (bits/sample per class; a classifier's accuracy...)
    and its extra evaluations (Kind.extra_evaluations: writer given, the --mode=eval ones too)."""
    totals = None
    for batch in self.eval_batches(split):
      sums = jax.device_get(eval_step(params, sharding.global_batch(batch, self.mesh)))
      sums = {k: np.asarray(v, np.float64) for k, v in sums.items()}
      totals = sums if totals is None else {k: totals[k] + v for k, v in sums.items()}
    metrics = self.kind.summarize(totals, self.class_names, split)
    metrics.update(self.kind.extra_evaluations(self, params, split, writer, step))
    return metrics
