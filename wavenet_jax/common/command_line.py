"""The command line (launch.py, wavenet-jax) read in one line per mistake: exit code 2, no traceback.

absl parses the flags and ml_collections the `--config=FILE[:VARIANT]` file and its
`--config.a.b=v` overrides; their own failures are tracebacks (a missing file is an
OSError raised later, at the first read of the config) or `FATAL Flags parsing error`.
`parse_flags` reports each as one `error:` line naming the flag, and `overridden` says
which config keys the user set, so a run's checkpoint can supply the rest. Before the config
file loads, `make_importable` lets its `from configs import ...` find its siblings.
"""
import glob
import os
import sys

from absl import flags

_PARSE_FAILED = 'Error whilst parsing config file:'


def parse_flags(argv):
  """absl's flag parsing (`app.run`'s flags_parser) with the user's mistakes in one line."""
  path = next((a.split('=', 1)[1] for a in argv[1:] if a.startswith('--config=')), None)
  if path is not None:
    _check_config_file(path)
    make_importable(path.split(':', 1)[0])
  sweep = next((a.split('=', 1)[1] for a in argv[1:] if a.startswith('--sweep=')), None)
  if sweep and os.path.isfile(sweep.split(':', 1)[0]):
    make_importable(sweep.split(':', 1)[0])
  try:
    return flags.FLAGS(argv)
  except (KeyError, AttributeError) as e:  # ml_collections: an override of a key the config lacks
    _exit(_unknown_key(argv, e))
  except flags.Error as e:
    _exit(_flag_error(e))


def make_importable(path):
  """Puts on sys.path the folder a config file's imports start from: the first folder above it
  that is not a package (configs/x.py, whose `from configs import default` needs the folder
  holding configs/). For `python launch.py` that is sys.path[0] already, launch.py's own
  folder; the console command's sys.path[0] is the environment's bin/. A config from a
  checkout or from a copy of configs/ then works from any directory."""
  folder = os.path.dirname(os.path.abspath(path))
  while os.path.isfile(os.path.join(folder, '__init__.py')) and os.path.dirname(folder) != folder:
    folder = os.path.dirname(folder)
  if folder not in sys.path:
    sys.path.insert(0, folder)


def overridden():
  """The config keys set on the command line, dotted: {'model.output', 'train.batch_size'}."""
  from ml_collections import config_flags
  return set(config_flags.get_override_values(flags.FLAGS['config']))


def _exit(message):
  print(f'error: {message}', file=sys.stderr)
  sys.exit(2)


def _check_config_file(value):
  """A config file that does not exist: one line naming the files beside where it was looked for."""
  path = value.split(':', 1)[0]
  if os.path.isfile(path):
    return
  folder = os.path.dirname(path) or '.'
  known = sorted(os.path.relpath(p) for p in glob.glob(os.path.join(folder, '*.py'))
                 if not os.path.basename(p).startswith('_'))
  _exit(f'--config={value}: no such file'
        + (f' (config files in {folder}: {", ".join(known)})' if known else ''))


def _flag_error(error):
  """absl's Error -> one line. A config file's get_config that raised (an unknown variant) is
  reported by its own last line; a value of the wrong type as absl words it."""
  text = str(error)
  if _PARSE_FAILED in text:
    flag = text.split(f': {_PARSE_FAILED}', 1)[0].replace('flag ', '', 1)  # '--config=configs/demo.py:moll'
    reason = [line for line in text.splitlines() if line.strip()][-1].strip()
    reason = reason.split(': ', 1)[1] if reason.split(': ', 1)[0].isidentifier() else reason  # drop 'ValueError'
    path = flag.split('=', 1)[-1].split(':', 1)[0]
    return f'{flag}: {reason[len(path) + 2:] if reason.startswith(path + ": ") else reason}'
  return text.replace('flag --', '--', 1).splitlines()[0]


def _unknown_key(argv, error):
  """ml_collections raises an override of a missing key as a chained KeyError/AttributeError."""
  chain = [error]
  while isinstance(chain[-1].__context__, (KeyError, AttributeError)):
    chain.append(chain[-1].__context__)
  key = str(chain[-1].args[0] if chain[-1].args else '').strip('\'"')
  hints = [line for err in chain for line in str(err.args[0] if err.args else '').splitlines()
           if line.startswith('Did you mean')]
  flag = next((a.split('=')[0] for a in argv if a.startswith('--config.')
               and key in a.split('=')[0].split('.')), '--config')
  hint = f' ({hints[0][0].lower()}{hints[0][1:]})' if hints else ''
  return f"{flag}: the config has no key '{key}'{hint}"
