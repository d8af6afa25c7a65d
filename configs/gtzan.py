"""A genre-conditioned WaveNet on GTZAN (the swap-a-speaker study's from-scratch music model).

    python launch.py --config=configs/gtzan.py --workdir=runs/gtzan \
        --config.data.source=/path/to/genres

`data.source` is either the raw GTZAN tree as downloaded (`genres/<genre>/<genre>.000NN.au`,
22,050 Hz; resampled to 16 kHz and prepared once into data.cache_dir) or a directory made by
`python data/prepare.py gtzan --src=/path/to/genres --out=DIR`. The model is ibab's
default WaveNet with a 10-way genre embedding plus a null row: 10% of the training crops
are seen as "no genre", so the same model is also the seed's unconditioned "general audio
model". Music has little silence, so the trimming threshold is low. Expect several
bits/sample at first; quality needs accelerator-days (the seed's model was "pretty poor"
after a short run).

Then one command writes, for every genre and unconditioned, a generation from silence and
one continuing each prime wav, each with its spectrogram PNG, to runs/gtzan/generated/:

    python launch.py --config=configs/gtzan.py --workdir=runs/gtzan --mode=generate \
        --config.generate.primes="('a.wav','b.wav')"
"""
from configs import default


def get_config(arg=None):
  c = default.get_config()
  c.data.corpus = 'gtzan'
  c.data.source = ''  # Required: the genres/ tree or a prepared dir.
  c.data.silence_threshold = 0.1
  c.model.gc_cardinality = -1  # One embedding per genre ...
  c.model.gc_null_class = True  # ... and one for "no genre",
  c.train.class_dropout = 0.1  # learnt from 10% of the crops.
  c.train.batch_size = 1
  c.train.eval_every_steps = 2000
  c.generate.unprimed_too = True  # each genre (and unconditioned) from silence and from each prime
  c.generate.num_samples = 48_000  # 3 s after each prime
  return default.variant(c, arg, 'configs/gtzan.py')
