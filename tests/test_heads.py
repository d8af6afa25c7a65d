"""The continuous output heads against float64 numpy written from the PixelCNN++ formulas,
and their sampling against the distributions' CDFs (Kolmogorov-Smirnov)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats

from wavenet_jax.models import heads

LEVELS = 2**16
HALF = 1.0 / LEVELS  # 16-bit PCM's levels v / 32768 are 2^-15 apart
TOP = 32767 / 32768


def np_log_prob(output, out, x, floor):
  """float64: log P(x's 16-bit bin) = log sum_k w_k (CDF_k(x + half) - CDF_k(x - half)), the
  first bin from -inf, the last to +inf; log scales floored."""
  out, x = np.asarray(out, np.float64), np.asarray(x, np.float64)[..., None]
  if output == 'gaussian':
    logw, means, ls = np.zeros_like(out[..., :1]), out[..., :1], out[..., 1:2]
    cdf = special.ndtr
  else:
    k = out.shape[-1] // 3
    logw = out[..., :k] - special.logsumexp(out[..., :k], axis=-1, keepdims=True)
    means, ls = out[..., k:2 * k], out[..., 2 * k:]
    cdf = special.expit
  inv = np.exp(-np.maximum(ls, floor))
  plus, minus = inv * (x - means + HALF), inv * (x - means - HALF)
  # Each side's mass where it is small: 1 - CDF(z) = CDF(-z) for both distributions.
  interior = np.where(minus > 0, cdf(-minus) - cdf(-plus), cdf(plus) - cdf(minus))
  p = np.where(x <= -1, cdf(plus), np.where(x >= TOP, cdf(-minus), interior))
  with np.errstate(divide='ignore'):  # a far component's mass underflows; the sum does not
    return special.logsumexp(logw + np.log(p), axis=-1)


def _case(output, rng, n=64):
  """Parameters [n, C] and 16-bit levels [n]: interior points near the means, the two edge
  bins, and log scales above, near and below the floor."""
  k = 4 if output == 'logistic_mixture' else 1
  means = rng.uniform(-1.05, 1.05, (n, k))
  log_scales = rng.uniform(-9.0, -1.0, (n, k))
  # Rows 0-5 score the bottom edge bin, 6-11 the top one, each with means a few scales away.
  edge = np.repeat([-1.0, 1.0], 6)[:, None]
  means[:12] = edge * (1 - np.exp(log_scales[:12]) * rng.uniform(-2, 3, (12, k)))
  parts = [means, log_scales] if output == 'gaussian' else [rng.normal(size=(n, k)), means, log_scales]
  out = np.concatenate(parts, axis=-1)
  pick = rng.integers(k, size=n)
  x = means[np.arange(n), pick] + np.exp(log_scales[np.arange(n), pick]) * rng.normal(size=n) * 2
  x[:6] = -1.0
  x[6:12] = TOP
  return out.astype(np.float32), np.asarray(heads.quantize(np.asarray(x, np.float32), xp=np))


@pytest.mark.parametrize('output', ['logistic_mixture', 'gaussian'])
@pytest.mark.parametrize('floor', [-7.0, -12.0])  # -12: Gaussian bins wide against the scale too
def test_log_prob_and_gradient_match_float64(output, floor):
  out, x = _case(output, np.random.default_rng(len(output) - int(floor)))
  got = np.asarray(heads.log_prob(output, jnp.asarray(out), jnp.asarray(x), floor))
  want = np_log_prob(output, out, x, floor)
  assert np.all(np.isfinite(got))
  np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-4)

  # d sum(log P) / d out against central differences of the float64 formula.
  grad = np.asarray(jax.grad(lambda o: jnp.sum(heads.log_prob(output, o, jnp.asarray(x), floor)))(jnp.asarray(out)))
  h, num = 1e-6, np.zeros(out.shape)
  base = out.astype(np.float64)
  for j in range(out.shape[1]):
    step = np.zeros_like(base)
    step[:, j] = h
    num[:, j] = (np_log_prob(output, base + step, x, floor) - np_log_prob(output, base - step, x, floor)) / (2 * h)
  k = out.shape[1] // (2 if output == 'gaussian' else 3)
  log_scales = out[:, -k:]
  clear = np.abs(np.repeat(log_scales - floor, out.shape[1] // k, axis=1)) > 1e-3  # off the floor's kink
  np.testing.assert_allclose(grad[clear], num[clear], rtol=2e-3, atol=2e-3 * np.abs(num).max())
  assert np.all(grad[:, -k:][log_scales < floor] == 0)  # floored scales get no gradient


def test_gaussian_far_tail_of_a_narrow_bin_matches_float64():
  """A level z scales from the mean of a Gaussian at the floor (log scale -7: bins 0.033 of a
  scale wide) and beyond the floor: within float32's 1e-6 relative of scipy's float64 log
  survival function at every z, where the midpoint rule alone is 2 nats off at z = 400."""
  z = np.array([0, 0.5, 1, 2, 3, 4, 5, 5.5, 6, 7, 8, 10, 20, 50, 100, 200, 400, 1000])
  for log_scale in (-7.0, -9.0, -5.0):
    scale = np.exp(max(log_scale, -7.0))
    x = np.round(z * scale * 32768) / 32768  # 16-bit levels
    x = x[x < TOP]
    lo, hi = (x - HALF) / scale, (x + HALF) / scale
    a, b = stats.norm.logsf(lo), stats.norm.logsf(hi)
    want = a + np.log1p(-np.exp(b - a))  # float64, in log space: the tail's mass underflows
    out = jnp.asarray(np.tile([0.0, log_scale], (len(x), 1)), jnp.float32)
    got = np.asarray(heads.log_prob('gaussian', out, jnp.asarray(x, jnp.float32), -7.0), np.float64)
    np.testing.assert_allclose(got, want, rtol=1.5e-6, atol=2e-6)


def test_log_probs_of_all_levels_sum_to_one():
  """Edge bins open to +-inf: the 65,536 levels of 16-bit PCM hold all the probability."""
  np.testing.assert_array_equal(heads.quantize(np.array([-1.5, -1.0, 0.3 / 32768, 0.7 / 32768, 1.0]), xp=np),
                                np.array([-1.0, -1.0, 0.0, 1 / 32768, TOP], np.float32))
  levels = jnp.asarray(np.arange(-LEVELS // 2, LEVELS // 2) / (LEVELS / 2), jnp.float32)
  for output, out in [('logistic_mixture', [0.3, -0.5, 1.0, -0.98, 0.2, 0.97, -5.0, -3.0, -6.5]),
                      ('gaussian', [0.99, -4.0])]:
    p = jnp.exp(heads.log_prob(output, jnp.asarray(out, jnp.float32)[None], levels, -7.0))
    assert abs(float(jnp.sum(p)) - 1) < 1e-4, output


def _mixture_cdf(out, temperature):
  k = len(out) // 3
  w = special.softmax(out[:k])
  s = np.exp(np.maximum(out[2 * k:], -7.0)) * temperature
  return lambda x: sum(w[i] * special.expit((x - out[k + i]) / s[i]) for i in range(k))


@pytest.mark.parametrize('temperature', [1.0, 0.5])
def test_mixture_draws_follow_its_cdf_per_stream_and_batched(temperature):
  streams = np.array([[0.5, -1.0, 0.0, -0.3, 0.2, 0.5, -3.0, -2.0, -4.0],
                      [2.0, 0.0, -3.0, 0.0, -0.5, 0.9, -5.0, -2.5, -1.5]], np.float32)
  n = 100_000
  u = jax.random.uniform(jax.random.key(0), (n, 2))
  draw = jax.jit(lambda o, u: heads.sample('logistic_mixture', o, u, temperature, -7.0))
  batched = np.asarray(draw(jnp.asarray(np.tile(streams, (n, 1))),  # the streams interleaved
                            jnp.repeat(u, 2, axis=0)))
  for i, out in enumerate(streams):
    alone = np.asarray(draw(jnp.broadcast_to(out, (n, 9)), u))
    np.testing.assert_array_equal(alone, batched[i::2])  # a row draws the same beside others
    assert stats.kstest(alone, _mixture_cdf(out, temperature)).pvalue > 0.01, (i, temperature)


def test_gaussian_draws_follow_its_cdf_and_temperature_zero_is_the_mode():
  out, n = np.array([0.1, np.log(0.2)], np.float32), 100_000
  u = jax.random.uniform(jax.random.key(1), (n, 2))
  for t in (1.0, 0.7):
    x = np.asarray(heads.sample('gaussian', jnp.broadcast_to(out, (n, 2)), u, t, -7.0))
    assert stats.kstest(x, stats.norm(0.1, 0.2 * t).cdf).pvalue > 0.01, t
  assert float(heads.sample('gaussian', jnp.asarray(out[None]), u[:1], 0.0, -7.0)[0]) == pytest.approx(0.1, abs=HALF)
  mix = jnp.asarray([[0.0, 2.0, -1.0, -0.4, 0.6, 0.1, -3, -3, -3]], jnp.float32)  # component 1 likeliest
  assert float(heads.sample('logistic_mixture', mix, u[:1], 0.0, -7.0)[0]) == pytest.approx(0.6, abs=HALF)
