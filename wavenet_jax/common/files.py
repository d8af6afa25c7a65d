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


class Interrupted(KeyboardInterrupt):
  """Ctrl-C in a mode that writes files, in one line: what was left unwritten, what is done."""


@contextlib.contextmanager
def interruptible(written, what, noun='wav file'):
  """Ctrl-C inside the block -> Interrupted('nothing written for WHAT; N wav files finished').
  written: the finished paths (the block appends to it); what: the work in progress, or a
  function that names it when asked. Outputs are written whole or not at all (atomic_path),
  so the file in progress is simply absent."""
  try:
    yield
  except KeyboardInterrupt as e:
    if isinstance(e, Interrupted):
      raise
    raise Interrupted(f'nothing written for {what() if callable(what) else what}; '
                      f'{count(len(written), noun)} finished') from None


def count(n: int, noun: str) -> str:
  """'1 wav file', '3 wav files'."""
  return f'{n} {noun}{"" if n == 1 else "s"}'


def load_npy(path: str, error=ConfigError):
  """The array in a .npy file; a file that is not one (garbage, truncated, a pickle, a folder)
  is one line, error(f'{path}: unreadable as a .npy array (...)')."""
  try:
    with open(path, 'rb') as f:
      if f.read(6) != b'\x93NUMPY':  # np.load calls any other file "pickled data"
        raise ValueError('no .npy header')
    return np.load(path, allow_pickle=False)
  except Exception as e:
    if isinstance(e, ValueError) and 'allow_pickle' in str(e):
      e = ValueError('it holds Python objects (pickled), not numbers')
    raise error(f'{path}: unreadable as a .npy array ({" ".join(str(e).split()) or type(e).__name__})') from None


def find_files(root: str, extensions, what: str):
  """(path, name = relative path without extension) of every matching file under root, sorted.

  what: how errors name root ('embeddings.input=DIR').
  """
  if not root:
    raise ConfigError(f'{what.split("=")[0]} is unset: name a file or a folder')
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
