"""Every jitted function the toolkit runs on a device, exported for TPU and for CUDA from this CPU.

jax.export lowers a function for a platform it does not have: each kind's train and eval step,
generation's prefill and sampling scan, the vocoders' conditioning, linear prediction and
forward pass, the log-mel features, the NSynth encoder and the classifiers' clip logits, at
test size. A CPU-only op, a host callback in a step or a shape XLA cannot make static fails
here, not on a user's accelerator (the last test shows a callback failing).
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import export

from tests import tiny
from wavenet_jax.kinds import registry
from wavenet_jax.runtime import sharding
from wavenet_jax.training import optim, steps

PLATFORMS = ('tpu', 'cuda')
CLASSES = 3


def exports(fn, *args, **kwargs):
  """fn exported for each platform (jax.export raises on what a platform cannot run)."""
  for platform in PLATFORMS:
    exported = export.export(fn, platforms=(platform,))(*args, **kwargs)
    assert exported.platforms == (platform,)
    assert 'callback' not in exported.mlir_module()


def abstract(tree):
  return jax.tree.map(lambda a: jax.ShapeDtypeStruct(np.shape(a), jnp.asarray(a).dtype), tree)


def _shrunk_nsynth(c):
  c.model.dilations = c.model.encoder.dilations = (1, 2, 4)
  return c


def kind_config(name):
  """A shipped recipe of each kind at test size."""
  from configs import _classifier, demo_vocoder, nsynth_autoencoder
  if name == 'wavenet':
    return tiny.config('')
  if name == 'nsynth_autoencoder':
    return _shrunk_nsynth(nsynth_autoencoder.get_config('tiny'))
  if name in ('nsynth_classifier', 'nsynth_autoencoder_classifier'):
    return _shrunk_nsynth(_classifier.get_config(tiny=True, two_heads=name == 'nsynth_autoencoder_classifier'))
  if name == 'vocoder':
    c = demo_vocoder.get_config()
    c.model.dilations = (1, 2, 4)
    c.model.residual_channels = c.model.dilation_channels = 8
    c.model.skip_channels = 16
    c.data.sample_size = 512
    return c
  if name == 'parallel_wavegan':
    from tests.test_parallel_wavegan import pwg_config
    return pwg_config()
  raise AssertionError(f'no test-size config for the kind {name!r}: add one here')


@functools.cache
def built(name):
  """(kind, config, model, abstract params) of a kind at test size."""
  config = kind_config(name)
  kind = registry.get(name)
  assert registry.name_of(config.model) == name
  model = kind.build(config, kind.num_classes(config, CLASSES))
  params = jax.eval_shape(model.init, jax.random.key(0), *kind.init_inputs(model, config.model))
  return kind, config, model, params


@pytest.mark.parametrize('name', registry.names())
def test_each_kinds_train_and_eval_steps_export(name):
  kind, config, model, params = built(name)
  mesh = sharding.make_mesh()
  tx, schedule = optim.make_optimizer(config)
  state = steps.TrainState(step=jax.ShapeDtypeStruct((), jnp.int32), params=params,
                           opt_state=jax.eval_shape(tx.init, params), ema_params=None,
                           rng=jax.ShapeDtypeStruct((2,), jnp.uint32))
  crop = kind.context(model) + config.data.sample_size + kind.context_after(model)
  b = config.train.batch_size
  batch = {'audio': jax.ShapeDtypeStruct((b, crop), jnp.float32), 'mask': jax.ShapeDtypeStruct((b, crop), jnp.float32),
           'label': jax.ShapeDtypeStruct((b,), jnp.int32)}
  exports(steps.make_train_step(kind, model, config, tx, schedule, mesh), state, batch)
  exports(steps.make_eval_step(kind, model, config, CLASSES, mesh), params, batch)


@pytest.fixture
def recorded(monkeypatch):
  """Wraps the toolkit's module-level jitted functions: each call is exported for every platform
  with its own arguments, then run. -> the set of the names exported."""
  from wavenet_jax.evaluation import clip_scores
  from wavenet_jax.generation import encoding, generate, parallel_vocoding, vocoding
  seen = set()
  for module, name in [(generate, 'prime'), (generate, '_scan'), (generate, '_scan_cpu'), (vocoding, '_condition'),
                       (vocoding, '_filters'), (parallel_vocoding, '_apply'), (encoding, '_apply_encoder'),
                       (clip_scores, '_logits')]:
    def wrapper(*args, jitted=getattr(module, name), label=f'{module.__name__.split(".")[-1]}.{name}', **kwargs):
      exports(jitted, *args, **kwargs)
      seen.add(label.replace('_scan_cpu', '_scan'))
      return jitted(*args, **kwargs)
    monkeypatch.setattr(module, name, wrapper)
  return seen


def concrete(name):
  """(kind, config, model, params) with random params."""
  kind, config, model, _ = built(name)
  return kind, config, model, tiny.random_params(model, *kind.init_inputs(model, config.model))


def test_generation_vocoding_features_and_embeddings_export(recorded):
  """What generate, vocode, encode and the clip scores run, called as they call it."""
  import ml_collections
  from wavenet_jax.generation import encoding, generate, parallel_vocoding, vocoding
  from wavenet_jax.input import mel
  from wavenet_jax.evaluation import clip_scores

  _, _, model, params = concrete('wavenet')  # categorical head, speakers as global conditioning
  keys = jnp.stack([jax.random.key(0), jax.random.key(1)])
  generate.generate(model, params, keys, 3, gc_ids=jnp.asarray([0, 2]))

  _, config, model, params = concrete('vocoder')  # linear prediction, conditioned on log-mels
  frames = np.random.default_rng(0).uniform(-4, 0, (2, 3, model.features.num_mels)).astype(np.float32)
  g = ml_collections.ConfigDict(dict(config.generate, chunk_size=2 * model.hop))
  list(vocoding.draw_chunks(model, params, frames, None, g, config.model.mu_law))
  audio = jnp.zeros((1, 4 * model.hop), jnp.float32)
  exports(jax.jit(mel.log_mel, static_argnums=(1, 2)), audio, model.features, model.sample_rate)

  _, _, model, params = concrete('parallel_wavegan')
  parallel_vocoding.vocode(model, params, list(frames[:, :, :model.features.num_mels]), list(keys), 2, 2)

  _, config, model, params = concrete('nsynth_autoencoder')  # as encoding.encode calls it
  encoding._apply_encoder(model.encoder, params['params']['encoder'], jnp.zeros((1, 4 * model.hop), jnp.float32),
                          model.decoder.quantization_channels)
  kind, config, model, params = concrete('nsynth_classifier')
  clip_scores._logits(kind.clip_logits, model, params, np.zeros((2, config.data.sample_size), np.float32),
                      np.ones((2, config.data.sample_size), np.float32))
  assert recorded >= {'generate.prime', 'generate._scan', 'vocoding._condition', 'vocoding._filters',
                      'parallel_vocoding._apply', 'encoding._apply_encoder', 'clip_scores._logits'}, recorded


def test_a_host_callback_in_a_step_fails_the_export():
  step = jax.jit(lambda x: jax.pure_callback(np.sin, jax.ShapeDtypeStruct((2,), jnp.float32), x))
  with pytest.raises(ValueError):
    exports(step, jnp.ones(2, jnp.float32))
