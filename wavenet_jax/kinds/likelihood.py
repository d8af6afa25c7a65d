"""Next-sample likelihood, shared by the kinds that model audio (WaveNet, NSynth decoder, vocoder).

`Likelihood` is such a kind's contract with its scoring filled in: the loss is the mean cross
entropy (nats) over the targets the mask keeps; evaluation sums nll and target counts per
class and reports bits/sample overall and per class. A subclass gives `nll_per_target`.
"""
import abc
import math

import jax
import jax.numpy as jnp

from wavenet_jax.kinds import registry

METRICS = ('bits_per_sample', 'targets', 'bits_per_sample_per_class/')


def bits(nats):
  """Nats per sample -> bits per sample."""
  return nats / math.log(2)


def mean_nll(nll, mask):
  """Mean of nll [B, S] over the targets mask [B, S] keeps (0 without any)."""
  return jnp.sum(nll * mask) / jnp.maximum(jnp.sum(mask), 1.0)


def class_sums(nll, mask, labels, num_classes):
  """nll [B, S], mask [B, S], labels [B] -> {'nll': [K], 'targets': [K]}: sums per class."""
  per_example = {'nll': jnp.sum(nll * mask, axis=1), 'targets': jnp.sum(mask, axis=1)}
  return {k: jax.ops.segment_sum(v, labels, num_classes) for k, v in per_example.items()}


def summarize(sums, class_names, split):
  """Summed nll / target counts (numpy float64) -> bits/sample overall and per class."""
  nll, count = sums['nll'], sums['targets']
  per = lambda n, c: float(bits(n / c)) if c else float('nan')
  return {
      'split': split, 'targets': int(count.sum()),
      'bits_per_sample': per(nll.sum(), count.sum()),
      'bits_per_sample_per_class': {k: per(n, c) for k, n, c in zip(class_names, nll, count)},
  }


def format_line(metrics) -> str:
  """'eval: 5.1234 bits/sample (a 5.000, b 5.250)'."""
  per_class = ', '.join(f'{k} {v:.3f}' for k, v in metrics['bits_per_sample_per_class'].items())
  return f"{metrics['split']}: {metrics['bits_per_sample']:.4f} bits/sample ({per_class})"


def scalars(metrics):
  """bits/sample overall and per class as TensorBoard scalars."""
  out = {'eval/bits_per_sample': metrics['bits_per_sample']}
  out.update({f'eval/bits_per_sample/{k}': v for k, v in metrics['bits_per_sample_per_class'].items()})
  return out


class Likelihood(registry.Kind):
  """A kind trained and evaluated on the likelihood of its audio's samples."""
  metrics = METRICS
  headline = 'bits_per_sample'

  @abc.abstractmethod
  def nll_per_target(self, model, model_config, params, batch, gc_ids=None):
    """-> (nll [B, S] in nats, target mask [B, S]); gc_ids default to the batch's labels."""

  def objective(self, model, config, params, batch, gc_ids=None, step=0, key=None):
    loss = mean_nll(*self.nll_per_target(model, config.model, params, batch, gc_ids))
    return loss, {'loss': loss}

  def eval_sums(self, model, config, params, batch, num_classes):
    return class_sums(*self.nll_per_target(model, config.model, params, batch), batch['label'], num_classes)

  def summarize(self, sums, class_names, split):
    return summarize(sums, class_names, split)

  def train_scalars(self, mean):
    return dict(super().train_scalars(mean), **{'train/bits_per_sample': bits(mean['loss'])})

  def format_train(self, mean):
    return f'loss {mean["loss"]:.4f} ({bits(mean["loss"]):.3f} bits/sample)'

  def format_eval(self, metrics):
    return format_line(metrics)

  def eval_scalars(self, metrics):
    return scalars(metrics)
