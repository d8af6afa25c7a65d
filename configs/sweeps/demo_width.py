"""A tiny ablation on the demo corpus: residual channels x learning rate, 4 runs on a CPU.

    python launch.py --sweep=configs/sweeps/demo_width.py --workdir=runs/demo_width

Trains configs/demo.py's WaveNet 4 times for 150 steps each (no mid-run eval or
generation), one run after another in runs/demo_width/<run>, e.g.
runs/demo_width/residual_channels=8,learning_rate=0.001, then writes
runs/demo_width/results.{csv,md,png}: validation bits/sample overall and for the drum
class, plotted against residual channels (a line per learning rate). Takes ~6 minutes
on 2 CPU cores. Expect validation bits/sample ~6.3 and ~5.7 for 8 channels (learning rate
1e-3, 3e-3) and ~5.5 and ~5.25 for 32: after 150 steps both width and rate still help.
Relaunching skips finished runs and resumes an interrupted one; to spread the runs over
two GPUs or hosts, start `--sweep_shard=0/2` and `--sweep_shard=1/2` with the same --workdir.
"""


def get_sweep():
  return {
      'base': 'configs/demo.py',
      'overrides': {
          'train.num_train_steps': 150,
          'train.eval_every_steps': 0,  # the final eval is the one the table reports
          'train.generate_every_steps': 0,
          'train.checkpoint_every_steps': 150,
      },
      'grid': {
          'model.residual_channels': (8, 32),
          'train.learning_rate': (1e-3, 3e-3),
      },
      'metrics': ('bits_per_sample', 'bits_per_sample_per_class/drum'),
  }
