"""The optimizer and learning-rate schedule of config.train, and ibab's L2 regulariser.

Each name a config may give (train.optimizer, train.lr_schedule) is a key below: the
checks and the builders read the same tables.
"""
import jax
import jax.numpy as jnp
import optax

from wavenet_jax.common.config_checks import ConfigError
from wavenet_jax.kinds import registry

_OPTIMIZERS = {
    'adam': lambda t, lr: optax.adam(lr, eps=t.adam_epsilon),
    'sgd': lambda t, lr: optax.sgd(lr, momentum=t.momentum),
    # TF's RMSProp as ibab configures it: decay 0.9, epsilon 1e-5 inside the sqrt.
    'rmsprop': lambda t, lr: optax.rmsprop(lr, decay=0.9, eps=1e-5, momentum=t.momentum),
}
_SCHEDULES = {
    'constant': lambda t: optax.constant_schedule(t.learning_rate),
    'cosine': lambda t: optax.cosine_decay_schedule(t.learning_rate, max(t.num_train_steps, 1)),
    'warmup_cosine': lambda t: optax.warmup_cosine_decay_schedule(
        0.0, t.learning_rate, t.warmup_steps, max(t.num_train_steps, t.warmup_steps + 1)),
    # NSynth's: lr_values[i] from step lr_boundaries[i - 1] on.
    'piecewise': lambda t: optax.piecewise_constant_schedule(
        t.lr_values[0], {int(b): v / u for b, v, u in zip(t.lr_boundaries, t.lr_values[1:], t.lr_values)}),
}


def _one_of(names):
  names = list(names)
  return ', '.join(names[:-1]) + ' or ' + names[-1]


def check(t) -> None:
  """config.train's optimizer and schedule: one line naming a bad key."""
  if t.optimizer not in _OPTIMIZERS:
    raise ConfigError(f'train.optimizer={t.optimizer!r}: must be {_one_of(_OPTIMIZERS)}')
  if t.compute_dtype not in ('float32', 'bfloat16'):
    raise ConfigError(f"train.compute_dtype={t.compute_dtype!r}: must be 'float32' or 'bfloat16'")
  if t.lr_schedule not in _SCHEDULES:
    raise ConfigError(f'train.lr_schedule={t.lr_schedule!r}: must be {_one_of(_SCHEDULES)}')
  if t.lr_schedule == 'piecewise' and (len(t.lr_values) != len(t.lr_boundaries) + 1
                                       or not all(v > 0 for v in t.lr_values)):
    raise ConfigError(f'train.lr_values={tuple(t.lr_values)}: piecewise needs one positive rate more '
                      f'than train.lr_boundaries={tuple(t.lr_boundaries)}')


def learning_rate_schedule(t):
  return _SCHEDULES[t.lr_schedule](t)


def make_optimizer(config):
  """(optax transformation, schedule) of config.train. The model kind's parameter groups
  (Kind.param_groups: an NSynth encoder frozen or at a lower rate) each get the optimizer
  scaled by their factor, 0 freezing them."""
  t = config.train
  schedule = learning_rate_schedule(t)
  base = lambda: _OPTIMIZERS[t.optimizer](t, schedule)
  opt = base()
  groups = registry.of(config.model).param_groups(config)
  if groups is not None:
    def scaled(factor):
      return optax.set_to_zero() if factor == 0 else base() if factor == 1 else optax.chain(base(), optax.scale(factor))
    opt = optax.multi_transform({name: scaled(f) for name, f in groups.scales.items()}, groups.label)
  if t.grad_clip_norm > 0:
    opt = optax.chain(optax.clip_by_global_norm(t.grad_clip_norm), opt)
  return opt, schedule


def _is_bias(path) -> bool:
  return 'bias' in jax.tree_util.keystr(path)


def l2_penalty(params, strength):
  """ibab's regulariser: strength · Σ ½|w|² over every non-bias variable."""
  if not strength:
    return 0.0
  leaves = [0.5 * jnp.sum(w**2) for p, w in jax.tree_util.tree_leaves_with_path(params) if not _is_bias(p)]
  return strength * sum(leaves)
