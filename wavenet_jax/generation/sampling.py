"""A categorical draw by inverse CDF, with temperature, top-k and nucleus cuts: what the
sampling scan (generate.py) draws each mu-law class with."""
import jax
import jax.numpy as jnp


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
