"""A run's model as its checkpoints hold it: the settings every later mode and a resume read.

Each checkpoint's meta saves the run's `model.*` settings, sample rate and class names.
`adopt` makes a config agree with them: a setting the user did not choose is taken from
the checkpoint (a run trained with `--config.model.output=logistic_mixture` evaluates
without repeating it); one the user chose that contradicts the checkpoint is refused in
one line naming the key, both values and the fix, before orbax meets a tree that does
not fit.
"""
import json
import os

from wavenet_jax.checkpoints import checkpointing
from wavenet_jax.common.config_checks import ConfigError
from wavenet_jax.kinds import registry

# The settings a checkpoint fixes besides model.*: the rate its model was trained at.
_OTHER_KEYS = ('data.sample_rate',)


def saved_meta(workdir):
  """The meta of WORKDIR's newest checkpoint whose meta reads, or None when it has none."""
  workdir = os.path.expanduser(workdir or '')
  if not workdir or not os.path.isdir(checkpointing.checkpoint_dir(workdir)):
    return None
  ckpt = checkpointing.Checkpointer(workdir, read_only=True)
  try:
    for step in sorted(ckpt.all_steps(), reverse=True):
      try:
        return ckpt.meta(step)
      except Exception:  # unreadable: restoring it names it, and moves on to the one before
        continue
  finally:
    ckpt.close()
  return None


def adopt(config, workdir, chosen=None, note=print):
  """Makes config's model.* (and data.sample_rate) those of WORKDIR's checkpoints, saying
  which it changed; returns the checkpoint's meta (None when WORKDIR has none).

  chosen: the dotted keys the user set ({'model.output'}), refused when they contradict the
  checkpoint; None counts every key as chosen (a caller with a config of its own must pass
  the run's).
  """
  meta = saved_meta(workdir)
  if meta is None or not meta.get('model'):
    return meta
  where = checkpointing.checkpoint_dir(os.path.expanduser(workdir))
  saved_kind, kind = registry.name_of(meta['model']), registry.name_of(config.model)
  if saved_kind != kind:
    raise ConfigError(f'model.kind={kind!r}: {where} holds a {saved_kind!r} run; train this config in '
                      'another --workdir')
  saved = dict(_flat(meta['model'], 'model.'))
  if 'sample_rate' in meta:
    saved['data.sample_rate'] = meta['sample_rate']
  changed = []
  for key, value in _flat(config.model.to_dict(), 'model.'):
    changed += _settle(config, key, value, saved, chosen, where)
  for key in _OTHER_KEYS:
    changed += _settle(config, key, config[key], saved, chosen, where)
  if changed and note:
    note(f'model settings of {where}: ' + ', '.join(f'{k}={config[k]!r}' for k in changed))
  return meta


def _settle(config, key, value, saved, chosen, where):
  """[key] when key took the checkpoint's value, [] when it already agreed or is not saved."""
  if key not in saved or _plain(value) == _plain(saved[key]):
    return []
  if chosen is None or key in chosen:
    option = f'--config.{key}' if chosen is not None else key
    trained = _like(value, saved[key])
    raise ConfigError(f'{option}={value!r}: the checkpoints in {where} were trained with {trained!r}; '
                      + ('leave it out to use theirs' if chosen is not None else 'set that')
                      + ', or train with it in another --workdir')
  _set(config, key, _like(value, saved[key]))
  return [key]


def _flat(tree, prefix):
  """Nested dicts -> (dotted key, leaf) pairs."""
  for k, v in tree.items():
    if isinstance(v, dict):
      yield from _flat(v, f'{prefix}{k}.')
    else:
      yield f'{prefix}{k}', v


def _plain(value):
  """A value as its JSON reads back (tuples as lists), for comparing with a saved one."""
  return json.loads(json.dumps(value))


def _like(current, saved):
  """A saved (JSON) value as the config's field holds it: lists back into tuples."""
  if not isinstance(saved, list):
    return saved
  known = list(current) if isinstance(current, (list, tuple)) else []
  items = [_like(known[i] if i < len(known) else None, s) for i, s in enumerate(saved)]
  return items if isinstance(current, list) else tuple(items)


def _set(config, key, value):
  """config[key] = value for a dotted key (ConfigDict reads dotted keys but does not set them)."""
  parent, last = key.rsplit('.', 1)
  config[parent][last] = value
