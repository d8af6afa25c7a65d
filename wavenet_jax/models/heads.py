"""Output distributions of a decoder: what its last 1x1 conv's channels mean.

categorical       Q logits over mu-law classes (ibab, NSynth; 8-bit at Q = 256).
logistic_mixture  3K channels, [logits K | means K | log scales K]: a mixture of K logistics
                  discretized over the 2^16 levels of 16-bit audio, the edge bins open to
                  +-inf (PixelCNN++, Salimans et al. 2017; r9y9/wavenet_vocoder, Parallel WaveNet).
gaussian          2 channels, [mean | log scale]: one Gaussian discretized the same way (ClariNet).

The levels are 16-bit PCM's, v / 32768 for v in [-32768, 32767] (-1 to 1 - 2^-15), so audio
read from a 16-bit file is on them exactly and generated audio writes to one losslessly
(PixelCNN++'s 2^16 levels spanning [-1, 1] exactly fall between PCM's).

Log scales are floored at `log_scale_min` (r9y9's default -7). A bin's mass is computed in a
form that stays exact in float32 where PixelCNN++'s cdf difference loses digits at 16 bits
(a bin is 3e-5 wide): for the logistic sigma(b) - sigma(a) = sigma(b) sigma(-a) (1 - e^(a-b));
for the Gaussian log_ndtr on the bin's left tail side, or the midpoint rule with its second
order term when the bin is narrow against the scale.
"""
import jax
import jax.numpy as jnp
from jax.scipy.special import log_ndtr, ndtri

from wavenet_jax.common.config_checks import ConfigError

OUTPUTS = ('categorical', 'logistic_mixture', 'gaussian')
LEVELS = 2**16  # the continuous heads' resolution: 16-bit audio
HALF_BIN = 1.0 / LEVELS  # levels are 2^-15 apart
TOP = 1.0 - 2.0 / LEVELS  # the highest level, 32767 / 32768
_NARROW = 0.05  # Gaussian: bin width / scale below which the midpoint rule is used...
_NARROW_TAIL = 0.2  # ...while |midpoint / scale| * that width is below this (the rule's error < 1e-6)


def continuous(output: str) -> bool:
  return output != 'categorical'


def check_sampling(output: str, g) -> None:
  """config.generate against the head: top_k, top_p and guidance cut a categorical
  distribution, so a continuous head refuses them (one line, before anything compiles)."""
  if not continuous(output):
    return
  for key, off in (('top_k', 0), ('top_p', 1.0), ('guidance', 1.0)):
    if g.get(key, off) != off:
      raise ConfigError(f'generate.{key}={g[key]!r}: a cut of the categorical head; the {output} head '
                        'samples with generate.temperature only')


def channels(output: str, quantization_channels: int, num_mixtures: int) -> int:
  """The decoder's output channels for a head."""
  return {'categorical': quantization_channels, 'logistic_mixture': 3 * num_mixtures,
          'gaussian': 2}[output]


def quantize(x, xp=jnp):
  """Float audio -> the centre of its 16-bit level in [-1, 1] (float32): what a 16-bit wav
  holds, what the continuous heads are scored on and what generation feeds back."""
  v = xp.clip(xp.round(xp.asarray(x, xp.float32) * (LEVELS / 2)), -LEVELS / 2, LEVELS / 2 - 1)
  return (v * (2.0 / LEVELS)).astype(xp.float32)


def _split(out, output, log_scale_min):
  """out [..., C] -> (log weights [..., K], means [..., K], log scales [..., K], floored)."""
  if output == 'gaussian':
    means, log_scales = out[..., :1], out[..., 1:2]
    log_weights = jnp.zeros_like(means)
  else:
    k = out.shape[-1] // 3
    log_weights = jax.nn.log_softmax(out[..., :k], axis=-1)
    means, log_scales = out[..., k:2 * k], out[..., 2 * k:]
  return log_weights, means, jnp.maximum(log_scales, log_scale_min)


