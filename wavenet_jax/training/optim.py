"""The optimizer and learning-rate schedule of config.train, and ibab's L2 regulariser.

Each name a config may give (train.optimizer, train.lr_schedule) is a key below: the
checks and the builders read the same tables.
"""
import jax
import jax.numpy as jnp
import optax

from wavenet_jax.common.config_checks import ConfigError, positive_int
from wavenet_jax.kinds import registry

_OPTIMIZERS = {
    'adam': lambda t, lr: optax.adam(lr, eps=t.adam_epsilon),
    'sgd': lambda t, lr: optax.sgd(lr, momentum=t.momentum),
    # TF's RMSProp as ibab configures it: decay 0.9, epsilon 1e-5 inside the sqrt.
    'rmsprop': lambda t, lr: optax.rmsprop(lr, decay=0.9, eps=1e-5, momentum=t.momentum),
    # Rectified Adam (Liu et al. 2020), Parallel WaveGAN's: Adam's step once its variance is
    # tractable, momentum SGD before.
    'radam': lambda t, lr: optax.radam(lr, eps=t.adam_epsilon),
}
_SCHEDULES = {
    'constant': lambda t: optax.constant_schedule(t.learning_rate),
    'cosine': lambda t: optax.cosine_decay_schedule(t.learning_rate, max(t.num_train_steps, 1)),
    'warmup_cosine': lambda t: optax.warmup_cosine_decay_schedule(
        0.0, t.learning_rate, t.warmup_steps, max(t.num_train_steps, t.warmup_steps + 1)),
    # NSynth's: lr_values[i] from step lr_boundaries[i - 1] on.
    'piecewise': lambda t: optax.piecewise_constant_schedule(
        t.lr_values[0], {int(b): v / u for b, v, u in zip(t.lr_boundaries, t.lr_values[1:], t.lr_values)}),
    # torch's StepLR (Parallel WaveGAN's): x lr_decay_rate every lr_decay_steps.
    'step': lambda t: optax.exponential_decay(t.learning_rate, t.lr_decay_steps, t.lr_decay_rate, staircase=True),
}


def _one_of(names):
  names = list(names)
  return ', '.join(names[:-1]) + ' or ' + names[-1]


def check(t, prefix='train.') -> None:
  """config.train's optimizer and schedule (or a parameter group's own settings, under their
  `prefix`): one line naming a bad key."""
  if t.optimizer not in _OPTIMIZERS:
    raise ConfigError(f'{prefix}optimizer={t.optimizer!r}: must be {_one_of(_OPTIMIZERS)}')
  if t.compute_dtype not in ('float32', 'bfloat16'):
    raise ConfigError(f"{prefix}compute_dtype={t.compute_dtype!r}: must be 'float32' or 'bfloat16'")
  if t.lr_schedule not in _SCHEDULES:
    raise ConfigError(f'{prefix}lr_schedule={t.lr_schedule!r}: must be {_one_of(_SCHEDULES)}')
  if t.lr_schedule == 'piecewise' and (len(t.lr_values) != len(t.lr_boundaries) + 1
                                       or not all(v > 0 for v in t.lr_values)):
    raise ConfigError(f'{prefix}lr_values={tuple(t.lr_values)}: piecewise needs one positive rate more '
                      f'than {prefix}lr_boundaries={tuple(t.lr_boundaries)}')
  if t.lr_schedule == 'step':
    if not positive_int(t.lr_decay_steps):
      raise ConfigError(f'{prefix}lr_decay_steps={t.lr_decay_steps!r}: must be a positive integer')
    if not 0 < t.lr_decay_rate <= 1:
      raise ConfigError(f'{prefix}lr_decay_rate={t.lr_decay_rate!r}: must be in (0, 1]')
  if t.grad_clip_norm < 0:
    raise ConfigError(f'{prefix}grad_clip_norm={t.grad_clip_norm!r}: must be >= 0 (0 = off)')


def learning_rate_schedule(t):
  return _SCHEDULES[t.lr_schedule](t)


def _optimizer(t):
  return _OPTIMIZERS[t.optimizer](t, learning_rate_schedule(t))


def group_settings(config, group: str):
  """A parameter group's own optimizer settings: config.train's, with config.train.<group>'s
  keys in their place."""
  t = config.train.copy_and_resolve_references()
  with t.unlocked():
    t.update(config.train[group].to_dict())
  return t


def check_groups(config) -> None:
  """The settings of the model kind's groups with an optimizer of their own."""
  groups = registry.of(config.model).param_groups(config)
  for name in groups.own if groups else ():
    if name not in config.train:
      raise ConfigError(f'train.{name}: this model kind trains its {name} with settings of its own: '
                        f'add them (start from its config)')
    unknown = sorted(set(config.train[name]) - set(config.train))
    if unknown:
      raise ConfigError(f'train.{name}.{unknown[0]}: not a train setting (a group\'s own settings replace '
                        f'those of config.train)')
    check(group_settings(config, name), f'train.{name}.')


def make_optimizer(config):
  """(optax transformation, config.train's schedule). The model kind's parameter groups
  (Kind.param_groups: an NSynth encoder frozen or at a lower rate, a GAN's two players) each
  get the optimizer scaled by their factor, 0 freezing them. While no group has settings of
  its own, gradients are clipped by their global norm over all parameters; otherwise each
  group clips its own by its settings' grad_clip_norm (config.train's for the others)."""
  t = config.train
  groups = registry.of(config.model).param_groups(config)
  if groups is None:
    opt = _optimizer(t)
  else:
    def group(name, factor):
      settings = group_settings(config, name) if name in groups.own else t
      opt = _optimizer(settings)
      opt = optax.set_to_zero() if factor == 0 else opt if factor == 1 else optax.chain(opt, optax.scale(factor))
      clip = settings.grad_clip_norm if groups.own else 0
      if clip > 0:
        opt = optax.chain(optax.clip_by_global_norm(clip), opt)
      start = groups.starts.get(name, 0)
      if start > 0:  # zero updates and an idle optimizer (its step count too) until then
        opt = optax.transforms.conditionally_mask(opt, lambda count, start=start: count >= start)
      return opt
    opt = optax.multi_transform({name: group(name, f) for name, f in groups.scales.items()}, groups.label)
  if t.grad_clip_norm > 0 and not (groups and groups.own):
    opt = optax.chain(optax.clip_by_global_norm(t.grad_clip_norm), opt)
  return opt, learning_rate_schedule(t)


def _is_bias(path) -> bool:
  return 'bias' in jax.tree_util.keystr(path)


def l2_penalty(params, strength):
  """ibab's regulariser: strength · Σ ½|w|² over every non-bias variable."""
  if not strength:
    return 0.0
  leaves = [0.5 * jnp.sum(w**2) for p, w in jax.tree_util.tree_leaves_with_path(params) if not _is_bias(p)]
  return strength * sum(leaves)
