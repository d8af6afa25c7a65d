"""The command: wavenet-jax --config=configs/X.py --workdir=DIR [--mode=MODE] [--config.a.b=v].

The same as `python launch.py ...` from a checkout. Modes: train (default; a relaunch
resumes; a config with a `transfer` block runs the transfer study), eval, generate (wavs
from a WaveNet), encode (audio -> NSynth embedding .npy files), synthesize (embeddings or an
interpolation -> wavs), embeddings (class embeddings or encoder vectors -> .npy, TSVs, PCA
and t-SNE plots), vocode (audio or log-mel .npy files -> speech). With
--sweep=configs/sweeps/X.py (--config optional: it replaces the sweep's base) it trains every
run of a sweep file in its own --workdir/<run> and writes --workdir/results.{csv,md,png}.
Exit codes: 2 for a mistake of the user's (one `error:` line), 130 when interrupted, 3 when
another process of a multi-host run was lost.
"""
import importlib
import os
import sys

from absl import app, flags, logging
from ml_collections import config_flags

from wavenet_jax.common import command_line
from wavenet_jax.common.errors import UserError
from wavenet_jax.runtime import xla_cpu

# --mode -> the application module and its function(config, workdir).
_APPS = {'train': ('train', 'train_and_evaluate'), 'eval': ('train', 'evaluate'),
         'generate': ('generate_files', 'generate_files'), 'encode': ('encode_synthesize', 'encode_files'),
         'synthesize': ('encode_synthesize', 'synthesize_files'), 'embeddings': ('embedding_plots', 'plot_embeddings'),
         'vocode': ('vocode', 'vocode_files')}


def main(argv=None):
  """The entry point of `wavenet-jax` and launch.py: flags (sys.argv by default), then the mode."""
  # Before TensorFlow loads (tf.data only): its oneDNN notices are noise in a run's log; a user's own setting wins.
  os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '0')
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')
  _define_flags()
  main_module = sys.modules['__main__']
  if not main_module.__doc__:  # the console script's: --help shows this usage
    main_module.__doc__ = __doc__
  app.run(_run, argv=argv, flags_parser=command_line.parse_flags)


def _define_flags():
  """The command's flags, defined when it runs (importing the package defines none), and
  listed by --help as the main program's."""
  if 'workdir' in flags.FLAGS:
    return  # defined by an earlier main() in this process
  config_flags.DEFINE_config_file('config', None, 'Experiment config file.', lock_config=True)
  flags.DEFINE_string('workdir', None, 'Checkpoints, TensorBoard logs and outputs go here.')
  flags.DEFINE_enum('mode', 'train', list(_APPS), 'What to do.')
  flags.DEFINE_string('split', '', 'eval: the split to evaluate (default: config.data.eval_split).')
  flags.DEFINE_string('sweep', None, 'A sweep file (see wavenet_jax/training/sweep_spec.py): train its runs, '
                      'then tabulate them.')
  flags.DEFINE_string('sweep_shard', '0/1', 'With --sweep: I/N trains runs I, I+N, ... (one per GPU or host).')
  flags.DEFINE_bool('sweep_collect', False, 'With --sweep: train nothing, tabulate the finished runs.')
  flags.DEFINE_string('coordinator_address', None, 'Multi-process: host:port of process 0.')
  flags.DEFINE_integer('num_processes', None, 'Multi-process: how many.')
  flags.DEFINE_integer('process_id', None, 'Multi-process: this one.')
  flags.mark_flags_as_required(['workdir'])
  flags.register_multi_flags_validator(['config', 'sweep'], lambda f: f['config'] is not None or bool(f['sweep']),
                                       '--config is required (or --sweep=SWEEP_FILE)')
  for name in ('config', 'workdir', 'mode', 'split', 'sweep', 'sweep_shard', 'sweep_collect',
               'coordinator_address', 'num_processes', 'process_id'):
    flags.FLAGS.register_key_flag_for_module(sys.argv[0], flags.FLAGS[name])


def _run(argv):
  del argv
  f = flags.FLAGS
  xla_cpu.configure()  # before JAX starts its backend (README: "Process settings").
  if not f['verbosity'].present:  # orbax and clu log every save and scalar at INFO.
    logging.set_verbosity(logging.WARNING)
  from wavenet_jax.runtime import sharding  # after flag parsing: bad flags fail before JAX starts.
  sharding.maybe_initialize_distributed(f.coordinator_address, f.num_processes, f.process_id)
  config, workdir, mode = f.config, f.workdir, f.mode
  try:
    if f.sweep:
      from wavenet_jax.apps import sweep
      sweep.launch(f.sweep, workdir, config, f.sweep_shard, f.sweep_collect)
    elif mode == 'train' and 'transfer' in config:  # configs/transfer_*.py: the study
      from wavenet_jax.apps import transfer
      transfer.study(config, workdir)
    else:
      from wavenet_jax.checkpoints import saved_model  # the run's model is its checkpoints'
      saved_model.adopt(config, workdir, chosen=command_line.overridden())
      module, function = _APPS[mode]
      run = getattr(importlib.import_module(f'wavenet_jax.apps.{module}'), function)
      result = run(*((config, workdir, f.split) if mode == 'eval' else (config, workdir)))
      if isinstance(result, dict) and result.get('signal') == 'SIGINT':
        sys.exit(130)  # saved, but not a finished run
  except UserError as e:  # the user's to fix: one line, no traceback
    print(f'error: {e}', file=sys.stderr)
    sys.exit(2)
  except KeyboardInterrupt as e:  # Ctrl-C outside training's own handler: outputs are whole or absent
    print(f'\ninterrupted: {e or "nothing written"}', file=sys.stderr)
    sys.exit(130)
  except Exception as e:
    sharding.exit_if_peer_lost(e)  # another process of a multi-host run died: one line, exit 3
    raise
