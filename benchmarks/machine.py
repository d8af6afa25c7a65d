"""What this machine can do at most, measured the way the benchmarks' models use it.

A speed goal in seconds holds for one kind of machine only (the 2-core CPU the goals were
set on had AVX-512; another has AVX2 and half the matmul rate). These ceilings let a
table say how close a figure is to what the hardware allows:

  matmul_gflops   float32 matmul rate on every core, a large [M, K] @ [K, N] in one jit;
  gemv_gb_per_s   bytes of weights per second one [1, K] @ [K, N] reads in a lax.scan
                  (fast generation of one stream is bound by this: every sample reads
                  every weight once).
"""
import time

import jax
import jax.numpy as jnp


def _best_seconds(fn, *args, repeats=5):
  jax.block_until_ready(fn(*args))
  best = float('inf')
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    best = min(best, time.perf_counter() - start)
  return best


def matmul_gflops(m=8192, k=1600, n=512, reps=4):
  """GFLOP/s of [m, k] @ [k, n] float32 (the shape of a WaveNet's skip projection)."""
  a = jax.random.normal(jax.random.key(0), (m, k), jnp.float32)
  b = jax.random.normal(jax.random.key(1), (k, n), jnp.float32) / k
  # reps chained products in one program: dispatch does not count.
  f = jax.jit(lambda a, b: jax.lax.fori_loop(0, reps, lambda i, x: jnp.tanh(x @ b) @ b.T, a))
  return 4 * reps * m * k * n / _best_seconds(f, a, b) / 1e9


def gemv_gb_per_s(k=1600, n=512, steps=2000):
  """GB/s of weights read by a one-row matmul repeated in a scan."""
  w = jax.random.normal(jax.random.key(0), (k, n), jnp.float32) / k**0.5
  back = jax.random.normal(jax.random.key(1), (n, k), jnp.float32) / n**0.5

  def body(x, _):
    return jnp.tanh(jnp.tanh(x @ w) @ back), None

  f = jax.jit(lambda x: jax.lax.scan(body, x, None, length=steps)[0])
  return steps * 2 * k * n * 4 / _best_seconds(f, jnp.ones((1, k), jnp.float32)) / 1e9
