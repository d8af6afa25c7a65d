"""Linear prediction's feedback inside the sampling scan (models/vocoder.py, input/lpc.py).

The draw of each step is the excitation e_t; the sample is x_t = p_t + e_t, with p_t the
frame's taps over the last `order` samples, which the carry holds beside the queues.
"""
import jax.numpy as jnp

from wavenet_jax.input import audio
from wavenet_jax.models.vocoder import LPC_CHANNELS


def first_lc(lc):
  """The prime's lc [B, 1, Lc] -> [B, 1, Lc + 2]: the first sample has no past, p_0 = x_{-1} = 0."""
  return jnp.concatenate([lc, jnp.zeros(lc.shape[:2] + (LPC_CHANNELS,), lc.dtype)], -1)


def carry(carry, order: int):
  """The carry `prime` makes -> the linear-prediction scan's: + the last `order` samples [B,
  order] (newest first) and the next sample's prediction p [B], all zero: nothing before."""
  rows = carry[1].shape[0]
  return carry + (jnp.zeros((rows, order), jnp.float32), jnp.zeros((rows,), jnp.float32))


def step(model, classes, history, p, taps_t, lc_t, mu_law):
  """Linear prediction's feedback (models/vocoder.py): the drawn excitation classes [B] ->
  (the excitation fed back [B], x_t = p_t + e_t [B], history, p_{t+1} [B], the next step's lc
  [B, Lc + 2]). x_t is clipped to [-1, 1], the range training saw, and the excitation fed
  back is then the clipped sample's, as teacher forcing computes it from x_t."""
  q = model.quantization_channels
  x = jnp.clip(p + audio.mu_law_decode(classes, q, mu_law, xp=jnp), -1.0, 1.0)
  fed = audio.mu_law_encode(x - p, q, mu_law, xp=jnp)  # = classes unless x_t was clipped
  history = jnp.concatenate([x[:, None], history[:, :-1]], axis=1)  # [B, order], x_t first
  p = jnp.sum(history * taps_t, axis=-1)
  return fed, x, history, p, jnp.concatenate([lc_t, p[:, None], x[:, None]], axis=-1)
