"""Double-float arithmetic: a number as an unevaluated sum hi + lo of two float32s (~48 bits).

Linear prediction solves Toeplitz systems with condition numbers up to ~1e5 (input/lpc.py):
in float32 its taps land up to 5e-3 from the float64 solution and move by as much between
a jitted and an eager computation. JAX computes float64 only with x64 switched on for the
whole process, and accelerators run it slowly or not at all; these pairs give float64's
accuracy from float32 operations (Dekker 1971; Hida, Li & Bailey's double-double).

Every operation is built from error-free transformations: TwoSum uses additions only, and
products are formed from 12-bit halves whose partial products are exact in float32, so a
compiler that fuses a multiply and an add (FMA contraction) cannot change a result.
A pair is a tuple (hi, lo) of arrays of one shape; plain float32 arrays enter as (x, 0).
"""
import jax
import jax.numpy as jnp
import numpy as np

_LOW_12_BITS = np.int32(~0xFFF)


def constant(x):
  """A float64 numpy value or array -> the pair nearest it."""
  x = np.asarray(x, np.float64)
  hi = x.astype(np.float32)
  return jnp.asarray(hi), jnp.asarray((x - hi).astype(np.float32))


def value(a):
  """A pair -> float32, rounded once."""
  return a[0] + a[1]


def _rounded(x):
  """x as computed, opaque to XLA's algebraic simplifier: it rewrites (c + b) - c as b when c
  is a constant (1 - k^2 in a jitted Levinson recursion), which loses the rounding error
  these sums exist to keep."""
  return jax.lax.optimization_barrier(x)


def _two_sum(a, b):
  s = _rounded(a + b)
  bb = s - a
  return s, (a - (s - bb)) + (b - bb)


def _fast_two_sum(a, b):  # |a| >= |b|
  s = _rounded(a + b)
  return s, b - (s - a)


def _split(a):
  """a = hi + lo exactly, each with at most 12 significant bits."""
  hi = jax.lax.bitcast_convert_type(jax.lax.bitcast_convert_type(a, jnp.int32) & _LOW_12_BITS, jnp.float32)
  return hi, a - hi


def _two_prod(a, b):
  """a·b = p + e exactly (float32 a, b)."""
  p = a * b
  ah, al = _split(a)
  bh, bl = _split(b)
  return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def add(a, b):
  s, e = _two_sum(a[0], b[0])
  t, f = _two_sum(a[1], b[1])
  s, e = _fast_two_sum(s, e + t)
  return _fast_two_sum(s, e + f)


def neg(a):
  return -a[0], -a[1]


def sub(a, b):
  return add(a, neg(b))


def mul(a, b):
  p, e = _two_prod(a[0], b[0])
  return _fast_two_sum(p, e + (a[0] * b[1] + a[1] * b[0]))


def div(a, b):
  q1 = a[0] / b[0]
  r = sub(a, mul((q1, jnp.zeros_like(q1)), b))
  q2 = r[0] / b[0]
  r = sub(r, mul((q2, jnp.zeros_like(q2)), b))
  return add(_fast_two_sum(q1, q2), (r[0] / b[0], jnp.zeros_like(q1)))


def sum_last(a):
  """Sum over the last axis, pairwise: log2(n) rounds of `add`."""
  hi, lo = a
  while hi.shape[-1] > 1:
    if hi.shape[-1] % 2:
      pad = [(0, 0)] * (hi.ndim - 1) + [(0, 1)]
      hi, lo = jnp.pad(hi, pad), jnp.pad(lo, pad)
    hi, lo = add((hi[..., 0::2], lo[..., 0::2]), (hi[..., 1::2], lo[..., 1::2]))
  return hi[..., 0], lo[..., 0]
