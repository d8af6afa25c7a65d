"""Checkpoints of a run: one orbax CheckpointManager under WORKDIR/checkpoints.

A checkpoint holds two items:
  state — the train state pytree (params, optimizer state, EMA params, rng key data);
  meta  — JSON: step, data position (examples each host consumed), class names, model config.
Orbax writes each step to a temporary directory and renames it when complete, so a
killed run never leaves a checkpoint that reads as valid but is half-written.
"""
import os
from typing import Any, Optional

import jax
import orbax.checkpoint as ocp

from wavenet_jax.kinds import registry


class CheckpointError(ValueError):
  """A checkpoint that is missing or does not fit; the message names the path."""


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
        item_names=('state', 'meta'))

  def latest_step(self) -> Optional[int]:
    return self._manager.latest_step()

  def all_steps(self):
    return list(self._manager.all_steps())

  def save(self, step: int, state: Any, meta: dict) -> None:
    self._manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                                     meta=ocp.args.JsonSave(meta)), force=True)

  def restore(self, step: Optional[int] = None, target: Any = None):
    """(state, meta) at `step` (default latest); `target` gives structure and shardings."""
    step = self.latest_step() if step is None else step
    if step is None:
      raise CheckpointError(f'{self.directory}: no checkpoint')
    state_args = ocp.args.StandardRestore(target) if target is not None else ocp.args.StandardRestore()
    try:
      restored = self._manager.restore(step, args=ocp.args.Composite(state=state_args,
                                                                     meta=ocp.args.JsonRestore()))
    except ValueError as e:  # orbax: another tree structure or other shapes than `target`
      meta = self._manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta
      kind = registry.name_of(meta.get('model'))
      reason = str(e).strip().splitlines()[0][:200].rstrip(':')
      raise CheckpointError(f'{self.directory}/{step}: a {kind} checkpoint that does not fit this '
                            f'config\'s model (other model.* settings or class count?): {reason}') from None
    return restored.state, restored.meta

  def wait(self) -> None:
    self._manager.wait_until_finished()

  def close(self) -> None:
    self._manager.close()


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
    return ckpt._manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta
  finally:
    ckpt.close()


def load(path: str):
  """(state as host arrays, meta) of the checkpoint a user names by workdir or step dir."""
  workdir, step = _split_step_path(path)
  if not os.path.isdir(checkpoint_dir(workdir)):
    raise CheckpointError(f'{path}: no checkpoints found (expected {checkpoint_dir(workdir)}/<step>)')
  ckpt = Checkpointer(workdir, read_only=True)
  try:
    if step is not None and step not in ckpt.all_steps():
      raise CheckpointError(f'{path}: no checkpoint at step {step}')
    state, meta = ckpt.restore(step)
  finally:
    ckpt.close()
  return jax.device_get(state), meta
