"""The vocoder kind: a training crop's features and conditioning are the whole clip's, generation
steps through the upsampled conditioning as the forward pass reads it, and it trains."""
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from tests import tiny
from wavenet_jax.common.config_checks import ConfigError
from wavenet_jax.generation import generate
from wavenet_jax.input import mel
from wavenet_jax.kinds import registry
from wavenet_jax.kinds import vocoder as vocoder_kind
from wavenet_jax.kinds import wavenet as wavenet_kind
from wavenet_jax.models import vocoder

HOP = 16


def config(data_dir='', output='categorical', mode='stretch_conv', lookahead=1):
  c = tiny.config(data_dir)
  c.model.kind = 'vocoder'
  c.model.mel = mel.default_config()
  c.model.mel.update(dict(num_mels=8, n_fft=64, hop=HOP, win_length=48, fmin=0.0, fmax=8000.0))
  c.model.upsample = ml_collections.ConfigDict(dict(scales=(4, 4), mode=mode, lookahead=lookahead, freq_kernel=1))
  c.data.sample_size = 4 * HOP
  if output != 'categorical':
    c.model.output, c.model.scalar_input, c.model.initial_filter_width = output, True, 3
  return c


def _model(c, seed=0):
  model = registry.of(c.model).build(c, 3)
  params = model.init(jax.random.key(seed), *vocoder_kind.init_inputs(model, c.model))
  # Spread the upsampler's stage taps so a wrong alignment cannot hide behind the average.
  params = jax.tree_util.tree_map_with_path(
      lambda path, p: p * (1 + 0.5 * jnp.sin(jnp.arange(p.size).reshape(p.shape)))
      if 'stage' in jax.tree_util.keystr(path) else p, params)
  return model, params


def _speech(n, seed=0):
  rng = np.random.default_rng(seed)
  t = np.arange(n)
  return (0.4 * np.sin(2 * np.pi * 0.013 * t * (1 + t / n)) * (np.sin(2 * np.pi * t / 300) > -0.3)
          + 0.03 * rng.normal(size=n)).astype(np.float32)


@pytest.mark.parametrize('output,mode', [('categorical', 'stretch_conv'), ('logistic_mixture', 'transposed'),
                                         ('gaussian', 'repeat')])
def test_a_crops_loss_is_the_whole_clips_at_those_samples(output, mode):
  """kind.nll_per_target on a crop (its frames from its own context) equals the model run over
  the whole clip (frames of the whole file, zeros beyond it) at the crop's samples: inside
  the clip, and at its end where the context runs past it."""
  c = config(output=output, mode=mode)
  model, params = _model(c)
  x = _speech(60 * HOP)
  margin = model.margin * HOP
  frames = mel.log_mel(jnp.asarray(np.pad(x, (margin, margin))[None]), model.features, model.sample_rate)
  inputs, targets = wavenet_kind.model_inputs(c.model, jnp.asarray(np.pad(x, (1, 0))[None]))
  whole = model.apply(params, inputs[:, :-1], frames, jnp.asarray([1]))  # [1, T, C]
  whole_nll = np.asarray(wavenet_kind.target_nll(model.decoder, whole, targets[:, 1:]))[0]

  before, after = vocoder.crop_context(model)
  padded = np.pad(x, (before, after))
  size = c.data.sample_size
  for start in (30 * HOP, len(x) - size):
    crop = padded[start:start + before + size + after]
    mask = (np.arange(len(crop)) < before + len(x) - start).astype(np.float32)
    batch = {'audio': jnp.asarray(crop[None]), 'mask': jnp.asarray(mask[None]), 'label': jnp.asarray([1])}
    nll, kept = vocoder_kind.nll_per_target(model, c.model, params, batch)
    np.testing.assert_allclose(np.asarray(nll)[0], whole_nll[start:start + size], rtol=1e-4, atol=1e-4)
    assert np.all(np.asarray(kept) == 1)


def test_generation_steps_through_the_upsampled_conditioning_as_the_forward_pass():
  c = config(output='logistic_mixture')
  model, params = _model(c, seed=1)
  frames = jnp.asarray(np.random.default_rng(0).uniform(size=(2, 6 + 2 * model.margin, 8)), jnp.float32)
  x = jnp.asarray(np.random.default_rng(1).uniform(-0.5, 0.5, (2, 6 * HOP)), jnp.float32)
  gc = jnp.asarray([0, 2])
  full = generate.full_precision(model.apply)(params, x, frames, gc)
  lc = model.apply(params, frames, method=vocoder.Vocoder.condition)
  decoder_params = {'params': params['params']['decoder']}
  stepped, _ = generate.step_through(model.decoder, decoder_params, x, gc, lc)
  assert float(jnp.max(jnp.abs(full - stepped))) <= 1e-4


def test_trains_through_the_pipeline(tmp_path):
  from wavenet_jax.apps import train
  demo_dir = tiny.build_demo(str(tmp_path / 'demo'))
  c = config(str(demo_dir), output='logistic_mixture')
  metrics = train.train_and_evaluate(c, str(tmp_path / 'run'))
  assert np.isfinite(metrics['bits_per_sample']) and metrics['targets'] > 0


@pytest.mark.parametrize('key,value,needle', [
    ('model.upsample.scales', (4, 2), 'their product must be model.mel.hop=16'),
    ('model.upsample.mode', 'linear', "model.upsample.mode='linear'"),
    ('data.sample_size', 40, 'data.sample_size=40'),
    ('model.mel.fmax', 9000.0, 'fmax (9000.0)'),
])
def test_bad_settings_fail_in_one_line(key, value, needle):
  c = config()
  *path, name = key.split('.')
  node = c
  for part in path:
    node = node[part]
  node[name] = value
  with pytest.raises(ConfigError) as e:
    vocoder_kind.check(c)
  assert needle in str(e.value) and '\n' not in str(e.value)
