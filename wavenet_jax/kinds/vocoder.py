"""The `vocoder` kind: a WaveNet conditioned on log-mel spectrograms (r9y9/wavenet_vocoder).

The input pipeline ships audio only. The training step computes each crop's frames on the
device (input/mel.py) from the crop and the context it carries (models/vocoder.crop_context),
upsamples them, and scores the crop's predicted samples like the `wavenet` kind does, with
any output head. The crops start on the hop, so their frames are the whole clip's.
With model.lpc_order > 0 it scores the excitation (models/vocoder.py, input/lpc.py): the
categorical head over mu-law classes of x_t - p_t.
"""
import jax.numpy as jnp
import numpy as np

from wavenet_jax.common.config_checks import ConfigError, nonnegative_int, positive_int
from wavenet_jax.evaluation import resynthesis
from wavenet_jax.generation import sampling, vocoding
from wavenet_jax.input import mel
from wavenet_jax.kinds import likelihood, wavenet
from wavenet_jax.models import heads, upsample, vocoder
from wavenet_jax.models.vocoder import Vocoder
from wavenet_jax.models.wavenet import WaveNet


def check(config):
  check_features(config, 'configs/demo_vocoder.py')
  m = config.model
  wavenet.check_model(m)
  wavenet.check_mu_law(config)
  wavenet.check_output(config)
  order = m.lpc_order
  if not nonnegative_int(order):
    raise ConfigError(f'model.lpc_order={order!r}: must be an integer >= 0 (0 = no linear prediction)')
  if order and (m.output != 'categorical' or m.scalar_input):
    raise ConfigError(f'model.lpc_order={order}: linear prediction models the excitation with the categorical '
                      f'head on one-hot input (model.output=\'categorical\', model.scalar_input=False)')
  if order >= m.mel.n_fft // 2:
    raise ConfigError(f'model.lpc_order={order}: must be below half of model.mel.n_fft={m.mel.n_fft}')


def check_features(config, example: str):
  """What both vocoder kinds read: the log-mel settings, the upsampler's, crops of whole hops."""
  m = config.model
  for key in ('mel', 'upsample'):
    if key not in m:
      raise ConfigError(f'model.{key}: model.kind={m.kind!r} needs the features and upsampler settings '
                        f'(start from {example})')
  mel.check(m.mel, config.data.sample_rate)
  u = m.upsample
  if u.mode not in upsample.MODES:
    raise ConfigError(f'model.upsample.mode={u.mode!r}: must be one of {upsample.MODES}')
  if int(np.prod(u.scales)) != m.mel.hop:
    raise ConfigError(f'model.upsample.scales={tuple(u.scales)}: their product must be model.mel.hop={m.mel.hop}')
  if not nonnegative_int(u.lookahead):
    raise ConfigError(f'model.upsample.lookahead={u.lookahead!r}: must be an integer >= 0 (frames)')
  fk = u.freq_kernel
  if not positive_int(fk) or fk % 2 == 0:
    raise ConfigError(f'model.upsample.freq_kernel={fk!r}: must be an odd integer >= 1 (mel bands, centred)')
  if config.data.sample_size % m.mel.hop:
    raise ConfigError(f'data.sample_size={config.data.sample_size}: must be a multiple of model.mel.hop={m.mel.hop}')


