"""A real install into a fresh environment: `pip install .` with its dependencies from the index,
then the installed command run from a directory outside the checkout.

    python benchmarks/install_check.py [--json PATH] [--python PYTHON] [--extras scores,speech] [--keep]

Makes a venv in a temporary directory, installs a copy of this checkout into it (pip's cache
is used, so a second run is quicker; the copy keeps the build's scratch out of the checkout),
then, from an empty directory elsewhere: `wavenet-jax --help`, `python -c "import
wavenet_jax.cli"`, a look for the checkout's other folders as installed modules (data,
configs, benchmarks: none should import), and the command on a config file of this checkout
(a misspelt key, so it stops with its one `error:` line and exit code 2 once the config, and
the configs it imports, have loaded). Needs the network (or an index mirror) for the
dependencies; takes minutes, most of them downloading and unpacking jax, TensorFlow and the rest.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

if __name__ == '__main__':  # `python benchmarks/X.py` puts benchmarks/ on sys.path; the imports below need the checkout
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What the copy of the checkout leaves out: environments, caches, earlier builds, run outputs.
_NOT_COPIED = shutil.ignore_patterns('.git', '.venv', '.ci-venv', '__pycache__', '.pytest_cache', '*.egg-info',
                                     'build', 'dist', 'runs', 'cache')
_STRAYS = ('data', 'configs', 'benchmarks')  # folders of the checkout that must not be installed


def run(args, cwd, timeout=3600):
  """-> (exit code, stdout + stderr, seconds)."""
  start = time.time()
  proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                        env={k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV')})
  return proc.returncode, proc.stdout + proc.stderr, time.time() - start


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--python', default=sys.executable, help='the interpreter the venv is made with')
  parser.add_argument('--extras', default='', help='extras to install too, e.g. scores,speech')
  parser.add_argument('--keep', action='store_true', help='keep the temporary directory (printed)')
  parser.add_argument('--json', help='also write the figures here as a flat JSON object')
  args = parser.parse_args()
  tmp = tempfile.mkdtemp(prefix='wavenet_jax_install_')
  venv, elsewhere = os.path.join(tmp, 'venv'), os.path.join(tmp, 'elsewhere')
  os.makedirs(elsewhere)
  python, command = os.path.join(venv, 'bin', 'python'), os.path.join(venv, 'bin', 'wavenet-jax')
  try:
    code, out, venv_s = run([args.python, '-m', 'venv', venv], tmp)
    if code:
      sys.exit(f'python -m venv failed:\n{out[-3000:]}')
    shutil.copytree(ROOT, os.path.join(tmp, 'checkout'), ignore=_NOT_COPIED)
    target = os.path.join(tmp, 'checkout') + (f'[{args.extras}]' if args.extras else '')
    code, out, install_s = run([python, '-m', 'pip', 'install', '-q', target], tmp)
    if code:
      sys.exit(f'pip install failed:\n{out[-3000:]}')
    help_code, help_out, help_s = run([command, '--help'], elsewhere, timeout=300)
    import_code, import_out, import_s = run([python, '-c', 'import wavenet_jax.cli'], elsewhere, timeout=300)
    strays = [name for name in _STRAYS if run([python, '-c', f'import {name}'], elsewhere, timeout=300)[0] == 0]
    config = os.path.join(ROOT, 'configs', 'demo.py')
    typo_code, typo_out, typo_s = run([command, f'--config={config}', '--config.train.batch_sise=4',
                                       f'--workdir={os.path.join(tmp, "run")}'], elsewhere, timeout=300)
    _, versions, _ = run([python, '-c', 'import jax, flax, tensorflow as tf; '
                          'print(f"jax {jax.__version__}, flax {flax.__version__}, tf {tf.__version__}")'],
                         elsewhere, timeout=300)
  finally:
    if not args.keep:
      shutil.rmtree(tmp, ignore_errors=True)
  usage = 'wavenet-jax --config=configs/X.py --workdir=DIR' in help_out and '--workdir:' in help_out
  typo_line = typo_out.strip().splitlines()[-1] if typo_out.strip() else ''
  figures = {
      'venv_seconds': round(venv_s, 1),
      'pip_install_seconds': round(install_s, 1),
      'help_prints_usage_and_flags': usage,
      'help_exit_code': help_code,
      'help_seconds': round(help_s, 1),
      'import_cli_exit_code': import_code,
      'import_cli_seconds': round(import_s, 1),
      'checkout_folders_importable': len(strays),
      'checkout_config_exit_code': typo_code,
      'checkout_config_one_error_line': typo_line.startswith('error: --config.train.batch_sise') and
                                        'Traceback' not in typo_out,
  }
  goals = {'help_prints_usage_and_flags': 'True', 'help_exit_code': '1 (absl\'s --help, as launch.py)',
           'import_cli_exit_code': '0', 'checkout_folders_importable': f'0 ({", ".join(_STRAYS)})',
           'checkout_config_exit_code': '2', 'checkout_config_one_error_line': 'True'}
  versions = next((line for line in versions.splitlines() if line.startswith('jax ')), 'versions unknown')
  setting = f'pip install .{f"[{args.extras}]" if args.extras else ""} into a fresh venv: {versions}'
  table.report(figures, setting, goals, args.json)
  if import_code:
    print(f'import wavenet_jax.cli:\n{import_out[-3000:]}')
  if strays:
    print(f'installed beside wavenet_jax: {", ".join(strays)}')
  if not figures['checkout_config_one_error_line']:
    print(f'wavenet-jax on {config}:\n{typo_out[-3000:]}')
  if args.keep:
    print(f'kept {tmp}')


if __name__ == '__main__':
  main()