def _logistic_log_mass(x, means, log_scales):
  inv = jnp.exp(-log_scales)
  upper = inv * (x - means + HALF_BIN)  # [..., K]
  lower = inv * (x - means - HALF_BIN)
  width = inv * (2 * HALF_BIN)  # = upper - lower, without the cancellation
  interior = -jax.nn.softplus(-upper) - jax.nn.softplus(lower) + jnp.log(-jnp.expm1(-width))
  return jnp.where(x < -1 + HALF_BIN, -jax.nn.softplus(-upper),   # (-inf, upper]
                   jnp.where(x > TOP - HALF_BIN, -jax.nn.softplus(lower), interior))  # [lower, inf)


def _gaussian_log_mass(x, means, log_scales):
  inv = jnp.exp(-log_scales)
  mid, width = inv * (x - means), inv * (2 * HALF_BIN)
  # Wide bins: log(Phi(b) - Phi(a)) on the side of the bin's tail, where both are small.
  flip = jnp.where(mid > 0, -1.0, 1.0)
  a, b = flip * mid - width / 2, flip * mid + width / 2
  la, lb = log_ndtr(a), log_ndtr(b)
  wide = lb + jnp.log(-jnp.expm1(jnp.minimum(la - lb, -1e-30)))
  # Narrow bins: the midpoint rule, w phi(m) (1 + (m^2 - 1) w^2 / 24). The series' next term,
  # (m^4 - 6 m^2 + 3) w^4 / 1920, stays under 1e-6 only while |m| w < _NARROW_TAIL: further
  # out (a level far in the tail of a narrow Gaussian) the exact form takes over.
  narrow = (-0.5 * mid**2 - 0.5 * jnp.log(2 * jnp.pi) + jnp.log(width)
            + jnp.log1p((mid**2 - 1) * width**2 / 24))
  interior = jnp.where((width < _NARROW) & (jnp.abs(mid) * width < _NARROW_TAIL), narrow, wide)
  return jnp.where(x < -1 + HALF_BIN, log_ndtr(mid + width / 2),
                   jnp.where(x > TOP - HALF_BIN, log_ndtr(-(mid - width / 2)), interior))


def log_prob(output: str, out, x, log_scale_min: float):
  """Log probability (nats) of the 16-bit level x [...] (from `quantize`) under out [..., C]."""
  log_weights, means, log_scales = _split(out, output, log_scale_min)
  mass = _gaussian_log_mass if output == 'gaussian' else _logistic_log_mass
  return jax.nn.logsumexp(log_weights + mass(x[..., None], means, log_scales), axis=-1)


def sample(output: str, out, uniform, temperature: float, log_scale_min: float):
  """One draw per row, as a 16-bit level: out [B, C], uniform [B, 2] in [0, 1) -> [B].

  uniform[:, 0] picks the component by inverse CDF, uniform[:, 1] the value by the
  component's inverse CDF, its scale times `temperature` (r9y9); temperature 0 is the mean
  of the likeliest component, the mode of that component.
  """
  log_weights, means, log_scales = _split(out, output, log_scale_min)
  if temperature == 0:
    k = jnp.argmax(log_weights, axis=-1)
  else:
    cdf = jnp.cumsum(jnp.exp(log_weights), axis=-1)
    k = jnp.minimum(jnp.sum(cdf < uniform[:, :1] * cdf[:, -1:], axis=-1), means.shape[-1] - 1)
  pick = lambda a: jnp.take_along_axis(a, k[:, None], axis=-1)[:, 0]
  mean, scale = pick(means), jnp.exp(pick(log_scales)) * temperature
  u = jnp.clip(uniform[:, 1], 1e-7, 1 - 1e-7)
  if output == 'gaussian':
    x = mean + scale * ndtri(u)
  else:
    x = mean + scale * (jnp.log(u) - jnp.log1p(-u))
  return quantize(x)
