"""Warm starts: the parameters a new run starts from (train.init_from), taken module by module.

The source is another run (workdir or step dir; its EMA params when it kept them, the
weights it evaluated with), or a TF1 checkpoint prefix of ibab's WaveNet or magenta's NSynth
autoencoder (checkpoints/ibab.py, checkpoints/magenta.py). Every leaf taken is checked against this model's own.
"""
import os

import jax
import numpy as np

from wavenet_jax.checkpoints import checkpointing
from wavenet_jax.common.config_checks import ConfigError
from wavenet_jax.kinds import registry
from wavenet_jax.runtime import sharding


def params_from(path, like, mesh, config, class_names=None):
  """(params shaped as `like`, replicated on mesh; the top-level modules taken).

  The modules taken are train.init_modules, or by default all of this model's, a classifier
  head only when the source has one: an autoencoder starts a classifier's encoder (and
  decoder), its head keeps the fresh initialisation. An ibab checkpoint's speaker rows are
  moved to our class order (`class_names`, by the speaker number).
  """
  if os.path.exists(path + '.index'):
    from wavenet_jax.checkpoints import ibab, magenta  # TF's checkpoint reader: only for this.
    if ibab.is_ibab_checkpoint(path):  # ibab/tensorflow-wavenet (wavenet/causal_layer/filter)
      params, source_kind = ibab.import_ibab_wavenet(path, config.model)[0], 'ibab wavenet'
      if 'gc_embedding' in params['params'] and 'gc_embedding' in like['params']:
        if not class_names:
          raise checkpointing.CheckpointError(f'{path}: a conditioned ibab checkpoint needs the run\'s '
                                              f'class names to place its speaker rows')
        params = _ibab_rows_in_our_order(params, like, class_names)
    else:
      params, source_kind = magenta.import_magenta_nsynth(path, config.model), 'magenta nsynth_autoencoder'
  else:
    state, meta = checkpointing.load(path)
    params = checkpointing.eval_params(state)
    source_kind = registry.name_of(meta.get('model'))
  have = {jax.tree_util.keystr(k): v for k, v in jax.tree_util.tree_leaves_with_path(params)}
  source_modules = set(params.get('params', {}))
  modules = tuple(config.train.init_modules)
  if not modules:
    modules = [m for m in like['params'] if m != 'head' or 'head' in source_modules]
  for m in modules:
    if m not in like['params']:
      raise ConfigError(f'train.init_modules: this model has no module {m!r} '
                        f'(it has {", ".join(like["params"])})')
  leaves = []
  for k, w in jax.tree_util.tree_leaves_with_path(like):
    name = jax.tree_util.keystr(k)
    if k[1].key not in modules:  # [params][module]...: starts afresh
      leaves.append(w)
      continue
    if name not in have:
      raise checkpointing.CheckpointError(
          f'{path}: has no parameter {name}: a {source_kind} checkpoint does not fit this '
          f'{registry.name_of(config.model)} model')
    if tuple(have[name].shape) != tuple(w.shape):
      hint = (" (train.init_modules=('encoder', ...) starts the head afresh)"
              if k[1].key == 'head' else '')
      raise checkpointing.CheckpointError(f'{path}: parameter {name} has shape {tuple(have[name].shape)}, '
                                          f'this model needs {tuple(w.shape)}{hint}')
    leaves.append(have[name])
  ordered = jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(like), leaves)
  return jax.device_put(ordered, sharding.replicated(mesh)), modules


def _ibab_rows_in_our_order(params, like, class_names):
  """ibab's table [N, G] (row = speaker number) -> ours [K(+null), G]: class j gets the row
  of its speaker; rows without a class (a null class) keep their fresh initialisation."""
  from wavenet_jax.checkpoints import ibab
  table = np.asarray(params['params']['gc_embedding'])
  ours = np.array(jax.device_get(like['params']['gc_embedding']))
  if table.shape[1] != ours.shape[1]:
    return params  # the leaf check names the mismatch
  ours[:len(class_names)] = table[ibab.ibab_class_rows(class_names, table.shape[0])]
  return {'params': dict(params['params'], gc_embedding=ours)}
