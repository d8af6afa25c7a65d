"""augment: exact SNRs, the noise distributions, masks, determinism and option checks.

Everything is measured in numpy (float64) from what add_noise returns: the perturbation
is y − x, and the multiplicative noise (y − x) / x. Tolerances on sample statistics come
from the sample size (delta-method standard errors), not from observed runs.
"""
import functools
import math

import ml_collections
import numpy as np
import pytest
import scipy.stats
import tensorflow as tf

from wavenet_jax.input import augment

GMM = dict(gmm_weights=(0.9, 0.1), gmm_stds=(1.0, 5.0))
KINDS = ('gaussian', 'laplacian', 'gmm')
LONG = 200_000  # Samples behind each distribution check: sd(excess kurtosis) ≈ 0.01–0.2.
Z = 5.0  # Standard errors allowed on a sample statistic.


@functools.lru_cache(maxsize=None)
def compiled(mode, noise, snr_db):
  """One traced add_noise per option set: a trace costs ~0.3 s, a call ~1 ms (eager ~20 ms)."""
  spec = [tf.TensorSpec([None], tf.float32), tf.TensorSpec([None], tf.float32),
          tf.TensorSpec([2], tf.int64)]
  return tf.function(lambda x, m, s: augment.add_noise(x, m, seed=s, mode=mode, noise=noise,
                                                       snr_db=snr_db, **GMM),
                     input_signature=spec, autograph=False)


def noisy(x, mask, seed, mode, noise, snr_db, traced=False):
  """add_noise(x) as float64 numpy; `traced` for loops over hundreds of seeds."""
  seed = np.asarray(seed, np.int64)
  if traced:
    y = compiled(mode, noise, tuple(snr_db))(x, mask, seed)
  else:
    y = augment.add_noise(x, mask, seed=seed, mode=mode, noise=noise, snr_db=snr_db, **GMM)
  y = y.numpy()
  assert y.dtype == np.float32 and y.shape == x.shape
  return y.astype(np.float64)


def clip(length, padding=0, seed=0):
  """Random float32 audio bounded away from 0 (so (y − x) / x is exact), padded with 0."""
  rng = np.random.default_rng(seed)
  x = (rng.uniform(0.05, 0.9, length) * rng.choice([-1.0, 1.0], length)).astype(np.float32)
  mask = np.ones(length, np.float32)
  x[length - padding:] = 0.0
  mask[length - padding:] = 0.0
  return x, mask


def snr_db(x, perturbation, mask):
  keep = mask > 0
  x = x.astype(np.float64)
  return 10.0 * math.log10(np.sum(x[keep] ** 2) / np.sum(perturbation[keep] ** 2))


def stages(x, mask, seed, mode, noise, snr_range, traced=False):
  """-> {stage: perturbation} of one call; 'both' is split by the documented identity."""
  y = noisy(x, mask, seed, mode, noise, snr_range, traced)
  if mode != 'both':
    return {mode: y - x}
  y_mult = noisy(x, mask, seed, 'multiplicative', noise, snr_range, traced)
  return {'multiplicative': y_mult - x, 'additive': y - y_mult}


def unit_moments(noise):
  """Standardised 4th, 6th and 8th moments of each unit-variance noise kind."""
  if noise == 'laplacian':  # E x^2k = (2k)! b^2k with b² = 1/2.
    return 24 / 4, 720 / 8, 40320 / 16
  weights, stds = (np.asarray(GMM['gmm_weights']), np.asarray(GMM['gmm_stds'])) if noise == 'gmm' \
      else (np.ones(1), np.ones(1))
  var = np.sum(weights * stds**2)
  # A zero-mean Gaussian's E x^2k is (2k − 1)!! σ^2k; a mixture averages them.
  return tuple(double_factorial * np.sum(weights * stds**(2 * k)) / var**k
               for k, double_factorial in ((2, 3), (3, 15), (4, 105)))


def kurtosis_sd(noise, n):
  """Delta-method standard error of the sample excess kurtosis m4 / m2² (symmetric noise)."""
  m4, m6, m8 = unit_moments(noise)
  return math.sqrt(((m8 - m4**2) - 4 * m4 * (m6 - m4) + 4 * m4**2 * (m4 - 1)) / n)


def unit_cdf(noise):
  if noise == 'gaussian':
    return scipy.stats.norm.cdf
  if noise == 'laplacian':
    return scipy.stats.laplace(scale=1 / math.sqrt(2)).cdf
  weights, stds = np.asarray(GMM['gmm_weights']), np.asarray(GMM['gmm_stds'])
  stds = stds / math.sqrt(np.sum(weights * stds**2))
  return lambda t: np.sum(weights * scipy.stats.norm.cdf(np.asarray(t)[:, None] / stds), axis=1)


