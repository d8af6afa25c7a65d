"""Throughput of the training input pipeline for the default config (ibab's WaveNet, batch 1).

    python benchmarks/input_pipeline.py [--json PATH] [--seconds S] [--train_step_s T]

Reads a prepared dataset of 10-second clips (the demo corpus, synthesised once into a
temporary directory) through the same tf.data pipeline training uses: TFRecord read,
decode, silence trimming at 0.3, a random 100,000 + 5,117-sample crop, noise augmentation
(additive Gaussian, 10-30 dB), batching; then mu-law on the host (training does it on the
device, so this is an upper bound on the host's work). Goal: >= 10x what a training step
consumes, i.e. >= 10 crops per train-step time: --train_step_s, or measured here with
benchmarks/train_step.py's default model and crop (2 timed steps).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

if __name__ == '__main__':  # `python benchmarks/X.py` puts benchmarks/ on sys.path; the imports below need the checkout
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

if __name__ == '__main__':  # TF's C++ start-up chatter would bury the table; a user's own setting wins.
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from benchmarks import table, train_step
from configs import default
from wavenet_jax.datasets import demo
from wavenet_jax.input import audio, augment, pipeline, sources
from wavenet_jax.runtime import xla_cpu

def throughput(src, config, augmentation, seconds):
  """(examples/s, audio samples/s) of the training stream after a warm-up batch."""
  d = config.data
  rf = 5117  # the default model's receptive field
  it = pipeline.train_iterator(
      src, which='train', seed=0, receptive_field=rf, sample_size=d.sample_size,
      batch_size=config.train.batch_size, silence_threshold=d.silence_threshold,
      shuffle_buffer=d.shuffle_buffer, augment=augmentation)
  next(it)
  examples, start = 0, time.perf_counter()
  while time.perf_counter() - start < seconds:
    batch = next(it)
    audio.mu_law_encode(batch['audio'], 256)
    examples += batch['audio'].shape[0]
  rate = examples / (time.perf_counter() - start)
  return rate, rate * (rf + d.sample_size)


def main():
  xla_cpu.configure()  # first: the process settings launch.py runs training with (its allocator too).
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--json', help='also write the figures here as a flat JSON object')
  parser.add_argument('--seconds', type=float, default=20.0, help='timed seconds per measurement')
  parser.add_argument('--train_step_s', type=float, default=None,
                      help='the train step time to compare with (default: measured on this machine)')
  args = parser.parse_args()
  step_s = args.train_step_s or statistics.median(train_step.measure(timed_steps=2)[1])
  config = default.get_config()
  with tempfile.TemporaryDirectory() as tmp:
    data_dir = demo.build_demo(os.path.join(tmp, 'demo'), clip_seconds=10.0, train_per_class=8,
                               validation_per_class=1)
    d = config.data
    d.source = data_dir
    src = sources.from_config(d, lambda source, corpus, options: source)
    plain = throughput(src, config, None, args.seconds)
    noisy = throughput(src, config, augment.from_config(
        dict(mode='additive', noise='gaussian', snr_db=(10.0, 30.0))), args.seconds)
  needed = 1.0 / step_s * config.train.batch_size  # examples a train step consumes per s
  figures = {
      'train_step_s': round(step_s, 3),
      'examples_per_s': round(noisy[0], 2),
      'audio_samples_per_s': round(noisy[1]),
      'examples_per_s_no_augmentation': round(plain[0], 2),
      'audio_samples_per_s_no_augmentation': round(plain[1]),
      'ratio_to_train_step_consumption': round(noisy[0] / needed, 1),
  }
  goals = {'examples_per_s': f'>= {10 * needed:.2f} (10x a {step_s:.2f} s step, batch 1)',
           'ratio_to_train_step_consumption': '>= 10'}
  table.report(figures, 'default (ibab), 10 s clips, trim 0.3, 105,117-sample crops', goals, args.json)


if __name__ == '__main__':
  main()
