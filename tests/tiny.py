"""Tiny demo-corpus configs and helpers shared by the training tests (CPU-sized)."""
import glob
import os

from configs import demo


def config(data_dir, batch_size=2, steps=6):
  c = demo.get_config()
  c.data.source = data_dir
  c.data.sample_size = 64
  c.data.shuffle_buffer = 8
  c.model.dilations = (1, 2, 4, 8)
  c.model.residual_channels = c.model.dilation_channels = 8
  c.model.skip_channels = 16
  c.model.quantization_channels = 64
  c.model.gc_channels = 4
  c.train.batch_size = batch_size
  c.train.num_train_steps = steps
  # A constant rate, not the demo's cosine over num_train_steps: tests resume runs with
  # more steps than they started with and compare them with straight runs.
  c.train.lr_schedule = 'constant'
  c.train.learning_rate = 2e-3
  c.train.log_every_steps = 1
  c.train.checkpoint_every_steps = 3
  c.train.eval_every_steps = 0
  c.eval.batch_size = batch_size
  return c


def build_demo(out):
  from wavenet_jax.datasets import demo as demo_data
  return demo_data.build_demo(out, train_per_class=4, validation_per_class=1, clip_seconds=0.25)


def read_scalars(workdir, tag):
  """{step: value} of a TensorBoard scalar over every event file in workdir."""
  import tensorflow as tf
  values = {}
  for path in sorted(glob.glob(os.path.join(workdir, 'events.out.tfevents.*'))):
    for event in tf.compat.v1.train.summary_iterator(path):
      for v in event.summary.value:
        if v.tag == tag:
          values[event.step] = float(tf.make_ndarray(v.tensor)) if v.HasField('tensor') else v.simple_value
  return values


def plugin_tags(workdir, plugin):
  """The tags TensorBoard's own loader files under `plugin` ('images', 'audio', 'scalars')."""
  from tensorboard.backend.event_processing import event_accumulator
  events = event_accumulator.EventAccumulator(workdir, size_guidance={event_accumulator.TENSORS: 0})
  events.Reload()
  return set(events.PluginTagToContent(plugin))


def read_tags(workdir):
  """Every summary tag written to workdir's event files."""
  import tensorflow as tf
  return {v.tag for path in glob.glob(os.path.join(workdir, 'events.out.tfevents.*'))
          for event in tf.compat.v1.train.summary_iterator(path) for v in event.summary.value}


def random_params(model, *args, seed=0, scale=0.2):
  """Random weights of model's parameter shapes: Glorot-uniform kernels (zero biases) + scale·N(0, 1).

  Drawn with numpy from `jax.eval_shape(model.init)`, so nothing compiles: a jitted
  flax init spends seconds compiling one threefry program per parameter on a 2-core CPU.
  The added noise makes biases and embeddings non-zero, so they are exercised too.
  """
  import jax
  import numpy as np
  shapes = jax.eval_shape(model.init, jax.random.key(0), *args)
  rng = np.random.default_rng(seed)

  def draw(leaf):
    shape = leaf.shape
    base = np.zeros(shape)
    if len(shape) >= 2:
      fan_in, fan_out = int(np.prod(shape[:-1])), shape[-1]
      limit = np.sqrt(6.0 / (fan_in + fan_out))
      base = rng.uniform(-limit, limit, shape)
    return jax.numpy.asarray((base + scale * rng.standard_normal(shape)).astype(leaf.dtype))
  return jax.tree_util.tree_map(draw, shapes)


def apply(model, *args, **kwargs):
  """model.apply, jitted: one compile instead of one per eager op (~70 ms each here)."""
  import functools
  import jax
  return jax.jit(functools.partial(model.apply, **kwargs))(*args)