class VocoderKind(likelihood.Likelihood):
  name = 'vocoder'
  description = 'WaveNet vocoder: log-mel spectrograms -> audio (r9y9/wavenet_vocoder)'
  modes = frozenset({'train', 'eval', 'vocode'})
  class_conditioned = True

  def check(self, config):
    check(config)

  def num_classes(self, config, dataset_classes):
    return wavenet.num_classes(config, dataset_classes)

  def build(self, config, num_classes):
    m = config.model.copy_and_resolve_references()
    order = m.get('lpc_order', 0)  # a checkpoint's model from before linear prediction has none
    with m.unlocked():
      m.gc_cardinality = num_classes
      m.lc_channels = m.mel.num_mels + (vocoder.LPC_CHANNELS if order else 0)
    return Vocoder(upsampler=vocoder.upsampler_from_config(m.upsample, m.mel.num_mels),
                   decoder=WaveNet.from_config(m), features=mel.settings(m.mel),
                   sample_rate=int(config.data.sample_rate), lpc_order=order)

  def init_inputs(self, model, model_config):
    inputs, _ = wavenet.model_inputs(model_config, jnp.zeros((1, 2 * model.hop), jnp.float32))
    frames = jnp.zeros((1, 2 + 2 * model.margin, model.features.num_mels), jnp.float32)
    gc = jnp.zeros((1,), jnp.int32) if model.decoder.gc_cardinality else None
    if not model.lpc_order:
      return inputs, frames, gc
    return inputs, frames, gc, None, jnp.zeros(inputs.shape + (vocoder.LPC_CHANNELS,), jnp.float32)

  def describe(self, model):
    return (f'{model.features.num_mels} mel bands every {model.hop} samples, decoder receptive field '
            f'{model.decoder.receptive_field} samples'
            + (f', linear prediction of order {model.lpc_order}' if model.lpc_order else ''))

  def context(self, model):
    return vocoder.crop_context(model)[0]

  def context_after(self, model):
    return vocoder.crop_context(model)[1]

  def align(self, model):
    return model.hop

  def nll_per_target(self, model, model_config, params, batch, gc_ids=None):
    """-> (nll [B, C] in nats of each crop's predicted samples, mask [B, C])."""
    audio = batch['audio']  # [B, before + C + after]
    before, after = vocoder.crop_context(model)
    size = audio.shape[1] - before - after
    frames = mel.log_mel(audio, model.features, model.sample_rate, padded=True)  # [B, F + 2·margin, M]
    r = model.decoder.receptive_field
    gc = (batch['label'] if gc_ids is None else gc_ids) if model.decoder.gc_cardinality else None
    lpc_inputs = None
    if model.lpc_order:
      inputs, p = vocoder.lpc_teacher_forcing(model, audio, frames, model_config.quantization_channels,
                                              model_config.mu_law)  # [B, S] excitation classes, predictions
      targets = inputs
      lpc_inputs = jnp.stack([p[:, before - r + 1:before + size], audio[:, before - r:before + size - 1]], -1)
    else:
      inputs, targets = wavenet.model_inputs(model_config, audio)
    out = model.apply(params, inputs[:, before - r:before + size - 1], frames, gc, size, lpc_inputs)
    return (wavenet.target_nll(model.decoder, out, targets[:, before:before + size]),
            batch['mask'][:, before:before + size])

  def extra_evaluations(self, run, params, split, writer=None, step=0):
    """--mode=eval: eval.vocode_clips clips resynthesised and scored beside Griffin-Lim
    (evaluation/resynthesis.py), kept in WORKDIR/eval_<split>_audio/."""
    return resynthesis.evaluate(run, params, split, writer, step)

  def format_eval(self, metrics):
    line = likelihood.format_line(metrics)
    if 'vocode_clips' in metrics:
      line += '\n' + resynthesis.format_scores(metrics)
    return line

  def check_vocode(self, model, meta, config):
    g, v = config.generate, config.vocode
    sampling.check(g, ('batch_size', 'chunk_size'))
    vocoding.fold_of(v)
    heads.check_sampling(model.decoder.output, g)
    sampling.check_top_k(g, model.decoder.quantization_channels)
    if not model.decoder.gc_cardinality:
      if v.class_id != -1:
        raise ConfigError(f'vocode.class_id={v.class_id!r}: this vocoder is not speaker-conditioned '
                          '(trained with model.gc_cardinality=0); leave it out')
      return None
    class_id = 0 if v.class_id == -1 else v.class_id
    if not isinstance(class_id, int) or not 0 <= class_id < model.decoder.gc_cardinality:
      raise ConfigError(f'vocode.class_id={v.class_id!r}: this vocoder\'s classes are '
                        f'0..{model.decoder.gc_cardinality - 1} ({", ".join(meta["class_names"])})')
    return class_id

  def draw_speech(self, model, params, items, class_ids, config, sinks, label):
    """generate.batch_size files side by side, each chunk into its sink as it comes
    (generation/vocoding.py), or with vocode.fold_frames each file as folded segments."""
    gc_ids = (jnp.asarray(class_ids, jnp.int32) if model.decoder.gc_cardinality and class_ids is not None
              else None)
    vocoding.draw_files(model, params, [f for _, f in items], gc_ids, config, sinks, label)


KINDS = (VocoderKind(),)
