"""The `nsynth_autoencoder` kind: magenta's WaveNet autoencoder, trained on reconstruction.

Like magenta, it learns every sample of its crop from zero history given the crop's
embedding, so a crop carries no context before it (and the encoder sees it whole).
"""
import jax
import jax.numpy as jnp

from wavenet_jax.common.config_checks import ConfigError
from wavenet_jax.kinds import likelihood, registry, wavenet
from wavenet_jax.models import nsynth


def check(config):
  """What every NSynth kind (the autoencoder and the classifiers on its encoder) needs."""
  wavenet.check_model(config.model)
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
  t = config.train
  mode = t.encoder_training
  if mode not in ('fine_tune', 'frozen', 'lower_lr'):
    raise ConfigError(f'train.encoder_training={mode!r}: must be fine_tune, frozen or lower_lr')
  if mode == 'lower_lr' and not 0 < t.encoder_lr_scale:
    raise ConfigError(f'train.encoder_lr_scale={t.encoder_lr_scale!r}: must be > 0')


def encoder_groups(config):
  """train.encoder_training: the NSynth encoder frozen or at encoder_lr_scale x the rate."""
  mode = config.train.encoder_training
  if mode == 'fine_tune':
    return None
  label = lambda params: {'params': {name: jax.tree_util.tree_map(lambda _: 'encoder' if name == 'encoder' else 'rest', sub)
                                     for name, sub in params['params'].items()}}
  return registry.ParamGroups(label, {'encoder': 0.0 if mode == 'frozen' else config.train.encoder_lr_scale, 'rest': 1.0})


def describe(model):
  return f'autoencoder hop {model.hop}, decoder receptive field {model.decoder.receptive_field} samples'


class NSynthAutoencoder(likelihood.Likelihood):
  name = 'nsynth_autoencoder'
  description = "magenta's NSynth WaveNet autoencoder: audio -> embedding every hop samples -> audio"
  modes = frozenset({'train', 'eval', 'encode', 'synthesize', 'embeddings'})

  def check(self, config):
    check(config)

  def num_classes(self, config, dataset_classes):
    return wavenet.num_classes(config, dataset_classes)

  def build(self, config, num_classes):
    return nsynth.from_config(config.model)

  def init_inputs(self, model, model_config):
    return (jnp.zeros((1, model.hop), jnp.float32),)

  def describe(self, model):
    return describe(model)

  def context(self, model):
    return 0

  def nll_per_target(self, model, model_config, params, batch, gc_ids=None):
    """-> (nll [B, C] in nats for every sample of the crop, mask [B, C])."""
    outputs, targets, _ = model.apply(params, batch['audio'])
    return wavenet.target_nll(model.decoder, outputs, targets), batch['mask']

  def param_groups(self, config):
    return encoder_groups(config)


KINDS = (NSynthAutoencoder(),)
