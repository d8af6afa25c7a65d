"""A small globally conditioned WaveNet that visibly learns the offline demo corpus on a CPU.

    python launch.py --config=configs/demo.py --workdir=runs/demo

The first run synthesises the demo corpus (6 classes of synthetic instrument-like sounds,
16 kHz, 192 train / 24 validation clips of 1 s) into data.cache_dir, then trains 16
dilated layers (receptive field 512 samples) conditioned on the class for 600 steps of
8 x 2,000-sample crops, the learning rate annealed from 3e-3 to 0. Expect the loss to
fall from ~5.5 nats (8 bits/sample, uniform over 256 classes) to ~2.6 nats (~3.7 bits)
in ~5-6 minutes on 2 CPU cores; the final line prints validation bits/sample per class.
Relaunching resumes; `--mode=eval` re-evaluates.

With a continuous head (`--config.model.output=logistic_mixture --config.model.scalar_input=True`,
nothing else needed) the same 600 steps take ~2.5 min (a 30-channel head instead of 256
classes) and the loss falls from ~11.5 to ~7.2 nats. That is a 16-bit NLL: ~10.35 bits/sample
on validation, which cannot be compared with the 8-bit mu-law figure above. Generated at 0.75,
22 of 24 streams are nearest their own class (benchmarks/demo_generation.py's judge, seed 0).
`configs/demo.py:mol` is that head for 1,200 steps, in the demo's time budget (~5 min):
10.14 bits/sample, 20 of 24 streams. It has no gradient clipping: default.py:mol's 1.0
slowed it (10.35 at 1,200 steps).
"""
from configs import default


def get_config(arg=None):
  c = default.get_config()
  c.data.corpus = 'demo'
  c.data.source = ''
  c.data.silence_threshold = 0.01  # The synthetic clips start sounding at once; trim only true silence.
  c.data.sample_size = 2000
  c.data.shuffle_buffer = 256  # The whole corpus.
  c.model.dilations = tuple(2**i for i in range(8)) * 2
  c.model.skip_channels = 128
  c.model.gc_cardinality = -1  # One embedding per demo class.
  c.model.gc_channels = 16
  c.train.batch_size = 8
  c.train.num_train_steps = 600
  # Annealed to 0: validation 3.91 -> 3.83 bits/sample, and at training seed 0 the samples
  # are far more class-like (benchmarks/demo_generation.py: 4 streams per class nearest
  # their own class's spectrum, 8/24 at a constant 2e-3 -> 19/24), though seed 1 gets 11/24.
  c.train.learning_rate = 3e-3
  c.train.lr_schedule = 'cosine'
  c.train.log_every_steps = 50
  c.train.eval_every_steps = 200
  c.train.checkpoint_every_steps = 200
  c.train.generate_every_steps = 300  # 0.25 s per class to TensorBoard at steps 300 and 600.
  c.train.generate_num_samples = 4000
  # benchmarks/demo_generation.py, classes recognised at training seeds 0, 1, 2: 5, 3, 4 of 6
  # at 0.75; 4, 2, 3 at 0.9; 4, 2, 4 at 1.0.
  c.generate.temperature = 0.75
  c.eval.batch_size = 8
  c = default.variant(c, arg, 'configs/demo.py')
  if arg == 'mol':  # its steps take ~0.4 of the categorical demo's: twice as many
    c.train.num_train_steps = 1200
    c.train.eval_every_steps = c.train.checkpoint_every_steps = 400
    c.train.generate_every_steps = 600
    c.train.grad_clip_norm = 0.0
  return c
