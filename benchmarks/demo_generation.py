"""How recognisably the trained demo model generates each class: a quality figure, not a speed one.

    python benchmarks/demo_generation.py [--workdir DIR] [--seeds 0,1] [--json PATH] \
        [--config=configs/demo.py] [--config.train.adam_epsilon=1e-8 ...]

For each training seed, trains the config (configs/demo.py, with launch.py's overrides) into
DIR/seed<k> (a finished run there is reused), generates 4 one-second streams per class
from silence, and classifies each stream by the nearest class centroid of a spectral
feature of the training corpus (wavenet_jax/datasets/demo.py's nearest_class: the clip's share of mel power
in each of 64 bands, L1 distance), the first 2,000 samples left out. A class is
recognised when most of its streams are nearest their own centroid. A class-blind model
lands every stream on one or two centroids (~1 of 6 recognised).

Training takes ~5-6 min per seed on 2 CPU cores. The figures vary far more between
training seeds than the validation loss does, so compare settings over several seeds.
"""
import os
import sys

if __name__ == '__main__':  # `python benchmarks/X.py` puts benchmarks/ on sys.path; the imports below need the checkout
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np
from absl import app, flags, logging
from ml_collections import config_flags

from benchmarks import table
from wavenet_jax.apps import train
from wavenet_jax.datasets import demo as demo_data
from wavenet_jax.runtime import xla_cpu

STREAMS = 4
SAMPLES = 16000
SETTLE = 2000  # The first samples grow out of the silent prime.
N_MELS = 64

_CONFIG = config_flags.DEFINE_config_file('config', 'configs/demo.py', 'A config of the demo corpus.')
_WORKDIR = flags.DEFINE_string('workdir', 'runs/demo_generation', 'Runs go to WORKDIR/seed<k>.')
_SEEDS = flags.DEFINE_list('seeds', ['0', '1'], 'Training seeds (config.seed).')
_TEMPERATURE = flags.DEFINE_float('temperature', 0.75, 'Sampling temperature (configs/demo.py\'s).')
_GUIDANCE = flags.DEFINE_float('guidance', 1.0, 'Classifier-free guidance weight (1 = off; needs a '
                                'config trained with model.gc_null_class and train.class_dropout).')
_JSON = flags.DEFINE_string('json', None, 'Also write the figures here.')


def main(argv):
  del argv
  xla_cpu.configure()  # first, before jax starts: the CPU settings launch.py uses.
  logging.set_verbosity(logging.WARNING)  # orbax logs every save and close at INFO.
  names, figures = demo_data.CLASS_NAMES, {}
  centre = demo_data.class_centroids(16000, SAMPLES, n_mels=N_MELS)
  for seed in [int(s) for s in _SEEDS.value]:
    config = _CONFIG.value.copy_and_resolve_references()
    config.seed = seed
    config.train.generate_every_steps = 0
    workdir = os.path.join(_WORKDIR.value, f'seed{seed}')
    metrics = train.train_and_evaluate(config, workdir)
    _, nearest = demo_data.generated_nearest_classes(workdir, centre, 16000, STREAMS, SAMPLES,
                                                      _TEMPERATURE.value, SETTLE, _GUIDANCE.value)
    own = nearest == np.arange(len(names))[:, None]
    figures[f'seed{seed}_validation_bits_per_sample'] = round(float(metrics['bits_per_sample']), 4)
    figures[f'seed{seed}_streams_nearest_own_class'] = f'{int(own.sum())}/{own.size}'
    figures[f'seed{seed}_classes_recognised'] = f'{int((own.mean(axis=1) > 0.5).sum())}/{len(names)}'
    figures[f'seed{seed}_nearest'] = ' '.join(f'{n}:{"/".join(names[j][:2] for j in row)}'
                                              for n, row in zip(names, nearest))
  goals = {k: '>= 4/6 (most classes), every seed' for k in figures if k.endswith('classes_recognised')}
  overrides = ' '.join(a for a in sys.argv[1:] if a.startswith('--config'))
  guided = f' guidance={_GUIDANCE.value}' if _GUIDANCE.value != 1 else ''
  table.report(figures, f'{overrides or "configs/demo.py"} T={_TEMPERATURE.value}{guided}', goals,
               _JSON.value)


if __name__ == '__main__':
  app.run(main)
