"""The `parallel_wavegan` kind: a non-autoregressive vocoder and its discriminator (Yamamoto et al. 2020).

One model (models/parallel_wavegan.ParallelVocoder) holds both players; the training step
sees one loss whose gradient gives each player its own:

  generator      L_G = L_sc + L_mag (input/stft_loss.py) + lambda_adv · mean((D(G(z)) - 1)²)
  discriminator  L_D = mean((D(x) - 1)²) + mean(D(G(z))²)
  loss = L_G + L_D, D's params held constant in L_G and G(z) in L_D (stop_gradient)

The adversarial terms join at train.discriminator_start_steps (before: the STFT loss alone,
the discriminator not even run); each player has its own optimizer and schedule
(`param_groups`: config.train for the generator and upsampler, config.train.discriminator's
settings for the discriminator, idle until its start). kan-bayashi's trainer updates the
generator first and scores its new output for the discriminator; one gradient for both is
the simultaneous update, one generator pass cheaper. A crop's log-mels come from its audio
on the device as the autoregressive vocoder's do (kinds/vocoder.py); its noise from the
step's key. Sampling: generation/parallel_vocoding.py, noise keyed by each file's name.
"""
import zlib

import jax
import jax.numpy as jnp
import numpy as np

from wavenet_jax.common.config_checks import ConfigError, nonnegative_int, positive_int
from wavenet_jax.evaluation import resynthesis
from wavenet_jax.generation import parallel_vocoding, sampling
from wavenet_jax.input import mel, stft_loss
from wavenet_jax.kinds import registry, vocoder as vocoder_kind
from wavenet_jax.models import vocoder
from wavenet_jax.models.parallel_wavegan import Discriminator, Generator, ParallelVocoder



def check(config):
  vocoder_kind.check_features(config, 'configs/demo_pwg.py')
  m, t = config.model, config.train
  for key in ('generator', 'discriminator'):
    if key not in m:
      raise ConfigError(f'model.{key}: model.kind=\'parallel_wavegan\' needs its sizes '
                        '(start from configs/demo_pwg.py)')
  for part, sizes in (('generator', ('num_layers', 'stacks', 'filter_width', 'residual_channels', 'gate_channels',
                                     'skip_channels')),
                      ('discriminator', ('num_layers', 'filter_width', 'channels'))):
    for name in sizes:
      value = m[part][name]
      if not positive_int(value):
        raise ConfigError(f'model.{part}.{name}={value!r}: must be an integer >= 1')
    if m[part].filter_width % 2 == 0:
      raise ConfigError(f'model.{part}.filter_width={m[part].filter_width}: must be odd (non-causal taps, centred)')
  g = m.generator
  if g.num_layers % g.stacks:
    raise ConfigError(f'model.generator.num_layers={g.num_layers}: must be a multiple of '
                      f'model.generator.stacks={g.stacks}')
  if g.gate_channels % 2:
    raise ConfigError(f'model.generator.gate_channels={g.gate_channels}: must be even (the tanh and sigmoid halves)')
  if m.discriminator.num_layers < 2:
    raise ConfigError(f'model.discriminator.num_layers={m.discriminator.num_layers}: must be >= 2')
  if not nonnegative_int(t.discriminator_start_steps):
    raise ConfigError(f'train.discriminator_start_steps={t.discriminator_start_steps!r}: must be an integer >= 0')
  if not t.lambda_adv >= 0:
    raise ConfigError(f'train.lambda_adv={t.lambda_adv!r}: must be >= 0')
  if not t.stft_resolutions:
    raise ConfigError('train.stft_resolutions=(): name at least one (fft size, hop, window length)')
  for r in t.stft_resolutions:
    if len(r) != 3 or not all(positive_int(v) for v in r) or r[2] > r[0]:
      raise ConfigError(f'train.stft_resolutions: {tuple(r)} must be (fft size, hop, window length <= fft size), '
                        'integers >= 1')
    if config.data.sample_size <= r[0] // 2:
      raise ConfigError(f'data.sample_size={config.data.sample_size}: must exceed half of every fft size in '
                        f'train.stft_resolutions ({r[0]})')


def crop_context(model: ParallelVocoder):
  """(samples before, samples after) a training crop carries: the upsampler's margin frames each
  side, and half an FFT window each side for the frames' own audio (mel.context). The
  generator sees zeros past the crop, as kan-bayashi's does."""
  before, after = mel.context(model.features)
  return model.margin * model.hop + before, model.margin * model.hop + after


