"""Files written whole or not at all, and the input files of a mode.

Every output goes to a temporary name beside its path and is renamed over it only once
complete, so a crash or a full disk never leaves a half-written file under the real name.
"""
import contextlib
import json
import os
import socket

import numpy as np

from wavenet_jax.common.config_checks import ConfigError


@contextlib.contextmanager
def atomic_path(path: str):
  """Yields a temporary path beside `path` to write; renames it to `path` when the block
  succeeds, else removes it. The name is this host's and process's, so writers of the same
  file (sweep shards writing one table) never write into each other's temporary file."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  tmp = f'{path}.{socket.gethostname()}.{os.getpid()}.tmp'
  try:
    yield tmp
    os.replace(tmp, path)
  except BaseException:
    with contextlib.suppress(OSError):
      os.remove(tmp)
    raise


def write_text(path: str, text: str) -> None:
  with atomic_path(path) as tmp, open(tmp, 'w', encoding='utf-8') as f:
    f.write(text)


def write_json(path: str, value, indent=2) -> None:
  write_text(path, json.dumps(value, indent=indent))


def save_npy(path: str, array) -> None:
  with atomic_path(path) as tmp, open(tmp, 'wb') as f:  # np.save(name) would append .npy to a name.
    np.save(f, array)


def find_files(root: str, extensions, what: str):
  """(path, name = relative path without extension) of every matching file under root, sorted.

  what: how errors name root ('embeddings.input=DIR').
  """
  if os.path.isfile(root):
    return [(root, os.path.splitext(os.path.basename(root))[0])]
  if not os.path.isdir(root):
    raise ConfigError(f'{what}: no such file or folder')
  found = []
  for folder, dirs, files in os.walk(root):
    dirs.sort()
    for f in sorted(files):
      if f.lower().endswith(extensions) and not f.startswith('.'):
        path = os.path.join(folder, f)
        found.append((path, os.path.splitext(os.path.relpath(path, root))[0]))
  if not found:
    raise ConfigError(f'{what}: no {"/".join(e[1:] for e in extensions)} files in it')
  seen = {}
  for path, name in found:
    if name in seen:  # a.wav and a.flac would both become a.npy
      raise ConfigError(f'{what}: {seen[name]} and {path} would write the same output {name}')
    seen[name] = path
  return found