@pytest.mark.parametrize('mode', augment.MODES)
@pytest.mark.parametrize('noise', KINDS)
def test_measured_snr_lies_in_range_and_spreads_uniformly(mode, noise):
  low, high = -5.0, 25.0
  x, mask = clip(2000, padding=300)
  measured = {}
  for i in range(200):
    for stage, d in stages(x, mask, (7, i), mode, noise, (low, high), traced=True).items():
      measured.setdefault(stage, []).append(snr_db(x, d, mask))
  for stage, snrs in measured.items():
    snrs = np.asarray(snrs)
    assert low - 1e-3 <= snrs.min() and snrs.max() <= high + 1e-3, stage
    # 200 uniform draws leave the outer 5% of the range empty with probability 0.95^200 ≈ 4e-5.
    assert snrs.min() < low + 0.05 * (high - low) and snrs.max() > high - 0.05 * (high - low), stage
    assert scipy.stats.kstest(snrs, scipy.stats.uniform(low, high - low).cdf).pvalue > 1e-3, stage
  if mode == 'both':  # The stages draw their SNRs independently; sd(r) ≈ 1/√200.
    assert abs(np.corrcoef(measured['multiplicative'], measured['additive'])[0, 1]) < Z / math.sqrt(200)


@pytest.mark.parametrize('mode', augment.MODES)
@pytest.mark.parametrize('noise', KINDS)
def test_fixed_snr_is_met_exactly_not_on_average(mode, noise):
  # 500 samples of gmm noise have a power several % off its expectation (≫ 1e-3 dB): only
  # scaling by the measured power meets the target on every clip.
  x, mask = clip(500, padding=100, seed=1)
  for i, target in enumerate([-10.0, 40.0, 0.0, 17.3] * 2):
    for stage, d in stages(x, mask, (3, i), mode, noise, (target, target)).items():
      assert snr_db(x, d, mask) == pytest.approx(target, abs=1e-3), (stage, target)


def test_both_is_multiplicative_clip_plus_additive_noise():
  x, mask = clip(3000, padding=200, seed=2)
  for noise in KINDS:
    for i in range(3):
      y = {mode: noisy(x, mask, (11, i), mode, noise, (0.0, 20.0)) for mode in augment.MODES}
      # float32 rounding of three outputs of magnitude < ~5.
      np.testing.assert_allclose(y['both'], y['multiplicative'] + (y['additive'] - x), atol=2e-6)


@pytest.mark.parametrize('mode', ['additive', 'multiplicative'])
@pytest.mark.parametrize('noise', KINDS)
def test_recovered_noise_has_the_kind_s_distribution(mode, noise):
  x, mask = clip(LONG, seed=3)
  y = noisy(x, mask, (5, 0), mode, noise, (10.0, 10.0))
  n = (y - x) if mode == 'additive' else (y - x) / x.astype(np.float64)
  unit = n / n.std()
  assert abs(unit.mean()) < Z / math.sqrt(LONG)
  expected_excess = unit_moments(noise)[0] - 3.0  # 0, 3 and ≈ 13.45 for the default mixture.
  excess = scipy.stats.kurtosis(unit)
  assert excess == pytest.approx(expected_excess, abs=Z * kurtosis_sd(noise, LONG))
  # The whole shape, not just four moments (scale estimated, so the test is conservative).
  assert scipy.stats.kstest(unit, unit_cdf(noise)).pvalue > 1e-3


def test_kurtosis_checks_tell_the_kinds_apart():
  # The tolerances above are narrow enough to fail on the wrong kind of noise.
  excess = {noise: unit_moments(noise)[0] - 3.0 for noise in KINDS}
  for a in KINDS:
    for b in KINDS:
      if a != b:
        assert abs(excess[a] - excess[b]) > 2 * Z * kurtosis_sd(a, LONG)
  assert excess['gaussian'] == pytest.approx(0.0) and excess['laplacian'] == pytest.approx(3.0)
  # 3·Σ w s⁴ / (Σ w s²)² − 3 for weights (0.9, 0.1), stds (1, 5).
  assert excess['gmm'] == pytest.approx(3 * (0.9 + 0.1 * 625) / (0.9 + 0.1 * 25) ** 2 - 3)


@pytest.mark.parametrize('mode', augment.MODES)
def test_padding_stays_zero_and_is_left_out_of_the_snr(mode):
  x, mask = clip(1000, padding=400, seed=4)
  for i in range(5):
    y = noisy(x, mask, (1, i), mode, 'gmm', (6.0, 6.0))
    assert np.all(y[mask == 0] == 0.0)
    if mode != 'both':  # Noise spread over the padding as well would read ~ +4 dB here.
      assert snr_db(x, y - x, mask) == pytest.approx(6.0, abs=1e-3)


@pytest.mark.parametrize('mode', augment.MODES)
@pytest.mark.parametrize('noise', KINDS)
def test_a_silent_clip_comes_back_unchanged(mode, noise):
  silent = np.zeros(800, np.float32)
  for mask in (np.ones(800, np.float32), np.zeros(800, np.float32)):
    y = noisy(silent, mask, (0, 0), mode, noise, (0.0, 10.0))
    assert np.all(y == 0.0)
  # Silence inside a loud clip: no 0/0, and multiplicative noise leaves it silent.
  x, mask = clip(800, seed=5)
  x[100:300] = 0.0
  y = noisy(x, mask, (0, 1), mode, noise, (0.0, 10.0))
  assert np.all(np.isfinite(y))
  if mode == 'multiplicative':
    assert np.all(y[100:300] == 0.0)