def resolutions(config):
  """config.train.stft_resolutions as the hashable tuples input/stft_loss.losses takes."""
  return tuple(map(tuple, config.train.stft_resolutions))


def file_key(seed: int, name: str):
  """A file's noise key: from generate.seed and its name, so batching and order never change it."""
  return jax.random.fold_in(jax.random.key(seed), np.uint32(zlib.crc32(name.encode())))


class ParallelWaveGANKind(registry.Kind):
  name = 'parallel_wavegan'
  description = 'Parallel WaveGAN: log-mel spectrograms -> audio in one pass (kan-bayashi/ParallelWaveGAN)'
  metrics = ('stft_loss', 'spectral_convergence', 'log_magnitude', 'examples', 'stft_loss_per_class/')
  headline = 'stft_loss'
  modes = frozenset({'train', 'eval', 'vocode'})

  def check(self, config):
    check(config)

  def num_classes(self, config, dataset_classes):
    return 0

  def build(self, config, num_classes):
    m = config.model
    g, d = m.generator, m.discriminator
    return ParallelVocoder(
        upsampler=vocoder.upsampler_from_config(m.upsample, m.mel.num_mels),
        generator=Generator(num_layers=g.num_layers, stacks=g.stacks, filter_width=g.filter_width,
                            residual_channels=g.residual_channels, gate_channels=g.gate_channels,
                            skip_channels=g.skip_channels, lc_channels=m.mel.num_mels),
        features=mel.settings(m.mel), sample_rate=int(config.data.sample_rate),
        discriminator=Discriminator(num_layers=d.num_layers, filter_width=d.filter_width, channels=d.channels,
                                    negative_slope=d.negative_slope))

  def init_inputs(self, model, model_config):
    return (jnp.zeros((1, 2 * model.hop), jnp.float32),
            jnp.zeros((1, 2 + 2 * model.margin, model.features.num_mels), jnp.float32))

  def describe(self, model):
    g = model.generator
    return (f'{model.features.num_mels} mel bands every {model.hop} samples, a non-causal generator of '
            f'{g.num_layers} layers in {g.stacks} stacks (reach {g.halo} samples each side), a discriminator of '
            f'{model.discriminator.num_layers} layers')

  def context(self, model):
    return crop_context(model)[0]

  def context_after(self, model):
    return crop_context(model)[1]

  def align(self, model):
    return model.hop

  # --- training

  def _generated(self, model, params, batch, key):
    """-> (generated [B, C], target [B, C]) of a batch's crops; padding (a short clip's) zeroed in both."""
    audio = batch['audio']  # [B, before + C + after]
    before, after = crop_context(model)
    size = audio.shape[1] - before - after
    frames = mel.log_mel(audio, model.features, model.sample_rate, padded=True)  # [B, C / hop + 2·margin, M]
    noise = jax.random.normal(key, (audio.shape[0], size), audio.dtype)
    mask = batch['mask'][:, before:before + size].astype(jnp.float32)
    generated = model.apply(params, noise, frames).astype(jnp.float32)  # the losses in float32 under bf16 too
    return generated * mask, audio[:, before:before + size]

  def objective(self, model, config, params, batch, gc_ids=None, step=0, key=None):
    t = config.train
    generated, target = self._generated(model, params, batch, key)
    convergence, log_magnitude = stft_loss.losses(generated, target, resolutions(config))

    def adversarial(_):
      d = {'params': {'discriminator': params['params']['discriminator']}}
      score = lambda p, x: model.apply(p, x, method=ParallelVocoder.discriminate).astype(jnp.float32)  # noqa: E731
      fooled = jnp.mean((score(jax.lax.stop_gradient(d), generated) - 1.0) ** 2)  # the generator's
      real = jnp.mean((score(d, target) - 1.0) ** 2)
      fake = jnp.mean(score(d, jax.lax.stop_gradient(generated)) ** 2)
      return fooled, real, fake

    zero = jnp.zeros((), jnp.float32)
    fooled, real, fake = jax.lax.cond(step >= t.discriminator_start_steps, adversarial,
                                      lambda _: (zero, zero, zero), None)
    generator_loss = convergence + log_magnitude + t.lambda_adv * fooled
    loss = generator_loss + real + fake
    return loss, {'loss': loss, 'stft_loss': convergence + log_magnitude, 'spectral_convergence': convergence,
                  'log_magnitude': log_magnitude, 'adversarial': fooled, 'real': real, 'fake': fake}

  def param_groups(self, config):
    """The discriminator's own optimizer (config.train.discriminator), from its start step."""
    def group(module):  # the upsampler trains with the generator
      return 'discriminator' if module == 'discriminator' else 'generator'

    def label(params):  # {'params': {'upsampler': ..., 'generator': ..., 'discriminator': ...}}
      return {c: {name: jax.tree_util.tree_map(lambda _, g=group(name): g, tree) for name, tree in modules.items()}
              for c, modules in params.items()}
    return registry.ParamGroups(label, {'generator': 1.0, 'discriminator': 1.0}, own=('discriminator',),
                                starts={'discriminator': config.train.discriminator_start_steps})

  def format_train(self, mean):
    return (f'loss {mean["loss"]:.4f} (stft {mean["stft_loss"]:.4f}: sc {mean["spectral_convergence"]:.4f}, '
            f'mag {mean["log_magnitude"]:.4f}; adversarial {mean["adversarial"]:.4f}, '
            f'discriminator {mean["real"]:.4f} + {mean["fake"]:.4f})')

  # --- evaluation

  def eval_sums(self, model, config, params, batch, num_classes):
    generated, target = self._generated(model, params, batch, jax.random.key(config.eval.seed))
    convergence, log_magnitude = jax.vmap(lambda g, x: stft_loss.losses(g[None], x[None], resolutions(config)))(
        generated, target)  # [B] each
    examples = jnp.ones_like(convergence)
    return {k: jax.ops.segment_sum(v, batch['label'], num_classes) for k, v in
            (('spectral_convergence', convergence), ('log_magnitude', log_magnitude), ('examples', examples))}

  def summarize(self, sums, class_names, split):
    """Means over the crops: overall, and the STFT loss per class (a multi-speaker corpus's speakers)."""
    count, loss = sums['examples'], sums['spectral_convergence'] + sums['log_magnitude']
    mean = lambda total, n: float(total / n) if n else float('nan')  # noqa: E731
    return {'split': split, 'examples': int(count.sum()),
            'stft_loss': mean(loss.sum(), count.sum()),
            'spectral_convergence': mean(sums['spectral_convergence'].sum(), count.sum()),
            'log_magnitude': mean(sums['log_magnitude'].sum(), count.sum()),
            'stft_loss_per_class': {k: mean(v, n) for k, v, n in zip(class_names, loss, count)}}

  def extra_evaluations(self, run, params, split, writer=None, step=0):
    """--mode=eval: eval.vocode_clips clips resynthesised and scored beside Griffin-Lim
    (evaluation/resynthesis.py), kept in WORKDIR/eval_<split>_audio/."""
    return resynthesis.evaluate(run, params, split, writer, step)

  def format_eval(self, metrics):
    line = (f"{metrics['split']}: STFT loss {metrics['stft_loss']:.4f} (spectral convergence "
            f"{metrics['spectral_convergence']:.4f}, log magnitude {metrics['log_magnitude']:.4f}) over "
            f"{metrics['examples']} crops")
    if 'vocode_clips' in metrics:
      line += '\n' + resynthesis.format_scores(metrics)
    return line

  def eval_scalars(self, metrics):
    out = {f'eval/{k}': metrics[k] for k in ('stft_loss', 'spectral_convergence', 'log_magnitude')}
    out.update({f'eval/stft_loss/{k}': v for k, v in metrics['stft_loss_per_class'].items()})
    return out

  # --- vocoding

  def check_vocode(self, model, meta, config):
    g, v = config.generate, config.vocode
    sampling.check(g, ('batch_size', 'chunk_size'))
    if v.class_id != -1:
      raise ConfigError(f'vocode.class_id={v.class_id!r}: this vocoder is not speaker-conditioned; leave it out')
    if v.fold_frames:
      raise ConfigError(f'vocode.fold_frames={v.fold_frames!r}: a parallel vocoder makes a file in exact chunks '
                        'of generate.chunk_size samples already; leave it 0')
    return None

  def draw_speech(self, model, params, items, class_ids, config, sinks, label):
    """Each file in one pass (chunks of generate.chunk_size samples, rounded to frames, with
    the generator's halo; generate.batch_size chunks per call), its noise keyed by its name."""
    g = config.generate
    keys = [file_key(g.seed, name) for name, _ in items]
    audio = parallel_vocoding.vocode(model, params, [f for _, f in items], keys,
                                     max(1, g.chunk_size // model.hop), g.batch_size)
    for sink, x in zip(sinks, audio):
      sink.write(x)


KINDS = (ParallelWaveGANKind(),)
