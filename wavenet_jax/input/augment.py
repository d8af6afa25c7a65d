"""Noise augmentation of crops inside tf.data `map` (the NSynth classifiers trained on noisy clips).

Pure TensorFlow, graph-mode safe, float32 audio [T] with a mask [T] (1 = real sample,
0 = right padding). The noise is a pure function of (audio, mask, seed): every draw is
stateless, so a run, its resumption and any map parallelism see the same noisy crops.

Config fields (`data.augment`, read by `from_config`; DEFAULTS holds the defaults):
  mode         'none' (off) | 'additive' (y = x + n) | 'multiplicative' (y = x·(1 + n)) |
               'both' (multiplicative, then additive; each stage draws its own SNR).
  noise        'gaussian' | 'laplacian' | 'gmm': a zero-mean Gaussian mixture, e.g.
               weights (0.9, 0.1) with stds (1, 5) for rare loud clicks (heavy tails).
  snr_db       (low, high): each example's SNR in dB is drawn uniformly from [low, high].
  gmm_weights  mixture weights, >= 0 and summing to 1 (read for noise='gmm').
  gmm_stds     the components' relative standard deviations, > 0, one per weight.
  splits       names of the splits (as passed to the input pipeline) it applies to.

The SNR is met exactly, not on average: the drawn noise is scaled by its measured power
over the real samples, so 10·log10(Σx²/Σd²) of every clip equals its drawn SNR, where d
is the perturbation (n, or x·n for the multiplicative stage). Both stages of 'both' are
measured against the clean clip, and a stage draws the same noise and SNR as its mode
alone does for that seed: 'both' = the 'multiplicative' clip + the 'additive' noise.

Nothing is clipped to [-1, 1]: clipping would break the SNR, and the mu-law encoder
saturates at ±1 anyway.
"""
import itertools
import math
import numbers

import tensorflow as tf

MODES = ('additive', 'multiplicative', 'both')
NOISES = ('gaussian', 'laplacian', 'gmm')
DEFAULTS = dict(mode='none', noise='gaussian', snr_db=(10.0, 30.0), gmm_weights=(0.9, 0.1),
                gmm_stds=(1.0, 5.0), splits=('train',))

# Tags folded into the caller's seed. The caller's seed itself also drives the crop offset
# (input_pipeline), so every draw here goes through a fold first and never reuses it.
_MULTIPLICATIVE, _ADDITIVE = 1, 2  # Stages.
_SNR, _NOISE, _COMPONENT = 1, 2, 3  # Draws within a stage.
# Pinned rather than 'auto_select', whose choice may follow the device TF runs on.
_ALG = 'philox'


def _fold(seed, tag):
  # An int64 tag makes the first word of the new seed a 64-bit draw; an int32 one would
  # leave 32 random bits, and tens of thousands of examples would share noise.
  return tf.random.experimental.stateless_fold_in(seed, tf.constant(tag, tf.int64), alg=_ALG)


def _is_real(value):
  return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _check_choice(name, value, choices):
  if value not in choices:
    raise ValueError(f'{name}={value!r}: must be one of {choices}')


def _check_snr(snr_db):
  if not isinstance(snr_db, (tuple, list)) or len(snr_db) != 2 or not all(map(_is_real, snr_db)):
    raise ValueError(f'snr_db={snr_db!r}: must be (low, high), two finite numbers of dB')
  low, high = map(float, snr_db)
  if low > high:
    raise ValueError(f'snr_db={snr_db!r}: low must be <= high')
  return low, high


def _check_gmm(weights, stds):
  """-> (weights, stds) as float tuples, the weights renormalised to sum exactly to 1."""
  for name, values in (('gmm_weights', weights), ('gmm_stds', stds)):
    if not isinstance(values, (tuple, list)) or not values or not all(map(_is_real, values)):
      raise ValueError(f'{name}={values!r}: must be a non-empty tuple of finite numbers')
  if len(weights) != len(stds):
    raise ValueError(f'gmm_weights={weights!r} and gmm_stds={stds!r}: must have the same length')
  if min(weights) < 0 or abs(sum(weights) - 1.0) > 1e-6:
    raise ValueError(f'gmm_weights={weights!r}: must be >= 0 and sum to 1')
  if min(stds) <= 0:
    raise ValueError(f'gmm_stds={stds!r}: must be > 0')
  total = float(sum(weights))
  return tuple(float(w) / total for w in weights), tuple(map(float, stds))