@pytest.mark.parametrize('mode', augment.MODES)
@pytest.mark.parametrize('noise', KINDS)
def test_same_seed_same_noise_and_different_seeds_differ(mode, noise):
  x, mask = clip(5000, seed=6)
  run = lambda seed: noisy(x, mask, seed, mode, noise, (10.0, 10.0)) - x
  np.testing.assert_array_equal(run((3, 4)), run((3, 4)))
  # Traced calls (as in tf.data) build the same ops as eager ones.
  np.testing.assert_array_equal(noisy(x, mask, (3, 4), mode, noise, (10.0, 10.0), traced=True) - x,
                                run((3, 4)))
  for other in ((3, 5), (4, 4)):  # Example index and config seed both count.
    r = np.corrcoef(run((3, 4)), run(other))[0, 1]
    assert abs(r) < Z / math.sqrt(x.size)


def test_parallel_map_matches_a_sequential_map():
  length, count, config_seed = 3000, 12, 9
  clips = np.stack([clip(length, padding=37 * i, seed=100 + i)[0] for i in range(count)])
  masks = np.stack([clip(length, padding=37 * i, seed=100 + i)[1] for i in range(count)])
  fn = augment.from_config(dict(mode='both', noise='gmm', snr_db=(0.0, 20.0)))

  def element(index, example):
    audio, mask = example
    seed = tf.stack([tf.constant(config_seed, tf.int64), index])
    return index, fn(audio, mask, seed)

  def outputs(**map_options):
    ds = tf.data.Dataset.from_tensor_slices((clips, masks)).enumerate().map(element, **map_options)
    return dict(ds.as_numpy_iterator())

  sequential = outputs()
  # deterministic=False: elements may come back in any order, each must still match.
  parallel = outputs(num_parallel_calls=tf.data.AUTOTUNE, deterministic=False)
  assert sorted(parallel) == list(range(count))
  for i in range(count):
    np.testing.assert_array_equal(parallel[i], sequential[i])
    assert not np.array_equal(sequential[i], clips[i])
  assert not np.array_equal(sequential[0], sequential[1])


@pytest.mark.parametrize('options, name', [
    (dict(mode='bogus'), 'mode'),
    (dict(mode='none'), 'mode'),  # 'none' belongs to the config, not to add_noise.
    (dict(noise='pink'), 'noise'),
    (dict(snr_db=(30.0, 10.0)), 'snr_db'),
    (dict(snr_db=(10.0,)), 'snr_db'),
    (dict(snr_db=(0.0, float('inf'))), 'snr_db'),
    (dict(gmm_weights=(0.5, 0.6)), 'gmm_weights'),
    (dict(gmm_weights=(1.1, -0.1)), 'gmm_weights'),
    (dict(gmm_weights=(1.0,)), 'gmm_weights'),  # Two stds.
    (dict(gmm_stds=(1.0, -5.0)), 'gmm_stds'),
    (dict(gmm_stds=()), 'gmm_stds'),
])
def test_bad_options_raise_a_one_line_error_naming_them(options, name):
  kwargs = dict(seed=tf.constant([0, 0], tf.int64), mode='additive', noise='gmm', snr_db=(0.0, 1.0),
                **GMM)
  kwargs.update(options)
  with pytest.raises(ValueError, match=name) as info:
    augment.add_noise(np.zeros(4, np.float32), np.ones(4, np.float32), **kwargs)
  assert '\n' not in str(info.value)
  if options != dict(mode='none'):
    with pytest.raises(ValueError, match=f'^{name}'):
      augment.from_config(options)


def test_from_config_and_applies_to():
  assert augment.from_config(ml_collections.ConfigDict(augment.DEFAULTS)) is None
  assert augment.from_config({}) is None  # Every field has a default; mode 'none' = off.
  cfg = ml_collections.ConfigDict(dict(augment.DEFAULTS, mode='additive', noise='laplacian',
                                       snr_db=(12.0, 12.0), splits=('train', 'extra')))
  fn = augment.from_config(cfg)
  x, mask = clip(1000, padding=10, seed=7)
  seed = tf.constant([2, 3], tf.int64)
  np.testing.assert_array_equal(
      fn(x, mask, seed).numpy(),
      augment.add_noise(x, mask, seed=seed, mode='additive', noise='laplacian', snr_db=(12, 12)).numpy())
  assert augment.applies_to(cfg, 'train') and augment.applies_to(cfg, 'extra')
  assert not augment.applies_to(cfg, 'validation')
  assert not augment.applies_to(dict(splits=('train',)), 'train')  # Off.
  with pytest.raises(ValueError, match='^splits'):
    augment.applies_to(dict(mode='additive', splits='train'), 'rain')
  with pytest.raises(ValueError, match='^snr: unknown field'):
    augment.from_config(dict(mode='additive', snr=(0, 1)))
