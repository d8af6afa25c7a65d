"""The `wavenet` kind: ibab's WaveNet, optionally class conditioned, trained on the next sample.

The loss is the negative log-likelihood of the next sample (its mu-law class, or its 16-bit
level under a continuous head: models/heads.py) over the targets that have a full receptive
field of context and are not padding (the pipeline pads each crop with the receptive field
first, as ibab does).
"""
import jax
import jax.numpy as jnp
import optax

from wavenet_jax.common.config_checks import ConfigError
from wavenet_jax.generation import generate, sampling
from wavenet_jax.input import audio
from wavenet_jax.kinds import likelihood
from wavenet_jax.models import heads
from wavenet_jax.models.wavenet import WaveNet
from wavenet_jax.models.wavenet import check_config as check_model


def model_inputs(model_config, crop):
  """Float crop [B, C] -> (network input [B, C], targets [B, C]): mu-law classes, or for a
  continuous head the 16-bit levels, fed as they are."""
  if heads.continuous(model_config.output):
    levels = heads.quantize(crop)
    return levels, levels
  q, mu_law = model_config.quantization_channels, model_config.mu_law
  classes = audio.mu_law_encode(crop, q, mu_law, xp=jnp)
  if not model_config.scalar_input:
    return classes, classes
  if mu_law == 'nsynth':  # NSynth feeds its 8-bit mu-law value scaled to [-1, 1).
    return audio.nsynth_scalar(classes, q, xp=jnp), classes
  return crop, classes  # ibab feeds the raw samples.


def num_classes(config, dataset_classes: int) -> int:
  """The model's gc_cardinality once the dataset's class count is known (+1: the null class)."""
  gc, null = config.model.gc_cardinality, int(bool(config.model.gc_null_class))
  if gc == -1:
    return dataset_classes + null
  if 0 < gc < dataset_classes + null:
    raise ConfigError(f'model.gc_cardinality={gc}: the dataset has {dataset_classes} classes'
                      + (' and the null class needs a row' if null else '')
                      + f', so class ids go up to {dataset_classes + null - 1}')
  return gc


def target_nll(model, out, targets):
  """Decoder outputs [..., C] and targets [...] (classes or 16-bit levels) -> nll [...] in nats,
  computed in float32 whatever the outputs' dtype (a bfloat16 train step's)."""
  out = out.astype(jnp.float32)
  if heads.continuous(model.output):
    return -heads.log_prob(model.output, out, targets, model.log_scale_min)
  return optax.softmax_cross_entropy_with_integer_labels(out, targets)


def check_mu_law(config):
  """The audio a WaveNet (or NSynth decoder) models: one of the mu-law conventions."""
  if config.model.mu_law not in audio.MU_LAW_KINDS:
    raise ConfigError(f'model.mu_law={config.model.mu_law!r}: must be one of {audio.MU_LAW_KINDS}')


def check_output(config, mu_law_input=True):
  """model.output and what goes with it: a continuous head takes the previous sample as a
  scalar and models the raw waveform, so one-hot input, NSynth's mu-law input (where
  model.mu_law is the decoder's input: mu_law_input) and the categorical sampling cuts
  (top_k, top_p, guidance) are refused. The NSynth kinds' mu_law is their encoder's input."""
  m, g = config.model, config.generate
  output = m.output
  if output not in heads.OUTPUTS:
    raise ConfigError(f'model.output={output!r}: must be one of {heads.OUTPUTS}')
  if output == 'logistic_mixture' and (not isinstance(m.num_mixtures, int) or m.num_mixtures < 1):
    raise ConfigError(f'model.num_mixtures={m.num_mixtures!r}: must be an integer >= 1')
  if not heads.continuous(output):
    return
  if not m.scalar_input:
    raise ConfigError(f'model.scalar_input=False: the {output} head takes the previous sample as a '
                      'scalar (set model.scalar_input=True)')
  if mu_law_input and m.mu_law != 'ibab':
    raise ConfigError(f'model.mu_law={m.mu_law!r}: the {output} head models the raw waveform at 16 bits; '
                      'mu-law is the categorical head\'s (keep the default)')
  heads.check_sampling(output, g)


def check_guidance(config):
  """generate.guidance, which the training-time samples use: a null class to guide against."""
  guidance, m = config.generate.guidance, config.model
  sampling.check_guidance(config.generate)
  if guidance != 1 and not m.gc_null_class:
    raise ConfigError(f'generate.guidance={guidance!r}: guidance needs a null class to guide against '
                      '(model.gc_null_class=True, trained with train.class_dropout > 0), or set 1')


class WaveNetKind(likelihood.Likelihood):
  name = 'wavenet'
  description = 'WaveNet on mu-law audio, class conditioned or not (ibab/tensorflow-wavenet)'
  modes = frozenset({'train', 'eval', 'generate', 'embeddings', 'transfer'})
  class_conditioned = True

  def check(self, config):
    check_model(config.model)
    check_mu_law(config)
    check_output(config)
    check_guidance(config)
    mode = config.train.encoder_training
    if mode != 'fine_tune':
      raise ConfigError(f'train.encoder_training={mode!r}: a WaveNet has no encoder (keep fine_tune)')

  def num_classes(self, config, dataset_classes):
    return num_classes(config, dataset_classes)

  def build(self, config, num_classes):
    model = config.model.copy_and_resolve_references()
    with model.unlocked():
      model.gc_cardinality = num_classes
    return WaveNet.from_config(model)

  def init_inputs(self, model, model_config):
    inputs, _ = model_inputs(model_config, jnp.zeros((1, model.receptive_field + 1), jnp.float32))
    return inputs, jnp.zeros((1,), jnp.int32) if model.gc_cardinality else None

  def describe(self, model):
    return f'receptive field {model.receptive_field} samples'

  def context(self, model):
    return model.receptive_field

  def nll_per_target(self, model, model_config, params, batch, gc_ids=None):
    rf = model.receptive_field
    inputs, targets = model_inputs(model_config, batch['audio'])
    num_outputs = targets.shape[1] - rf
    gc = (batch['label'] if gc_ids is None else gc_ids) if model.gc_cardinality else None
    out = model.apply(params, inputs[:, :-1], gc, num_outputs=num_outputs)  # [B, S, C]
    return target_nll(model, out, targets[:, rf:]), batch['mask'][:, rf:]

  def training_samples(self, model, params, config, class_names):
    """A short generation per class (at most 16), and the null class's when it has one."""
    mu_law = config.model.mu_law
    ids = list(range(min(len(class_names), 16))) if model.gc_cardinality else [None]
    if config.model.gc_null_class:
      ids.append(model.gc_cardinality - 1)
    keys = jnp.stack([jax.random.key(config.generate.seed + i) for i in range(len(ids))])
    gc = jnp.asarray(ids, jnp.int32) if model.gc_cardinality else None
    null = model.gc_cardinality - 1 if config.model.gc_null_class else None  # guidance needs it: checked
    draws = generate.generate(model, jax.device_get(params), keys, config.train.generate_num_samples,
                              gc, config.generate.temperature, mu_law, guidance=config.generate.guidance,
                              null_id=null)
    wavs = generate.to_audio(model, draws, mu_law)  # [B, T]
    names = [class_names[i] if i is not None and i < len(class_names) else 'unconditioned' for i in ids]
    return dict(zip(names, wavs))


KINDS = (WaveNetKind(),)
