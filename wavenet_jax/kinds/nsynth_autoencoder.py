"""The `nsynth_autoencoder` kind: magenta's WaveNet autoencoder, trained on reconstruction.

Like magenta, it learns every sample of its crop from zero history given the crop's
embedding, so a crop carries no context before it (and the encoder sees it whole).
"""
import jax.numpy as jnp

from wavenet_jax.common.config_checks import ConfigError
from wavenet_jax.kinds import likelihood, wavenet
from wavenet_jax.kinds.registry import Kind
from wavenet_jax.models import nsynth


def check(config):
  """What every NSynth kind (the autoencoder and the classifiers on its encoder) needs."""
  wavenet.check_mu_law(config)
  wavenet.check_output(config, mu_law_input=False)
  m, kind = config.model, config.model.kind
  if 'encoder' not in m:
    raise ConfigError(f'model.encoder: model.kind={kind!r} needs the NSynth encoder settings '
                      f'(start from configs/nsynth_autoencoder.py, configs/speaker_id.py or configs/esc50.py)')
  if m.gc_cardinality:
    raise ConfigError('model.gc_cardinality: the NSynth autoencoder is not class conditioned (set 0)')
  if config.data.sample_size % m.encoder.hop:
    raise ConfigError(f'data.sample_size={config.data.sample_size}: the NSynth models\' crops must be a multiple '
                      f'of model.encoder.hop={m.encoder.hop}')


def nll(model, params, batch):
  """-> (nll [B, C] in nats for every sample of the crop, mask [B, C])."""
  outputs, targets, _ = model.apply(params, batch['audio'])
  return wavenet.target_nll(model.decoder, outputs, targets), batch['mask']


def objective(model, config, params, batch, gc_ids=None):
  loss = likelihood.mean_nll(*nll(model, params, batch))
  return loss, {'loss': loss}


def eval_sums(model, config, params, batch, num_classes):
  return likelihood.class_sums(*nll(model, params, batch), batch['label'], num_classes)


def describe(model):
  return f'autoencoder hop {model.hop}, decoder receptive field {model.decoder.receptive_field} samples'


KINDS = (Kind(
    name='nsynth_autoencoder',
    description="magenta's NSynth WaveNet autoencoder: audio -> embedding every hop samples -> audio",
    num_classes=wavenet.num_classes, build=lambda config, n: nsynth.from_config(config.model),
    context=lambda model: 0, init_inputs=lambda model, m: (jnp.zeros((1, model.hop), jnp.float32),),
    objective=objective, eval_sums=eval_sums, summarize=likelihood.summarize,
    metrics=likelihood.METRICS, headline='bits_per_sample',
    modes=frozenset({'train', 'eval', 'encode', 'synthesize', 'embeddings'}),
    describe=describe, check=check),)
