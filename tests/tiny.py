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
  c.train.log_every_steps = 1
  c.train.checkpoint_every_steps = 3
  c.train.eval_every_steps = 0
  c.eval.batch_size = batch_size
  return c


def build_demo(out):
  from data import demo as demo_data
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


def read_tags(workdir):
  """Every summary tag written to workdir's event files."""
  import tensorflow as tf
  return {v.tag for path in glob.glob(os.path.join(workdir, 'events.out.tfevents.*'))
          for event in tf.compat.v1.train.summary_iterator(path) for v in event.summary.value}
