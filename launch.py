"""Entry point: python launch.py --config=configs/X.py --workdir=DIR [--mode=MODE] [--config.a.b=v].

Modes: train (default; a relaunch resumes; a config with a `transfer` block runs the transfer
study), eval, generate (wavs from a WaveNet), encode (audio -> NSynth embedding .npy files),
synthesize (embeddings or an interpolation -> wavs), embeddings (class embeddings or encoder
vectors -> .npy, TSVs, PCA and t-SNE plots), vocode (audio or log-mel .npy files -> speech).
With --sweep=configs/sweeps/X.py (--config optional: it replaces the sweep's base) it trains
every run of a sweep file in its own --workdir/<run> and writes --workdir/results.{csv,md,png}.
"""
import importlib
import os
import sys

# Before TensorFlow loads (tf.data only): its oneDNN notices are noise in a run's log; a user's own setting wins.
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '0')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')

from absl import app, flags, logging
from ml_collections import config_flags

from wavenet_jax.common import command_line
from wavenet_jax.runtime import xla_cpu

# --mode -> the application module and its function(config, workdir).
_APPS = {'train': ('train', 'train_and_evaluate'), 'eval': ('train', 'evaluate'),
         'generate': ('generate_files', 'generate_files'), 'encode': ('encode_synthesize', 'encode_files'),
         'synthesize': ('encode_synthesize', 'synthesize_files'), 'embeddings': ('embedding_plots', 'plot_embeddings'),
         'vocode': ('vocode', 'vocode_files')}

_CONFIG = config_flags.DEFINE_config_file('config', None, 'Experiment config file.', lock_config=True)
_WORKDIR = flags.DEFINE_string('workdir', None, 'Checkpoints, TensorBoard logs and outputs go here.')
_MODE = flags.DEFINE_enum('mode', 'train', list(_APPS), 'What to do.')
_SPLIT = flags.DEFINE_string('split', '', 'eval: the split to evaluate (default: config.data.eval_split).')
_SWEEP = flags.DEFINE_string('sweep', None, 'A sweep file (see wavenet_jax/apps/sweep_spec.py): train its runs, then tabulate them.')
_SWEEP_SHARD = flags.DEFINE_string('sweep_shard', '0/1', 'With --sweep: I/N trains runs I, I+N, ... (one per GPU or host).')
_SWEEP_COLLECT = flags.DEFINE_bool('sweep_collect', False, 'With --sweep: train nothing, tabulate the finished runs.')
_COORDINATOR = flags.DEFINE_string('coordinator_address', None, 'Multi-process: host:port of process 0.')
_NUM_PROCESSES = flags.DEFINE_integer('num_processes', None, 'Multi-process: how many.')
_PROCESS_ID = flags.DEFINE_integer('process_id', None, 'Multi-process: this one.')
flags.mark_flags_as_required(['workdir'])
flags.register_multi_flags_validator(['config', 'sweep'], lambda f: f['config'] is not None or bool(f['sweep']),
                                     '--config is required (or --sweep=SWEEP_FILE)')


def main(argv):
  del argv
  xla_cpu.configure()  # before JAX starts its backend (README: "Process settings").
  if not flags.FLAGS['verbosity'].present:  # orbax and clu log every save and scalar at INFO.
    logging.set_verbosity(logging.WARNING)
  from wavenet_jax.runtime import sharding  # after flag parsing: bad flags fail before JAX starts.
  sharding.maybe_initialize_distributed(_COORDINATOR.value, _NUM_PROCESSES.value, _PROCESS_ID.value)
  config, workdir, mode = _CONFIG.value, _WORKDIR.value, _MODE.value
  try:
    if _SWEEP.value:
      from wavenet_jax.apps import sweep
      sweep.launch(_SWEEP.value, workdir, config, _SWEEP_SHARD.value, _SWEEP_COLLECT.value)
    elif mode == 'train' and 'transfer' in config:  # configs/transfer_*.py: the study
      from wavenet_jax.apps import transfer
      transfer.study(config, workdir)
    else:
      from wavenet_jax.checkpoints import saved_model  # the run's model is its checkpoints'
      saved_model.adopt(config, workdir, chosen=command_line.overridden())
      module, function = _APPS[mode]
      run = getattr(importlib.import_module(f'wavenet_jax.apps.{module}'), function)
      result = run(*((config, workdir, _SPLIT.value) if mode == 'eval' else (config, workdir)))
      if isinstance(result, dict) and result.get('signal') == 'SIGINT':
        sys.exit(130)  # saved, but not a finished run
  except _user_errors() as e:  # evaluated as the error arrives, after the mode's imports
    print(f'error: {e}', file=sys.stderr)
    sys.exit(2)
  except KeyboardInterrupt as e:  # Ctrl-C outside training's own handler: outputs are whole or absent
    print(f'\ninterrupted: {e or "nothing written"}', file=sys.stderr)
    sys.exit(130)
  except Exception as e:
    sharding.exit_if_peer_lost(e)  # another process of a multi-host run died: one line, exit 3
    raise


def _user_errors():
  """The errors that are the user's to fix (one line, exit code 2, no traceback), asked only of
  the modules the mode imported: generate, encode and synthesize load no TensorFlow."""
  from data.common import DataError
  from wavenet_jax.checkpoints.checkpointing import CheckpointError
  from wavenet_jax.common.config_checks import ConfigError
  from wavenet_jax.input.audio import AudioError
  errors = [ConfigError, DataError, CheckpointError, AudioError]
  for module, name in (('train', 'NonFiniteLossError'), ('encode_synthesize', 'EmbeddingError')):
    if f'wavenet_jax.apps.{module}' in sys.modules:
      errors.append(getattr(sys.modules[f'wavenet_jax.apps.{module}'], name))
  return tuple(errors)


if __name__ == '__main__':
  app.run(main, flags_parser=command_line.parse_flags)
