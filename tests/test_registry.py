"""The model-kind registry: a new kind is one module and one registry entry.

A toy kind (a bigram model: the next mu-law class from the previous one) is registered
here and goes through the normal loop: trained, checkpointed, evaluated by --mode=eval,
its evaluation checked against numpy in float64.
"""
import flax.linen as nn
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from tests import tiny
from wavenet_jax.apps import train
from wavenet_jax.checkpoints import checkpointing
from wavenet_jax.common import config_checks
from wavenet_jax.input import audio
from wavenet_jax.kinds import likelihood, registry


class Bigram(nn.Module):
  """classes [B, T] -> logits [B, T, Q] of the class after each one: a table row per class."""
  quantization_channels: int

  @nn.compact
  def __call__(self, classes):
    q = self.quantization_channels
    table = self.param('table', nn.initializers.normal(0.1), (q, q))
    return table[classes]


def _nll(model, config, params, batch):
  classes = audio.mu_law_encode(batch['audio'], config.model.quantization_channels, config.model.mu_law, xp=jnp)
  logits = model.apply(params, classes[:, :-1])
  return optax.softmax_cross_entropy_with_integer_labels(logits, classes[:, 1:]), batch['mask'][:, 1:]


def _objective(model, config, params, batch, gc_ids=None):
  loss = likelihood.mean_nll(*_nll(model, config, params, batch))
  return loss, {'loss': loss}


TOY = registry.Kind(
    name='toy_bigram', description='a bigram of mu-law classes (a test of the registry)',
    num_classes=lambda config, n: 0, build=lambda config, n: Bigram(config.model.quantization_channels),
    context=lambda model: 1, init_inputs=lambda model, m: (jnp.zeros((1, 2), jnp.int32),),
    objective=_objective,
    eval_sums=lambda model, config, params, batch, k: likelihood.class_sums(
        *_nll(model, config, params, batch), batch['label'], k),
    summarize=likelihood.summarize, metrics=likelihood.METRICS, headline='bits_per_sample',
    modes=frozenset({'train', 'eval'}), describe=lambda model: 'a bigram')


def test_a_registered_kind_trains_checkpoints_and_evaluates(tmp_path):
  registry.register(TOY)
  c = tiny.config(tiny.build_demo(tmp_path / 'demo'), steps=4)
  c.model.kind = 'toy_bigram'
  c.model.gc_cardinality = 0
  c.train.checkpoint_every_steps = 2
  workdir = str(tmp_path / 'run')
  final = train.train_and_evaluate(c, workdir)
  state, meta = checkpointing.load(workdir)
  assert meta['step'] == 4 and meta['model']['kind'] == 'toy_bigram' and meta['receptive_field'] == 1
  assert sorted(checkpointing.Checkpointer(workdir, read_only=True).all_steps()) == [2, 4]

  # The evaluation, recomputed in numpy (float64) from the checkpoint's table and eval's batches.
  table = np.asarray(state['params']['params']['table'], np.float64)
  q = c.model.quantization_channels
  run = train.open_run(c, workdir)
  nll, count = np.zeros(len(run.class_names)), np.zeros(len(run.class_names))
  for batch in run.eval_batches(c.data.eval_split):
    classes = audio.mu_law_encode(np.asarray(batch['audio'], np.float64), q, c.model.mu_law)
    logits = table[classes[:, :-1]]  # [B, T, Q]
    log_p = logits - np.log(np.sum(np.exp(logits - logits.max(-1, keepdims=True)), -1,
                                   keepdims=True)) - logits.max(-1, keepdims=True)
    target_nll = -np.take_along_axis(log_p, classes[:, 1:, None], -1)[..., 0]
    mask = np.asarray(batch['mask'], np.float64)[:, 1:]
    np.add.at(nll, batch['label'], np.sum(target_nll * mask, 1))
    np.add.at(count, batch['label'], np.sum(mask, 1))
  expected = nll.sum() / count.sum() / np.log(2)
  assert final['bits_per_sample'] == pytest.approx(expected, rel=1e-5)
  evaluated = train.evaluate(c, workdir)  # --mode=eval of the same checkpoint
  assert evaluated['bits_per_sample'] == pytest.approx(expected, rel=1e-5)
  for name, n, k in zip(run.class_names, nll, count):
    assert evaluated['bits_per_sample_per_class'][name] == pytest.approx(n / k / np.log(2), rel=1e-5)


def test_unknown_kind_and_modes_are_one_line():
  with pytest.raises(config_checks.ConfigError, match=r"^model.kind='wavenett': must be one of wavenet, "):
    registry.get('wavenett')
  with pytest.raises(ValueError, match='unknown modes'):
    registry.register(registry.Kind(**{**TOY.__dict__, 'name': 'bad', 'modes': frozenset({'dance'})}))
  assert registry.of({}).name == registry.DEFAULT  # a config or checkpoint without model.kind
  for name in registry.names():
    kind = registry.get(name)
    assert kind.description and kind.headline in [m.rstrip('/') for m in kind.metrics]
    assert kind.modes <= registry.MODES and 'train' in kind.modes
