"""Checkpoints of a run: one orbax CheckpointManager under WORKDIR/checkpoints.

A checkpoint holds two items:
  state — the train state pytree (params, optimizer state, EMA params, rng key data);
  meta  — JSON: step, data position (examples each host consumed), class names, model config.
Orbax writes each step to a temporary directory and renames it when complete, so a
killed run never leaves a checkpoint that reads as valid but is half-written.
"""
import contextlib
import logging
import os
import sys
from typing import Any, Optional

import jax
import orbax.checkpoint as ocp

from wavenet_jax.common.errors import UserError
from wavenet_jax.kinds import registry


class CheckpointError(UserError, ValueError):
  """A checkpoint that is missing or does not fit; the message names the path."""


class UnreadableCheckpoint(CheckpointError):
  """A checkpoint that does not read back as saved: truncated, corrupt, half-deleted."""

  def __init__(self, where, reason, step=None):
    super().__init__(f'{where}: cannot be read ({reason})')
    self.reason, self.step = reason, step

  def with_others(self, steps, use):
    """This error with the other steps kept and how to read one: use.format(step=N) is the
    option that names it ('--config.eval.step={step}')."""
    others = sorted((s for s in steps if s != self.step), reverse=True)
    if not others:
      return CheckpointError(f'{self}; no other checkpoint is kept')
    return CheckpointError(f'{self}; kept: step{"s" if len(others) > 1 else ""} {", ".join(map(str, others))}: '
                           f'read one with {use.format(step=others[0])}')


def eval_params(state):
  """The weights a run evaluates and generates with: its EMA params when it kept them.

  state: a TrainState, or a state dict as `load` returns it.
  """
  get = state.get if isinstance(state, dict) else lambda key: getattr(state, key)
  return get('ema_params') if get('ema_params') is not None else get('params')


def checkpoint_dir(workdir: str) -> str:
  return os.path.join(os.path.abspath(workdir), 'checkpoints')


class Checkpointer:

  def __init__(self, workdir: str, max_to_keep: Optional[int] = 5, read_only: bool = False):
    self.directory = checkpoint_dir(workdir)
    self._manager = ocp.CheckpointManager(
        self.directory,
        # read_only only means "never create": orbax's own read_only flag warns on every open.
        options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=not read_only),
        item_handlers={'state': ocp.StandardCheckpointHandler(), 'meta': ocp.JsonCheckpointHandler()})

  def latest_step(self) -> Optional[int]:
    return self._manager.latest_step()

  def all_steps(self):
    return list(self._manager.all_steps())

  def save(self, step: int, state: Any, meta: dict) -> None:
    """Starts saving `step` (orbax finishes it in the background); a save that fails, now or
    in the background of the previous one, is a one-line CheckpointError. Orbax writes a
    temporary directory and renames it when complete: the checkpoints before stay whole."""
    try:
      self._manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                                       meta=ocp.args.JsonSave(meta)), force=True)
    except Exception as e:
      with contextlib.suppress(Exception):  # the save before this one still completes
        self._manager.wait_until_finished()
      raise self._save_failed(step, e) from None

  def _save_failed(self, step, error):
    kept = [s for s in self.all_steps() if s != step]
    return CheckpointError(f'{self.directory}: saving step {step} failed ({_one_line(error)}); '
                           + (f'the checkpoint of step {max(kept)} is kept' if kept else 'none was saved before'))

  def restore(self, step: Optional[int] = None, target: Any = None):
    """(state, meta) at `step` (default latest); `target` gives structure and shardings
    (default: the saved structure, on this process's first device)."""
    step = self.latest_step() if step is None else step
    if step is None:
      raise CheckpointError(f'{self.directory}: no checkpoint')
    _quiet_failed_read()  # before: a failing read reports some of its aftermath while it still runs
    try:
      restored = self._manager.restore(step, args=ocp.args.Composite(
          state=ocp.args.StandardRestore(self._as_saved(step) if target is None else target),
          meta=ocp.args.JsonRestore()))
    except Exception as e:
      if not isinstance(e, ValueError) or not self._readable(step):
        raise UnreadableCheckpoint(f'{self.directory}/{step}', _read_failure(e), step) from None
      # orbax: another tree structure or other shapes than `target`
      kind = registry.name_of(self.meta(step).get('model'))
      reason = str(e).strip().splitlines()[0][:200].rstrip(':')
      raise CheckpointError(f'{self.directory}/{step}: a {kind} checkpoint that does not fit this '
                            f'config\'s model (other model.* settings or class count?): {reason}') from None
    return restored.state, restored.meta

  def meta(self, step: int) -> dict:
    """The meta JSON of `step` alone, without its arrays."""
    return self._manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta

  def restore_newest_readable(self, target: Any):
    """(state, meta) of the newest checkpoint that reads, or None when there is none at all.

    A newer one that cannot be read (truncated, corrupt, half-deleted) is reported in one
    line and moved aside to <step>.unreadable (kept to look at; the run saves that step anew);
    none readable is a one-line CheckpointError, never a fresh start. A readable checkpoint
    of another model (`restore`'s mismatch) is an error as it stands.
    """
    unreadable = []
    for step in sorted(self.all_steps(), reverse=True):
      try:
        state, meta = self.restore(step, target)
      except UnreadableCheckpoint as e:
        unreadable.append((step, e.reason))
        continue
      for bad, reason in unreadable:
        print(f'warning: {self.directory}/{bad} cannot be read ({reason}); moved to {bad}.unreadable, '
              f'resuming from step {step}', flush=True)
        if jax.process_index() == 0:
          os.replace(os.path.join(self.directory, str(bad)), os.path.join(self.directory, f'{bad}.unreadable'))
      self._manager.reload()
      return state, meta
    if unreadable:
      step, reason = unreadable[0]
      raise CheckpointError(f'{self.directory}: no checkpoint can be read (step {step}: {reason}'
                            + (f'; {len(unreadable) - 1} older ones neither' if len(unreadable) > 1 else '') + ')')
    return None

  def _readable(self, step) -> bool:
    """Whether `step` reads back as saved (its own structure, no target to fit)."""
    try:
      self._manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(self._as_saved(step)),
                                                          meta=ocp.args.JsonRestore()))
      return True
    except Exception:
      return False

  def _as_saved(self, step):
    """A restore target of the saved shapes and dtypes on one local device: a checkpoint
    written by several processes or devices reads on one (orbax refuses another topology
    without a target)."""
    device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    return jax.tree_util.tree_map(
        lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=device) if hasattr(a, 'dtype') else a,
        self._manager.item_metadata(step)['state'])

  def wait(self) -> None:
    """Waits for the save in flight; its failure is a one-line CheckpointError."""
    try:
      self._manager.wait_until_finished()
    except Exception as e:
      raise self._save_failed(self._manager.latest_step(), e) from None

  def close(self) -> None:
    self._manager.close()


