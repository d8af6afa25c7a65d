"""What reading another project's TF1 checkpoint needs, whichever model it holds (magenta.py,
ibab.py): TF's reader, the training state to ignore, and the check that a mapping built
exactly our model's params tree.
"""
import jax
import numpy as np

from wavenet_jax.checkpoints.checkpointing import CheckpointError

# Training state a TF checkpoint may carry that is no part of the model.
_TRAINING_STATE = frozenset({'global_step', 'beta1_power', 'beta2_power'})
_OPTIMIZER_SLOTS = frozenset({'Adam', 'Adam_1', 'Momentum', 'RMSProp', 'RMSProp_1', 'Adagrad'})


def load(checkpoint_prefix: str):
  """TF's reader of the checkpoint at `checkpoint_prefix`; CheckpointError when it is none."""
  import tensorflow as tf  # only importing needs TF's checkpoint reader.
  try:
    return tf.train.load_checkpoint(checkpoint_prefix)
  except (tf.errors.OpError, ValueError) as err:
    raise CheckpointError(f'{checkpoint_prefix}: not a readable TF checkpoint ({err})') from err


def is_training_state(name: str) -> bool:
  return name in _TRAINING_STATE or name.rsplit('/', 1)[-1] in _OPTIMIZER_SLOTS


def plural(n, word):
  return f'{n} {word}' + ('' if n == 1 else 'es' if word.endswith('h') else 's')


def check_layout(params, want, broken: str):
  """Our model's own params tree (`want`, e.g. from jax.eval_shape of its init) must be exactly
  what a mapping built (guards renames); else RuntimeError('<broken>: <each leaf that differs>')."""
  def leaves(tree):  # {'['params']['decoder']...': (shape, dtype)}
    return {jax.tree_util.keystr(path): (tuple(a.shape), np.dtype(a.dtype))
            for path, a in jax.tree_util.tree_flatten_with_path(tree)[0]}

  want, got = leaves(want), leaves(params)
  if want != got:
    diff = sorted(k for k in want.keys() | got.keys() if want.get(k) != got.get(k))
    raise RuntimeError(f'{broken}: '
                       + ', '.join(f'{k} model {want.get(k)} mapped {got.get(k)}' for k in diff))
