"""The NSynth WaveNet autoencoder (magenta's h512_bo16) trained on NSynth or any corpus.

    python launch.py --config=configs/nsynth_autoencoder.py --workdir=runs/nsynth \
        --config.data.source=/path/to/nsynth       # nsynth-{train,valid,test}.tfrecord

    python launch.py --config=configs/nsynth_autoencoder.py:tiny --workdir=runs/ae_tiny

The full model (encoder 30 layers of width 128 -> 16 channels every 512 samples; decoder
30 layers of width 512, skips 256, filter 3) follows magenta's training: Adam, its
piecewise learning rate (2e-4 down to 2e-6 over 240k steps), EMA 0.9999 (used for eval
and generation), random 6,144-sample crops, 8-bit mu-law. It needs accelerators: magenta
trained it on 32 GPUs for ~10 days. Reconstruction loss is reported in bits/sample.

`:tiny` is a CPU-sized model of the same shape on the synthetic demo corpus (hop 64,
1,024-sample crops): it runs in minutes and its loss falls from 8 bits/sample.
"""
from configs import default
from wavenet_jax.models import nsynth


def get_config(arg=None):
  c = default.get_config()
  c.data.corpus = 'nsynth'
  c.data.source = ''  # Required: magenta's NSynth TFRecords folder, or a prepared dataset.
  c.data.silence_threshold = 0.0  # Notes are used whole, their silent tails too (as magenta does).
  c.data.sample_size = 6144  # Crop length; a multiple of model.encoder.hop.
  c.data.shuffle_buffer = 256
  c.model = nsynth.h512_bo16_config()
  c.model.kind = 'nsynth_autoencoder'
  c.model.gc_null_class = False
  c.train.batch_size = 32  # magenta: 32 synchronous replicas of 1.
  c.train.num_train_steps = 250_000
  c.train.adam_epsilon = 1e-8  # tf.train.AdamOptimizer's default, which magenta keeps.
  c.train.lr_schedule = 'piecewise'  # h512_bo16.py's learning_rate_schedule:
  c.train.lr_boundaries = (90_000, 120_000, 150_000, 180_000, 210_000, 240_000)
  c.train.lr_values = (2e-4, 4e-4 / 3, 6e-5, 4e-5, 2e-5, 6e-6, 2e-6)
  c.train.ema_decay = 0.9999
  c.train.checkpoint_every_steps = 1000
  c.train.eval_every_steps = 5000
  c.eval.batch_size = 32
  if arg == 'tiny':
    tiny = nsynth.tiny_config()
    tiny.kind = 'nsynth_autoencoder'
    tiny.gc_null_class = False
    c.model = tiny
    c.data.corpus = 'demo'
    c.data.sample_size = 1024
    c.data.shuffle_buffer = 64
    c.train.batch_size = 8
    c.train.num_train_steps = 300
    c.train.lr_boundaries = (200,)
    c.train.lr_values = (2e-3, 5e-4)
    c.train.ema_decay = 0.99
    c.train.log_every_steps = 25
    c.train.checkpoint_every_steps = 100
    c.train.eval_every_steps = 0
    c.eval.batch_size = 8
  elif arg:
    raise ValueError(f'configs/nsynth_autoencoder.py: unknown variant {arg!r} (use :tiny or nothing)')
  return c
