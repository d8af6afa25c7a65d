"""What this machine can do at most, measured the way the benchmarks' models use it.

A speed goal in seconds holds for one kind of machine only (the 2-core CPU the goals were
set on had AVX-512; another has AVX2 and half the matmul rate). These ceilings let a
table say how close a figure is to what the hardware allows:

  matmul_gflops   float32 matmul rate on every core, a large [M, K] @ [K, N] in one jit;
  gemv_gb_per_s   bytes of weights per second one [1, K] @ [K, N] reads in a lax.scan
                  (fast generation of one stream is bound by this: every sample reads
                  every weight once);
  gemv_chain_seconds  a scan step of one-row matmuls of given shapes, each feeding the
                  next: a model's own matrices streamed one after another, nothing else.
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


def gemv_chain_seconds(shapes, steps=2000, compiler_options=None):
  """Seconds per scan step of x[1, K] @ w[K, N] + b for (K, N) in shapes, in order, each on
  its own random weights, each product tanh'd into the next (tiled or cut to the next K
  where the shapes do not chain), as one sample runs a model's matmuls.

  A chain of different matrices streams slower than gemv_gb_per_s's two (ibab's head on a
  Zen 5: docs/performance.md#single-stream-ceilings).
  """
  keys = jax.random.split(jax.random.key(0), len(shapes))
  # Gain 1.5 keeps tanh's fixed point away from 0 (no denormals however long the scan).
  ws = [1.5 * jax.random.normal(key, shape, jnp.float32) / shape[0]**0.5
        for key, shape in zip(keys, shapes)]
  # A bias, as the model has: XLA:CPU then emits each gemv fused with its add, as in the step.
  bs = [jnp.zeros((n,), jnp.float32) for _, n in shapes]

  def fit(y, k):  # [1, N] -> [1, K]
    return y if y.shape[1] == k else jnp.tile(y, (1, -(-k // y.shape[1])))[:, :k]

  def run(ws, bs, x):
    def body(x, _):
      y = x
      for w, b in zip(ws, bs):
        y = jnp.tanh(fit(y, w.shape[0]) @ w + b)
      return fit(y, x.shape[1]), None
    return jax.lax.scan(body, x, None, length=steps)[0]

  f = jax.jit(run, compiler_options=compiler_options)
  return _best_seconds(f, ws, bs, jnp.ones((1, shapes[0][0]), jnp.float32)) / steps
