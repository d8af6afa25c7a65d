"""The model-kind registry: a new kind is one module and one registry entry.

A toy kind (a bigram model: the next mu-law class from the previous one) is registered
here and goes through the normal loop: trained, checkpointed, evaluated by --mode=eval,
its evaluation checked against numpy in float64, its own report, TensorBoard scalars,
images, samples and optimizer groups used. Every kind keeps the contract's signatures.
"""
import inspect
import os

import flax.linen as nn
import jax
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
from wavenet_jax.training import optim
from wavenet_jax.training import run as training_run


class Bigram(nn.Module):
  """classes [B, T] -> logits [B, T, Q] of the class after each one: a table row per class."""
  quantization_channels: int

  @nn.compact
  def __call__(self, classes):
    q = self.quantization_channels
    table = self.param('table', nn.initializers.normal(0.1), (q, q))
    return table[classes]


class ToyBigram(likelihood.Likelihood):
  """A kind written outside the package: its own report, scalars, samples and optimizer groups."""
  name = 'toy_bigram'
  description = 'a bigram of mu-law classes (a test of the registry)'
  modes = frozenset({'train', 'eval'})

  def num_classes(self, config, dataset_classes):
    return 0

  def build(self, config, num_classes):
    return Bigram(config.model.quantization_channels)

  def init_inputs(self, model, model_config):
    return (jnp.zeros((1, 2), jnp.int32),)

  def describe(self, model):
    return 'a bigram'

  def context(self, model):
    return 1

  def nll_per_target(self, model, model_config, params, batch, gc_ids=None):
    classes = audio.mu_law_encode(batch['audio'], model_config.quantization_channels, model_config.mu_law, xp=jnp)
    logits = model.apply(params, classes[:, :-1])
    return optax.softmax_cross_entropy_with_integer_labels(logits, classes[:, 1:]), batch['mask'][:, 1:]

  def format_train(self, mean):
    return f'toy loss {mean["loss"]:.2f}'

  def train_scalars(self, mean):
    return {'train/toy_nats': mean['loss']}

  def training_samples(self, model, params, config, class_names):
    """The table's likeliest class after each class, walked from class 0, as audio."""
    table, q = np.asarray(params['params']['table']), model.quantization_channels
    walk = [0]
    for _ in range(31):
      walk.append(int(np.argmax(table[walk[-1]])))
    return {'walk': audio.mu_law_decode(np.asarray(walk), q).astype(np.float32)}

  def format_eval(self, metrics):
    return f"toy table | {metrics['split']} | {metrics['targets']} targets | {metrics['bits_per_sample']:.3f} bits"

  def eval_scalars(self, metrics):
    return {'eval/toy_bits': metrics['bits_per_sample']}

  def eval_images(self, metrics, step):
    return {'toy_bars': np.full((4, 6, 3), step % 256, np.uint8)}

  def param_groups(self, config):
    return registry.ParamGroups(lambda params: jax.tree_util.tree_map(lambda _: 'frozen', params), {'frozen': 0.0})


TOY = ToyBigram()


def test_a_registered_kind_trains_checkpoints_and_evaluates(tmp_path, capsys):
  """...with its own log line, eval table, TensorBoard scalars, images and samples, and its
  optimizer groups (the toy freezes its table), nothing outside its class knowing it."""
  registry.register(TOY)
  c = tiny.config(tiny.build_demo(tmp_path / 'demo'), steps=4)
  c.model.kind = 'toy_bigram'
  c.model.gc_cardinality = 0
  c.train.checkpoint_every_steps = 2
  c.train.eval_every_steps = c.train.generate_every_steps = 2
  workdir = str(tmp_path / 'run')
  final = train.train_and_evaluate(c, workdir)
  state, meta = checkpointing.load(workdir)
  assert meta['step'] == 4 and meta['model']['kind'] == 'toy_bigram' and meta['receptive_field'] == 1
  assert sorted(checkpointing.Checkpointer(workdir, read_only=True).all_steps()) == [2, 4]
  printed = capsys.readouterr().out
  split = c.data.eval_split
  assert 'step 1/4  toy loss ' in printed and f'eval step 2: toy table | {split} | ' in printed, printed
  assert f'eval step 4: toy table | {split} | ' in printed
  assert {'train/toy_nats', 'eval/toy_bits', 'generated/walk'} <= tiny.read_tags(workdir)
  assert 'train/bits_per_sample' not in tiny.read_tags(workdir)  # Likelihood's, replaced by the toy's
  assert {'eval/toy_bars', 'generated/walk/spectrogram'} <= tiny.plugin_tags(workdir, 'images')

  # The evaluation, recomputed in numpy (float64) from the checkpoint's table and eval's batches.
  table = np.asarray(state['params']['params']['table'], np.float64)
  q = c.model.quantization_channels
  run = training_run.open_run(c, workdir)
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
  assert capsys.readouterr().out.startswith(f'step 4 toy table | {split} | ')
  assert os.path.exists(os.path.join(workdir, f'toy_bars_{split}.png'))
  fresh = run.init_state(optim.make_optimizer(c)[0]).params['params']['table']
  np.testing.assert_array_equal(table, np.asarray(fresh, np.float64))  # the frozen group


def contract_problems(kind):
  """How a kind breaks the Kind contract: a class attribute missing, or an override whose
  parameters are not the contract's (what the callers pass)."""
  problems = [f'no {attr}' for attr in ('name', 'description', 'metrics', 'headline', 'modes') if not hasattr(kind, attr)]
  for name, base in inspect.getmembers(registry.Kind, inspect.isfunction):
    mine, want = [list(inspect.signature(f).parameters) for f in (getattr(type(kind), name), base)]
    if not name.startswith('_') and mine != want:
      problems.append(f'{name}({", ".join(mine)}): the contract is {name}({", ".join(want)})')
  return problems


def test_every_kind_fulfils_the_contract():
  for kind in [registry.get(name) for name in registry.names()] + [TOY]:
    assert isinstance(kind, registry.Kind) and contract_problems(kind) == [], (kind.name, contract_problems(kind))

  class Broken(ToyBigram):
    def format_eval(self, metrics, verbose):  # a parameter the callers never pass
      return ''
  assert contract_problems(Broken()) == [
      'format_eval(self, metrics, verbose): the contract is format_eval(self, metrics)']

  class Unfinished(registry.Kind):  # no build, objective, report...
    name = 'unfinished'
  with pytest.raises(TypeError, match="abstract method"):
    Unfinished()


def test_unknown_kind_and_modes_are_one_line():
  with pytest.raises(config_checks.ConfigError, match=r"^model.kind='wavenett': must be one of wavenet, "):
    registry.get('wavenett')
  with pytest.raises(ValueError, match='unknown modes'):
    registry.register(type('Dancing', (ToyBigram,), {'name': 'bad', 'modes': frozenset({'dance'})})())
  assert registry.of({}).name == registry.DEFAULT  # a config or checkpoint without model.kind
  for name in registry.names():
    kind = registry.get(name)
    assert kind.description and kind.headline in [m.rstrip('/') for m in kind.metrics]
    assert kind.modes <= registry.MODES and 'train' in kind.modes
