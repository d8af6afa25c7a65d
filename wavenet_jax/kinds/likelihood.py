"""Next-sample likelihood, shared by the kinds that model audio (WaveNet, NSynth decoder).

The loss is the mean cross entropy (nats) over the targets the mask keeps; evaluation sums
nll and target counts per class and reports bits/sample overall and per class.
"""
import math

import jax
import jax.numpy as jnp

METRICS = ('bits_per_sample', 'targets', 'bits_per_sample_per_class/')


def mean_nll(nll, mask):
  """Mean of nll [B, S] over the targets mask [B, S] keeps (0 without any)."""
  return jnp.sum(nll * mask) / jnp.maximum(jnp.sum(mask), 1.0)


def class_sums(nll, mask, labels, num_classes):
  """nll [B, S], mask [B, S], labels [B] -> {'nll': [K], 'targets': [K]}: sums per class."""
  per_example = {'nll': jnp.sum(nll * mask, axis=1), 'targets': jnp.sum(mask, axis=1)}
  return {k: jax.ops.segment_sum(v, labels, num_classes) for k, v in per_example.items()}


def scored_by(nll_per_target):
  """(objective, eval_sums) of a kind scored by nll_per_target(model, config.model, params,
  batch, gc_ids) -> (nll [B, S], mask [B, S]): the mean nll, and its sums per class."""
  def objective(model, config, params, batch, gc_ids=None):
    loss = mean_nll(*nll_per_target(model, config.model, params, batch, gc_ids))
    return loss, {'loss': loss}

  def eval_sums(model, config, params, batch, num_classes):
    nll, mask = nll_per_target(model, config.model, params, batch)
    return class_sums(nll, mask, batch['label'], num_classes)

  return objective, eval_sums


def summarize(sums, class_names, split):
  """Summed nll / target counts (numpy float64) -> bits/sample overall and per class."""
  nll, count = sums['nll'], sums['targets']
  bits = lambda n, c: float(n / c / math.log(2)) if c else float('nan')
  return {
      'split': split, 'targets': int(count.sum()),
      'bits_per_sample': bits(nll.sum(), count.sum()),
      'bits_per_sample_per_class': {k: bits(n, c) for k, n, c in zip(class_names, nll, count)},
  }
