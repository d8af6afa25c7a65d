"""tf.data from a prepared TFDS dataset to host-local training batches.

records -> decode -> silence trimming -> ibab's leading silence pad -> random crop of
receptive_field + sample_size (short clips right-padded, padding masked) -> batch.
Mu-law quantisation happens on the device inside the jitted step (same formula,
wavenet_jax/input/audio.py), so scalar-input models can see the raw samples ibab feeds them.

The stream is a pure function of (seed, position): epoch e visits the shard files and a
shuffle buffer in an order drawn from (seed, e), and element i is cropped with the
stateless seed (seed, i). Resuming at `position` (examples this host consumed) rebuilds
the stream from epoch position // N and skips the rest of that epoch's records before
decoding them. That is what makes "3 steps, kill, resume, 3 steps" equal "6 steps".

The records come from `sources.Sources` (one dataset or several mixed, labels remapped
into the run's class list); each host reads its own contiguous range of every split, so
hosts see disjoint examples and read (nearly) disjoint shard files. Noise augmentation
(input/augment.py), when on, is applied to each crop with seeds of its own.
"""
import logging

import numpy as np
import tensorflow as tf

_tf_hidden_from_accelerators = False


def keep_tf_off_accelerators():
  """Hides the GPUs and TPUs from TensorFlow, once per process, when a pipeline is first built:
  TF is only the input pipeline and must never claim the accelerator JAX trains on. If TF
  has already initialised its devices (the process ran TF ops before), it is left as it is."""
  global _tf_hidden_from_accelerators
  if _tf_hidden_from_accelerators:
    return
  _tf_hidden_from_accelerators = True
  for kind in ('GPU', 'TPU'):
    if tf.config.list_physical_devices(kind):
      try:
        tf.config.set_visible_devices([], kind)
      except RuntimeError as e:  # "Visible devices cannot be modified after being initialized"
        logging.getLogger(__name__).warning('TensorFlow keeps its %s devices: %s', kind, e)


def _check_nonempty(sources, which, n, process_count):
  if n == 0:
    raise ValueError(f'{", ".join(sources.data_dirs)}: the {which} split keeps no examples '
                     f'for one of {process_count} processes')


