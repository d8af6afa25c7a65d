"""`launch.py --mode=train|eval`: train a config's model in WORKDIR, or evaluate a checkpoint.

`train_and_evaluate(config, workdir)` trains from WORKDIR's latest checkpoint (or a warm start,
train.init_from), logs, samples, evaluates and checkpoints (training/loop.py); SIGTERM/SIGINT
save a checkpoint and return. `evaluate(config, workdir, split)` is --mode=eval: the
checkpoint's metrics on a split, written to WORKDIR/eval_<split>.json (training/evaluate.py).
What is learnt and measured is the model kind's (kinds/registry.Kind).
"""
from wavenet_jax.training import evaluate as evaluation
from wavenet_jax.training import loop


def train_and_evaluate(config, workdir: str) -> dict:
  """Trains (resuming), evaluates, checkpoints; returns the last eval's metrics (or where a
  signal stopped it)."""
  return loop.train_and_evaluate(config, workdir)


def evaluate(config, workdir: str, split: str = '', step=None) -> dict:
  """The metrics of checkpoint `step` (default eval.step; 0 = the latest) on `split`."""
  return evaluation.evaluate(config, workdir, split, step)