def _unit_noise(noise, length, seed, gmm):
  """Zero-mean, unit-variance noise of one kind. [length] float64."""
  if noise == 'gaussian':
    return tf.random.stateless_normal([length], seed, dtype=tf.float64, alg=_ALG)
  if noise == 'laplacian':
    # The difference of two Exponential(1) draws is Laplace(scale 1), variance 2.
    u = tf.random.stateless_uniform([2, length], seed, dtype=tf.float64, alg=_ALG)  # [2, T] in [0, 1)
    exponential = -tf.math.log1p(-u)  # [2, T]; finite since u < 1.
    return (exponential[0] - exponential[1]) / math.sqrt(2.0)
  weights, stds = gmm
  pick = tf.random.stateless_uniform([length], _fold(seed, _COMPONENT), dtype=tf.float64, alg=_ALG)
  # Component k owns [w_0 + … + w_{k-1}, w_0 + … + w_k) of [0, 1).
  edges = tf.constant(list(itertools.accumulate(weights))[:-1], tf.float64)  # [K-1]
  component = tf.searchsorted(edges, pick, side='right')  # [T] in [0, K)
  scale = tf.gather(tf.constant(stds, tf.float64), component)  # [T]
  gaussian = tf.random.stateless_normal([length], _fold(seed, _NOISE), dtype=tf.float64, alg=_ALG)
  return scale * gaussian / math.sqrt(sum(w * s * s for w, s in zip(weights, stds)))


def _perturbation(base, signal_power, seed, noise, snr_db, gmm):
  """base · noise, scaled so that signal_power / its power is the drawn SNR. [T] float64.

  `base` is the mask for additive noise and the masked clip for multiplicative noise.
  """
  low, high = snr_db
  snr = tf.random.stateless_uniform([], _fold(seed, _SNR), minval=low, maxval=high,
                                    dtype=tf.float64, alg=_ALG)
  drawn = base * _unit_noise(noise, tf.shape(base)[0], _fold(seed, _NOISE), gmm)  # [T]
  power = tf.reduce_sum(tf.square(drawn))
  # divide_no_nan: a silent clip gets a zero gain, not 0/0, and so comes back as it was.
  gain = tf.sqrt(tf.math.divide_no_nan(signal_power, power * 10.0 ** (snr / 10.0)))
  return gain * drawn


def add_noise(audio, mask, *, seed, mode, noise, snr_db, gmm_weights=DEFAULTS['gmm_weights'],
              gmm_stds=DEFAULTS['gmm_stds']):
  """audio [T] f32, mask [T] f32, seed [2] int -> noisy audio [T] f32 (see the module doc).

  Padding (mask 0) comes back untouched and takes no part in any power; a clip without
  signal power comes back unchanged. Bad options raise ValueError before any op is built.
  """
  _check_choice('mode', mode, MODES)
  _check_choice('noise', noise, NOISES)
  snr_db = _check_snr(snr_db)
  gmm = _check_gmm(gmm_weights, gmm_stds)
  # float64 so that the measured powers, and with them the SNR, are exact up to the
  # final rounding to float32.
  x = tf.cast(audio, tf.float64)  # [T]
  m = tf.cast(mask, tf.float64)  # [T]
  seed = tf.cast(seed, tf.int64)
  signal_power = tf.reduce_sum(m * tf.square(x))
  y = x
  if mode in ('multiplicative', 'both'):
    y += _perturbation(m * x, signal_power, _fold(seed, _MULTIPLICATIVE), noise, snr_db, gmm)
  if mode in ('additive', 'both'):
    y += _perturbation(m, signal_power, _fold(seed, _ADDITIVE), noise, snr_db, gmm)
  return tf.cast(y, tf.float32)


def _settings(cfg):
  """ConfigDict or dict -> every field, defaults filled in and validated.

  Every message starts with the field's name, so a caller can prefix the config path.
  """
  given = dict(cfg.items())
  for key in given:
    if key not in DEFAULTS:
      raise ValueError(f'{key}: unknown field (known: {", ".join(DEFAULTS)})')
  s = {**DEFAULTS, **given}
  _check_choice('mode', s['mode'], ('none',) + MODES)
  _check_choice('noise', s['noise'], NOISES)
  s['snr_db'] = _check_snr(s['snr_db'])
  s['gmm_weights'], s['gmm_stds'] = _check_gmm(s['gmm_weights'], s['gmm_stds'])
  splits = s['splits']
  # A bare string would pass `split in splits` for any substring of it.
  if not isinstance(splits, (tuple, list)) or not all(isinstance(x, str) for x in splits):
    raise ValueError(f'splits={splits!r}: must be a tuple of split names')
  return s


def from_config(cfg):
  """Validated `data.augment` config -> None when off, else (audio, mask, seed) -> audio."""
  s = _settings(cfg)
  if s['mode'] == 'none':
    return None
  options = {k: s[k] for k in ('mode', 'noise', 'snr_db', 'gmm_weights', 'gmm_stds')}

  def augment(audio, mask, seed):
    return add_noise(audio, mask, seed=seed, **options)

  return augment


def applies_to(cfg, split) -> bool:
  """Whether crops of `split` are augmented under `cfg`."""
  s = _settings(cfg)
  return s['mode'] != 'none' and split in s['splits']
