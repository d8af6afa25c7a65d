"""A categorical draw by inverse CDF, with temperature, top-k and nucleus cuts: what the
sampling scan (generate.py) draws each mu-law class with; and the checks of those settings
(config.generate), which every mode that samples runs before anything compiles."""
import jax
import jax.numpy as jnp

from wavenet_jax.common.config_checks import ConfigError


def check(g, counts) -> None:
  """config.generate's sampling options and the positive integers named in `counts`."""
  if g.temperature < 0:
    raise ConfigError(f'generate.temperature={g.temperature!r}: must be >= 0')
  if not isinstance(g.top_k, int) or g.top_k < 0:
    raise ConfigError(f'generate.top_k={g.top_k!r}: must be an integer >= 0 (0 = off)')
  if not 0 < g.top_p <= 1:
    raise ConfigError(f'generate.top_p={g.top_p!r}: must be in (0, 1] (1 = off)')
  check_guidance(g)
  for key in counts:
    if not isinstance(g[key], int) or isinstance(g[key], bool) or g[key] < 1:
      raise ConfigError(f'generate.{key}={g[key]!r}: must be an integer >= 1')


def check_guidance(g) -> None:
  """generate.guidance: the classifier-free guidance weight (1 = off)."""
  if g.guidance < 0:
    raise ConfigError(f'generate.guidance={g.guidance!r}: must be >= 0 (1 = off)')


def check_top_k(g, num_classes: int) -> None:
  """generate.top_k against the model's output classes: keeping k >= all of them is no cut."""
  if g.top_k >= num_classes:
    raise ConfigError(f'generate.top_k={g.top_k}: must be below the model\'s {num_classes} '
                      f'output classes (0 = off)')


def sample(uniform, logits, temperature, top_k=0, top_p=1.0):
  """Categorical draw by inverse CDF. uniform [B], logits [B, Q] -> [B].

  temperature 0 = argmax; top_k > 0 keeps the k likeliest classes; top_p < 1 keeps the
  smallest set of likeliest classes whose probability reaches top_p (nucleus).
  One uniform per stream and step, drawn before the scan: a Gumbel draw inside it would
  run threefry over all Q classes every sample, which costs more than the network.
  """
  if temperature == 0:
    return jnp.argmax(logits, axis=-1).astype(jnp.int32)
  logits = logits / temperature
  if top_k:
    kth = jax.lax.top_k(logits, top_k)[0][:, -1:]
    logits = jnp.where(logits < kth, -jnp.inf, logits)
  if top_p < 1.0:
    ordered = jnp.sort(logits, axis=-1)[:, ::-1]  # [B, Q] descending
    before = jnp.cumsum(jax.nn.softmax(ordered, axis=-1), axis=-1) - jax.nn.softmax(ordered, axis=-1)
    # The last kept class is the one whose preceding mass is still below top_p.
    threshold = jnp.min(jnp.where(before < top_p, ordered, jnp.inf), axis=-1, keepdims=True)
    logits = jnp.where(logits < threshold, -jnp.inf, logits)
  cdf = jnp.cumsum(jax.nn.softmax(logits, axis=-1), axis=-1)
  below = jnp.sum(cdf < uniform[:, None] * cdf[:, -1:], axis=-1)
  return jnp.minimum(below, logits.shape[-1] - 1).astype(jnp.int32)
