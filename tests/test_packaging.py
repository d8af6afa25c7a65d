"""One installable package (issue 42 point 4): the wheel pyproject.toml builds holds the package
wavenet_jax alone and declares the `wavenet-jax` command; configs/, data/ and benchmarks/ stay
in the checkout.

The wheel is built offline from a copy of the checkout (`pip wheel --no-deps
--no-build-isolation --no-index`: this environment's setuptools, nothing downloaded), so the
build's scratch folders land in the copy. benchmarks/install_check.py does the real install,
dependencies and all, into a fresh environment.
"""
import configparser
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What a copy of the checkout leaves out: environments, caches, earlier builds, run outputs.
_NOT_COPIED = shutil.ignore_patterns('.git', '.venv', '.ci-venv', '__pycache__', '.pytest_cache', '*.egg-info',
                                     'build', 'dist', 'runs', 'cache')


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
  """{'names': every file in the wheel, 'record': the files its RECORD lists, 'read': its .dist-info
  file -> text, 'checkout': the copy it was built from}."""
  tmp = tmp_path_factory.mktemp('packaging')
  shutil.copytree(ROOT, tmp / 'checkout', ignore=_NOT_COPIED)
  proc = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '--no-index',
                         '-w', str(tmp / 'wheels'), str(tmp / 'checkout')],
                        capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
  (path,) = (tmp / 'wheels').glob('wavenet_jax-*.whl')
  with zipfile.ZipFile(path) as z:
    names = z.namelist()
    dist_info = {n.split('/')[0] for n in names if n.split('/')[0].endswith('.dist-info')}
    assert len(dist_info) == 1, dist_info
    texts = {n.split('/', 1)[1]: z.read(n).decode() for n in names if n.split('/')[0] in dist_info}
  record = [line.split(',')[0] for line in texts['RECORD'].splitlines() if line]
  return {'names': names, 'record': record, 'read': texts, 'checkout': str(tmp / 'checkout')}


def _top_level(paths):
  """The top-level names of the files a wheel installs (its .dist-info folder left out)."""
  return {p.split('/')[0] for p in paths if not p.split('/')[0].endswith(('.dist-info', '.data'))}


def test_the_wheel_installs_the_package_wavenet_jax_alone(wheel):
  assert _top_level(wheel['names']) == {'wavenet_jax'}
  assert _top_level(wheel['record']) == {'wavenet_jax'}
  assert set(wheel['record']) == set(wheel['names'])
  if 'top_level.txt' in wheel['read']:
    assert wheel['read']['top_level.txt'].split() == ['wavenet_jax']
  for folder in ('data/', 'configs/', 'benchmarks/'):
    assert not [p for p in wheel['names'] if p.startswith(folder) or f'/{folder}' in p], folder


def test_the_wheel_holds_every_module_of_the_package(wheel):
  """Every subpackage is found (a folder without __init__.py would be left out)."""
  checkout = wheel['checkout']
  modules = {os.path.relpath(os.path.join(folder, name), checkout).replace(os.sep, '/')
             for folder, _, files in os.walk(os.path.join(checkout, 'wavenet_jax'))
             for name in files if name.endswith('.py')}
  assert modules and modules == {p for p in wheel['names'] if p.endswith('.py')}


def test_the_wheel_declares_the_console_command(wheel):
  entry_points = configparser.ConfigParser()
  entry_points.read_string(wheel['read']['entry_points.txt'])
  assert dict(entry_points['console_scripts']) == {'wavenet-jax': 'wavenet_jax.cli:main'}