def trim_bounds_tf(audio, threshold, frame_length=2048, hop_length=512):
  """TF twin of audio.silence_bounds (librosa-centred frame RMS, ibab's slice)."""
  n = tf.shape(audio)[0]
  pad = frame_length // 2
  power = tf.pad(tf.cast(audio, tf.float64) ** 2, [[pad, pad]])
  cum = tf.concat([tf.zeros([1], tf.float64), tf.cumsum(power)], 0)
  starts = tf.range(1 + n // hop_length) * hop_length
  ends = tf.minimum(starts + frame_length, tf.shape(power)[0])
  rms = tf.sqrt(tf.maximum(tf.gather(cum, ends) - tf.gather(cum, starts), 0.0) / frame_length)
  loud = tf.cast(tf.where(rms > threshold)[:, 0], tf.int32)
  has_sound = tf.size(loud) > 0
  start = tf.cond(has_sound, lambda: loud[0] * hop_length, lambda: 0)
  end = tf.cond(has_sound, lambda: loud[-1] * hop_length, lambda: 0)
  return start, end


def _trimmed(samples, silence_threshold):
  """A record's int16 samples -> float32 [T] in [-1, 1), leading and trailing silence cut."""
  audio = tf.cast(samples, tf.float32) / 32768.0
  if silence_threshold > 0:
    start, end = trim_bounds_tf(audio, silence_threshold)
    audio = audio[start:end]
  return audio


def _crop_fn(*, seed, receptive_field, crop_length, silence_threshold, deserialize, augment,
             context_after=0, align=1):
  """(index, (label, record)) -> {'audio': [C] f32, 'mask': [C] f32, 'label': int32}.

  context_after: zeros appended after the clip (mask 0), so a crop's last samples have the
  context a kind reads past them (a vocoder's spectrogram frames); align: crops start at a
  multiple of it in the clip (a vocoder's hop), counting the clip's first sample as 0.
  """

  def crop(index, labelled):
    label, record = labelled
    audio = _trimmed(deserialize(record)['audio'], silence_threshold)  # [T]
    # ibab pads every clip with a receptive field of silence, so the first samples are
    # learnt too and any clip of >= 1 sample yields targets.
    real = tf.concat([tf.ones([receptive_field + tf.shape(audio)[0]]), tf.zeros([context_after])], 0)
    audio = tf.concat([tf.zeros([receptive_field]), audio, tf.zeros([context_after])], 0)
    n = tf.shape(audio)[0]
    span = tf.maximum(n - crop_length, 0) + 1
    offset = tf.random.stateless_uniform([], seed=tf.stack([tf.constant(seed, tf.int64), index]),
                                         maxval=span, dtype=tf.int32)
    offset = offset // align * align
    window, valid = audio[offset:offset + crop_length], real[offset:offset + crop_length]
    padding = crop_length - tf.shape(window)[0]
    window = tf.ensure_shape(tf.pad(window, [[0, padding]]), [crop_length])
    mask = tf.ensure_shape(tf.pad(valid, [[0, padding]]), [crop_length])
    if augment is not None:  # its own stream of seeds, so crops do not move when it is on
      window = augment(window, mask, tf.stack([tf.constant(seed ^ _AUGMENT_SALT, tf.int64), index]))
    return {'audio': window, 'mask': mask, 'label': label}

  return crop


_AUGMENT_SALT = 0x5EED_A06


def _labelled_records(sources, reads):
  """Dataset of (run label int32, serialized record) over `reads`, left-out classes dropped.

  Only the label is parsed here: skipping records on resume must not decode audio.
  """
  tables = sources.label_tables()  # [parts, classes]
  spec = {'label': tf.io.FixedLenFeature([], tf.int64)}

  def read(part, filename, skip, take):
    records = tf.data.TFRecordDataset(filename).skip(skip).take(take)
    label = lambda r: tf.cast(tf.io.parse_single_example(r, spec)['label'], tf.int32)
    return records.map(lambda r: (tables[part, label(r)], r))

  columns = [tf.constant([getattr(r, k) for r in reads], dtype)
             for k, dtype in (('part', tf.int32), ('filename', tf.string), ('skip', tf.int64),
                              ('take', tf.int64))]
  return columns, read


def train_iterator(sources, *, seed, receptive_field, sample_size, batch_size, silence_threshold,
                   shuffle_buffer, augment=None, which='train', position=0, process_index=0,
                   process_count=1, context_after=0, align=1):
  """Infinite iterator of host-local numpy batches, starting after `position` examples.

  Crops are receptive_field + sample_size + context_after samples (`_crop_fn`)."""
  keep_tf_off_accelerators()
  reads = sources.host_reads(which, process_index, process_count)
  per_epoch = sources.host_num_examples(which, process_index, process_count)
  _check_nonempty(sources, which, per_epoch, process_count)
  first_epoch, skip = divmod(position, per_epoch)
  columns, read = _labelled_records(sources, reads)
  filtered = any(p.filtered for p in sources.parts)

  def epoch_records(epoch):  # epoch: int64 scalar tensor
    order = tf.random.experimental.stateless_shuffle(
        tf.range(len(reads)), seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
    records = tf.data.Dataset.from_tensor_slices(tuple(tf.gather(c, order) for c in columns))
    records = records.flat_map(read)
    if filtered:
      records = records.filter(lambda label, record: label >= 0)
    return records.shuffle(shuffle_buffer, seed=epoch * 1_000_003 + seed)

  ds = tf.data.Dataset.range(first_epoch, np.iinfo(np.int64).max).flat_map(epoch_records)
  ds = ds.skip(skip).enumerate(start=position)
  ds = ds.map(_crop_fn(seed=seed, receptive_field=receptive_field,
                       crop_length=receptive_field + sample_size + context_after,
                       silence_threshold=silence_threshold, deserialize=sources.deserialize(),
                       augment=augment, context_after=context_after, align=align),
              num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  ds = ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
  return ds.as_numpy_iterator()


def eval_batches(sources, *, which, seed, receptive_field, sample_size, batch_size,
                 silence_threshold, crops_per_example=1, augment=None, process_index=0,
                 process_count=1, context_after=0, align=1):
  """Every example of the `which` split once per crop, in host-local batches padded to a common count.

  Padding examples carry mask 0, so sums over the mask count each real crop once; every
  host yields the same number of batches (multi-host steps must be taken together).
  """
  keep_tf_off_accelerators()
  reads = sources.host_reads(which, process_index, process_count)
  per_host_max = max(sources.host_num_examples(which, i, process_count)
                     for i in range(process_count)) * crops_per_example
  num_batches = max(1, -(-per_host_max // batch_size))
  columns, read = _labelled_records(sources, reads)
  ds = tf.data.Dataset.from_tensor_slices(tuple(columns)).flat_map(read)
  ds = ds.filter(lambda label, record: label >= 0).repeat(crops_per_example).enumerate()
  crop_length = receptive_field + sample_size + context_after
  ds = ds.map(_crop_fn(seed=seed, receptive_field=receptive_field, crop_length=crop_length,
                       silence_threshold=silence_threshold, deserialize=sources.deserialize(),
                       augment=augment, context_after=context_after, align=align),
              num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  blank = {'audio': np.zeros(crop_length, np.float32), 'mask': np.zeros(crop_length, np.float32),
           'label': np.int32(0)}
  examples = list(ds.as_numpy_iterator())
  examples += [blank] * (num_batches * batch_size - len(examples))
  for b in range(num_batches):
    chunk = examples[b * batch_size:(b + 1) * batch_size]
    yield {k: np.stack([e[k] for e in chunk]) for k in blank}


def clips(sources, *, which, count, silence_threshold):
  """The first `count` (-1: every) examples of the `which` split whole, trimmed as crops
  are: [(run label, float32 audio [T])]. What a vocoder's evaluation resynthesises and a
  classifier's is scored on clip by clip."""
  keep_tf_off_accelerators()
  columns, read = _labelled_records(sources, sources.host_reads(which))
  deserialize = sources.deserialize()

  def whole(label, record):
    return label, _trimmed(deserialize(record)['audio'], silence_threshold)

  ds = tf.data.Dataset.from_tensor_slices(tuple(columns)).flat_map(read)
  ds = ds.filter(lambda label, record: label >= 0).take(count).map(whole)
  return list(ds.as_numpy_iterator())