def _quiet_failed_read():
  """A failed orbax read leaves tensorstore callbacks aimed at its closed event loop, reads
  never awaited and failed tasks never retrieved; Python reports each (sys.unraisablehook,
  the asyncio logger), ~100 lines around the one-line error. Drops those (once installed,
  for the process), passes on the rest."""
  previous = sys.unraisablehook
  if getattr(previous, 'drops_failed_reads', False):
    return

  def hook(unraisable):
    error, obj = unraisable.exc_value, unraisable.object
    closed_loop = isinstance(error, RuntimeError) and str(error) == 'Event loop is closed'
    orbax_read = 'orbax' in getattr(getattr(obj, 'cr_code', None), 'co_filename', '')
    if not (closed_loop or orbax_read):
      previous(unraisable)

  hook.drops_failed_reads = True
  sys.unraisablehook = hook
  logging.getLogger('asyncio').addFilter(lambda record: not _failed_read(record.getMessage()))


_STORAGE = ('See full TensorStore details', 'OCDBT database')  # how tensorstore's read errors read


def _failed_read(message):
  """An asyncio report of a read that failed and was never awaited: the error is already ours."""
  return 'never retrieved' in message and any(m in message for m in _STORAGE + ('orbax',))


def _read_failure(error) -> str:
  """Why a read failed, in one line: tensorstore's spec of the array it failed on says nothing
  to a user."""
  if any(m in str(error) for m in _STORAGE):
    return "an array's data is missing or truncated"
  return _one_line(error)


def _one_line(error) -> str:
  """An exception as one short line: orbax and tensorstore errors run over many lines, some
  a whole traceback (whose last line says what went wrong)."""
  lines = [line.strip() for line in str(error).splitlines() if line.strip()]
  if lines and lines[0].startswith('Traceback'):
    lines = lines[-1:]
  text = ' '.join(' '.join(lines).split()) or type(error).__name__
  return text if len(text) <= 200 else text[:197] + '...'


def _split_step_path(path: str):
  """PATH = a workdir, its checkpoints dir, or one step dir -> (workdir, step or None)."""
  path = os.path.abspath(os.path.expanduser(path))
  base = os.path.basename(path)
  if base.isdigit() and os.path.basename(os.path.dirname(path)) == 'checkpoints':
    return os.path.dirname(os.path.dirname(path)), int(base)
  if base == 'checkpoints':
    return os.path.dirname(path), None
  return path, None


def load_meta(path: str) -> dict:
  """The meta JSON (step, class names, model config) of a checkpoint, without its arrays."""
  workdir, step = _split_step_path(path)
  if not os.path.isdir(checkpoint_dir(workdir)):
    raise CheckpointError(f'{path}: no checkpoints found (expected {checkpoint_dir(workdir)}/<step>)')
  ckpt = Checkpointer(workdir, read_only=True)
  try:
    step = ckpt.latest_step() if step is None else step
    if step is None or step not in ckpt.all_steps():
      raise CheckpointError(f'{path}: no checkpoint' + (f' at step {step}' if step is not None else ''))
    return ckpt.meta(step)
  finally:
    ckpt.close()


def load(path: str, option: Optional[str] = None):
  """(state as host arrays, meta) of the checkpoint a user names by workdir or step dir.
  option: the config key that names it ('generate.checkpoint'), for the error of an
  unreadable one."""
  workdir, step = _split_step_path(path)
  if not os.path.isdir(checkpoint_dir(workdir)):
    raise CheckpointError(f'{path}: no checkpoints found (expected {checkpoint_dir(workdir)}/<step>)')
  ckpt = Checkpointer(workdir, read_only=True)
  try:
    if step is not None and step not in ckpt.all_steps():
      raise CheckpointError(f'{path}: no checkpoint at step {step}')
    state, meta = ckpt.restore(step)
  except UnreadableCheckpoint as e:
    use = f'--config.{option}={ckpt.directory}/{{step}}' if option else f'its step dir {ckpt.directory}/{{step}}'
    raise e.with_others(ckpt.all_steps(), use) from None
  finally:
    ckpt.close()
  return jax.device_get(state), meta
