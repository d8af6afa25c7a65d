"""The NSynth autoencoder: encoder against numpy float64, hop, and the one rule for its decoder."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests import tiny as tiny_helpers
from wavenet_jax.generation import generate
from wavenet_jax.input import audio
from wavenet_jax.models import nsynth


def tiny(hop=16):
  c = nsynth.tiny_config()
  c.dilations = c.encoder.dilations = (1, 2, 4)
  c.encoder.hop = hop
  return nsynth.from_config(c)


def audio_batch(b, t, seed=0):
  rng = np.random.default_rng(seed)
  n = np.arange(t)
  return (0.5 * np.sin(2 * np.pi * rng.uniform(0.01, 0.05, (b, 1)) * n)
          + 0.05 * rng.normal(size=(b, t))).astype(np.float32)


def np_encoder(p, scaled, enc):
  """magenta's encoder equations in float64 numpy: 'SAME' dilated convs written as shifts."""
  p = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), p)

  def conv(x, kernel, bias, d):  # non-causal: tap j reads x[t + (j - (k-1)/2)·d]
    k = kernel.shape[0]
    t = x.shape[1]
    out = np.zeros(x.shape[:2] + (kernel.shape[2],))
    for j in range(k):
      lag = (j - (k - 1) // 2) * d
      shifted = np.zeros_like(x)
      if lag >= 0:
        shifted[:, :t - lag] = x[:, lag:]
      else:
        shifted[:, -lag:] = x[:, :t + lag]
      out += shifted @ kernel[j]
    return out + bias

  en = conv(np.asarray(scaled, np.float64)[..., None], p['start']['kernel'], p['start']['bias'], 1)
  for i, d in enumerate(enc.dilations):
    h = conv(np.maximum(en, 0), p[f'dilated_{i}']['kernel'], p[f'dilated_{i}']['bias'], d)
    en = en + np.maximum(h, 0) @ p[f'res_{i}']['kernel'] + p[f'res_{i}']['bias']
  en = en @ p['bottleneck']['kernel'] + p['bottleneck']['bias']
  b, t, e = en.shape
  return en.reshape(b, t // enc.hop, enc.hop, e).mean(2)


def init(model, x):
  return tiny_helpers.random_params(model, jnp.asarray(x), seed=1, scale=0.2)


def test_encoder_shape_hop_and_numbers():
  model = tiny(hop=16)
  x = audio_batch(2, 96)
  params = init(model, x)
  logits, classes, en = tiny_helpers.apply(model, params, jnp.asarray(x))
  assert en.shape == (2, 96 // 16, 4) and logits.shape == (2, 96, 256) and classes.shape == (2, 96)
  scaled = audio.nsynth_scalar(audio.mu_law_encode(x, 256, 'nsynth'), 256)
  want = np_encoder(params['params']['encoder'], scaled, model.encoder)
  np.testing.assert_allclose(np.asarray(en), want, atol=1e-4, rtol=1e-4)
  with pytest.raises(ValueError, match='not a multiple'):
    tiny_helpers.apply(model, params, jnp.asarray(x[:, :90]))


def test_decoder_is_causal_and_follows_the_embedding():
  model = tiny(hop=16)
  x = audio_batch(1, 64)
  params = init(model, x)
  logits, classes, en = tiny_helpers.apply(model, params, jnp.asarray(x))
  scaled = audio.nsynth_scalar(classes, 256, xp=jnp)
  # Sample t's logits do not see sample t (nor later ones): the input is shifted right.
  changed = scaled.at[:, 40].set(-scaled[:, 40] + 0.5)
  other = tiny_helpers.apply(model, params, changed, en, method=nsynth.Autoencoder.decode)
  np.testing.assert_allclose(np.asarray(other[:, :41]), np.asarray(logits[:, :41]), atol=1e-5)
  assert np.abs(np.asarray(other[:, 41:] - logits[:, 41:])).max() > 1e-3
  # Frame f of the embedding conditions exactly the samples [f·hop, (f+1)·hop).
  moved = en.at[:, 2].add(1.0)
  again = tiny_helpers.apply(model, params, scaled, moved, method=nsynth.Autoencoder.decode)
  diff = np.abs(np.asarray(again - logits)).max(-1)[0]
  assert diff[:32].max() < 1e-5 and diff[32:48].min() > 1e-4


def test_generation_from_an_embedding_equals_the_forward_pass():
  """Synthesis (LC inside the scan, from one zero input) re-scored by the teacher-forced decoder."""
  model = tiny(hop=16)
  x = audio_batch(2, 64)
  params = init(model, x)
  _, _, en = tiny_helpers.apply(model, params, jnp.asarray(x))
  dec, dec_params = model.decoder, {'params': params['params']['decoder']}
  lc = nsynth.upsample(en, 16)  # [B, 64, E]
  keys = jax.random.split(jax.random.key(0), 2)
  start = jnp.zeros((2, 1), jnp.float32)
  out = generate.generate(dec, dec_params, keys, 64, None, 0.0, 'nsynth', start, lc=lc)
  scaled = audio.nsynth_scalar(out, 256, xp=jnp)
  # The forward pass at generation's precision (generate.full_precision; a GPU's default is TF32).
  logits = generate.full_precision(tiny_helpers.apply)(model, params, scaled, en,
                                                       method=nsynth.Autoencoder.decode)
  np.testing.assert_array_equal(np.asarray(out), np.asarray(jnp.argmax(logits, -1)))
  # Teacher forcing through the queues gives the forward logits at every position.
  stepped, _ = generate.step_through(dec, dec_params, nsynth.decoder_inputs(scaled), None, lc)
  assert float(jnp.max(jnp.abs(stepped - logits))) <= 1e-4
  sampled = generate.generate(dec, dec_params, keys, 64, None, 1.0, 'nsynth', start, lc=lc)
  other = generate.generate(dec, dec_params, keys, 64, None, 1.0, 'nsynth', start, lc=lc[::-1])
  assert not np.array_equal(np.asarray(sampled), np.asarray(other))  # output depends on embedding


def test_full_size_h512_bo16_shapes():
  model = nsynth.from_config(nsynth.h512_bo16_config())
  shapes = jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, 1024)))['params']
  assert shapes['encoder']['start']['kernel'].shape == (3, 1, 128)
  assert shapes['encoder']['bottleneck']['kernel'].shape == (128, 16)
  assert shapes['decoder']['layer_29']['filter_gate']['kernel'].shape == (3, 512, 1024)
  assert shapes['decoder']['skip_kernel'].shape == (30, 512, 256)
  assert shapes['decoder']['lc_proj'].shape == (30, 16, 1024)
  assert model.decoder.receptive_field == 2 * sum(nsynth.H512_DILATIONS) + 1 + 2


def test_tiny_autoencoder_config_trains_and_evaluates(tmp_path):
  from configs import nsynth_autoencoder
  from tests import tiny as tiny_helpers
  from wavenet_jax.apps import train
  data_dir = tiny_helpers.build_demo(str(tmp_path / 'demo'))
  c = nsynth_autoencoder.get_config('tiny')
  c.data.source = data_dir
  c.train.num_train_steps = 40
  c.train.log_every_steps = 10
  c.train.checkpoint_every_steps = 20
  metrics = train.train_and_evaluate(c, str(tmp_path / 'run'))
  losses = tiny_helpers.read_scalars(str(tmp_path / 'run'), 'train/loss')
  assert losses[40] < losses[10] - 0.5, losses  # nats: it learns to reconstruct
  assert metrics['bits_per_sample'] < 8.0 and len(metrics['bits_per_sample_per_class']) == 6
  c.data.sample_size = 1000
  with pytest.raises(ValueError, match='multiple of model.encoder.hop=64'):
    train.train_and_evaluate(c, str(tmp_path / 'bad'))
