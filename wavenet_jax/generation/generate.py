"""Fast generation (Paine et al. 2016): one jitted lax.scan over per-layer queue state.

A stream's draws are mu-law classes (categorical head) or 16-bit levels in [-1, 1] (the
continuous heads, models/heads.py); `to_audio` turns either into samples.

The carry is an explicit pytree of ring buffers (`WaveNet.init_queues`), so each sample
costs O(layers) and no Python runs per sample. `WaveNet.step` uses the same parameters and
layer code as the training forward pass; tests/test_generate.py checks that they agree.
On a CPU, B streams run as equal groups, each on a thread (`stream_groups`; B padded to
a multiple of them); `guide` is classifier-free guidance against a null class.

Generation computes every matmul at full float32 precision (`full_precision`): a GPU's
default runs a large matmul in TF32 (a TPU's in bf16 passes) but a one-row one exactly, so
with defaults stepping and the forward pass would differ (docs/performance.md#full-precision-matmuls).
Training keeps the backend's fast default; the model generates as trained up to that rounding.
"""
import concurrent.futures
import functools

import jax
import jax.numpy as jnp
import numpy as np

from wavenet_jax.generation import linear_prediction
from wavenet_jax.generation.sampling import sample
from wavenet_jax.input import audio
from wavenet_jax.models import heads
from wavenet_jax.runtime import xla_cpu
from wavenet_jax.models.wavenet import WaveNet


def full_precision(fn):
  """fn with every matmul it traces at float32's full precision (see the module doc); the
  forward pass a generation is compared with runs under jax.default_matmul_precision('highest')."""
  @functools.wraps(fn)
  def wrapped(*args, **kwargs):
    with jax.default_matmul_precision('highest'):
      return fn(*args, **kwargs)
  return wrapped


def init_queues(model: WaveNet, batch_size: int):
  return model.init_queues(batch_size)


@full_precision
def step(model: WaveNet, params, queues, x_t, gc_ids=None, lc_t=None):
  """(logits [B, Q], queues) for one input sample per stream."""
  gc = None if gc_ids is None else model.apply(params, gc_ids, method=WaveNet.global_condition)
  return model.apply(params, queues, x_t, gc, lc_t, method=WaveNet.step)


@full_precision
def step_through(model: WaveNet, params, inputs, gc_ids=None, lc=None, queues=None):
  """Teacher forcing one sample at a time: inputs [B, T] -> (logits [B, T, Q], queues)."""
  queues = model.init_queues(inputs.shape[0]) if queues is None else queues
  gc = None if gc_ids is None else model.apply(params, gc_ids, method=WaveNet.global_condition)

  def body(queues, xs):
    x_t, lc_t = xs
    logits, queues = model.apply(params, queues, x_t, gc, lc_t, method=WaveNet.step)
    return queues, logits

  xs = (jnp.moveaxis(inputs, 1, 0), None if lc is None else jnp.moveaxis(lc, 1, 0))
  queues, logits = jax.lax.scan(body, queues, xs)
  return jnp.moveaxis(logits, 0, 1), queues


def draw(model: WaveNet, uniform, out, temperature, top_k=0, top_p=1.0):
  """One draw per stream from the decoder's outputs out [B, C]: a class (uniform [B]) or,
  for a continuous head, a 16-bit level (uniform [B, 2])."""
  if heads.continuous(model.output):
    return heads.sample(model.output, out, uniform, temperature, model.log_scale_min)
  return sample(uniform, out, temperature, top_k, top_p)


def uniform_shape(model: WaveNet):
  """The uniforms one draw takes: () for a class, (2,) for a continuous head's level."""
  return (2,) if heads.continuous(model.output) else ()


def class_to_input(model: WaveNet, classes, mu_law='ibab'):
  """A draw becomes the next input the way training fed it (kinds/wavenet.py, model_inputs):
  a continuous head's levels are fed as they are."""
  if heads.continuous(model.output) or not model.scalar_input:
    return classes
  q = model.quantization_channels
  if mu_law == 'nsynth':
    return audio.nsynth_scalar(classes, q, xp=jnp)
  return audio.mu_law_decode(classes, q, mu_law, xp=jnp)


def to_draws(model: WaveNet, wav, mu_law='ibab'):
  """Float audio [..., T] -> the draws that stand for it: mu-law classes or 16-bit levels."""
  if heads.continuous(model.output):
    return np.asarray(heads.quantize(np.asarray(wav, np.float32), xp=np))
  return audio.mu_law_encode(wav, model.quantization_channels, mu_law)


def to_audio(model: WaveNet, draws, mu_law='ibab'):
  """Draws [..., T] (classes or 16-bit levels) -> float32 audio in [-1, 1]."""
  if heads.continuous(model.output):
    return np.asarray(draws, np.float32)
  return audio.mu_law_decode(np.asarray(draws), model.quantization_channels, mu_law)


def silence_class(model: WaveNet, mu_law='ibab'):
  """The draw of a silent sample: a mu-law class, or the level 0.0."""
  if heads.continuous(model.output):
    return 0.0
  return int(audio.mu_law_encode(np.zeros(1), model.quantization_channels, mu_law)[0])


def _draws_dtype(model: WaveNet):
  return jnp.float32 if heads.continuous(model.output) else jnp.int32


def silence(model: WaveNet, batch_size: int, mu_law='ibab'):
  """One sample of silence per stream as network input: the default prime. [B, 1]"""
  classes = jnp.full((batch_size, 1), silence_class(model, mu_law), _draws_dtype(model))
  return class_to_input(model, classes, mu_law)


@functools.partial(jax.jit, static_argnames=('model',))
@full_precision
def prime(model: WaveNet, params, inputs, gc_ids=None, lc=None, start=None):
  """Prefill: one parallel forward pass over inputs [B, P] (lc [B, P, Lc]) -> the carry to sample
  from; start [B]: where each stream's prime begins in its row (`pad_primes`)."""
  logits, queues = model.apply(params, inputs, gc_ids, lc, start, method=WaveNet.prefill)
  return queues, logits[:, -1]


def pad_primes(model: WaveNet, primes, mu_law='ibab'):
  """Primes of several lengths as one batch: [draws [P_b] (`to_draws`) or None] -> (network
  inputs [B, P], start [B]). Each prime is right-aligned; before it stands "before the start" (the
  one-hot sentinel id, or 0.0 for scalar input), which `prime` treats as the empty history.
  None is an unprimed stream: one sample of silence, as `silence`."""
  quiet, dtype = silence_class(model, mu_law), _draws_dtype(model)
  primes = [np.asarray([quiet] if p is None else p, dtype) for p in primes]
  length = max(len(p) for p in primes)
  start = np.array([length - len(p) for p in primes], np.int32)
  classes = np.stack([np.concatenate([np.zeros(length - len(p), dtype), p]) for p in primes])
  inputs = class_to_input(model, jnp.asarray(classes, dtype), mu_law)
  before = jnp.arange(length)[None, :] < jnp.asarray(start)[:, None]  # [B, P]
  inputs = jnp.where(before, model.quantization_channels if not model.scalar_input else 0.0, inputs)
  return inputs, jnp.asarray(start)


def guide(logits, guidance):
  """Classifier-free guidance (Ho & Salimans 2022): logits [2B, Q], each stream's class row
  then its null-class row -> [B, Q] = null + w·(class - null); w = 1 is the class alone.

  On logits rather than log-probabilities: the two differ by a constant per row, which
  the softmax drops. w > 1 pushes samples towards what tells the class apart from audio
  in general, for a model trained with class dropout (train.class_dropout).
  """
  if guidance == 1:
    return logits
  pairs = logits.reshape(-1, 2, logits.shape[-1])  # [B, 2, Q]
  return pairs[:, 1] + guidance * (pairs[:, 0] - pairs[:, 1])


def guided_rows(a, null_id=None):
  """[B, ...] -> [2B, ...]: each stream's row twice, side by side; with null_id (class ids
  [B]), the second of each pair is the null class."""
  rows = jnp.repeat(a, 2, axis=0)
  return rows if null_id is None else rows.at[1::2].set(null_id)


def continue_from(model: WaveNet, params, carry, keys, start, num_samples: int, gc_ids=None,
                  temperature=1.0, mu_law='ibab', top_k=0, top_p=1.0, lc=None, guidance=1.0, taps=None):
  """Samples `num_samples` draws per stream from `carry` -> (carry, draws [B, N]): classes,
  or a continuous head's 16-bit levels.

  lc [B, N, Lc]: local conditioning of the inputs these samples become (sample i is fed
  back with lc[:, i], as the forward pass pairs inputs and lc); None for models without.
  guidance != 1: classifier-free guidance (`guide`); the carry, gc_ids and lc then hold
  two rows per stream, its class's and the null class's (`guided_rows`).
  Stream b's draw for sample number t (counted from the end of the prime) uses the
  uniform of fold_in(keys[b], t): a stream does not depend on the streams beside it, and chunked
  generation (start = samples so far) draws exactly what one long scan would.
  taps [B, N, order]: linear prediction (linear_prediction.py); the draws are then samples.
  """
  scan, groups = _plan(keys)
  args = (temperature, mu_law, top_k, top_p)
  if groups == 1:
    return scan(model, params, carry, keys, start, num_samples, gc_ids, *args, lc, guidance, taps)
  streams = keys.shape[0]
  carry, keys, gc_ids, lc, taps = _pad(streams, groups, carry, keys, gc_ids, lc, taps)

  def run(g):
    out = scan(model, params, *_group(g, groups, carry, keys), start, num_samples,
               *_group(g, groups, gc_ids), *args, *_group(g, groups, lc), guidance, *_group(g, groups, taps))
    return jax.block_until_ready(out)

  with concurrent.futures.ThreadPoolExecutor(group_threads(groups)) as pool:
    outs = list(pool.map(run, range(groups)))
  joined = jax.tree.map(lambda *a: jnp.concatenate(a) if jnp.ndim(a[0]) else a[0], *outs)
  return _unpad(streams, keys.shape[0], joined)


def compile_continue_from(model: WaveNet, params, carry, keys, start, num_samples: int, gc_ids=None,
                          temperature=1.0, mu_law='ibab', top_k=0, top_p=1.0, lc=None, guidance=1.0,
                          taps=None):
  """Compiles what `continue_from` with these arguments runs, without running it: a
  benchmark's timed call is then pure run time."""
  scan, groups = _plan(keys)
  carry, keys, gc_ids, lc, taps = _pad(keys.shape[0], groups, carry, keys, gc_ids, lc, taps)
  scan.lower(model, params, *_group(0, groups, carry, keys), start, num_samples,
             *_group(0, groups, gc_ids), temperature, mu_law, top_k, top_p,
             *_group(0, groups, lc), guidance, *_group(0, groups, taps)).compile()


def _plan(keys):
  """(the sampling scan, how many groups of streams it runs as) for B = len(keys) streams."""
  # jax takes compiler options on a top-level jit only; traced inside a caller's jit (or
  # scan), the sampling scan is staged into the caller's program and compiled with its
  # options (pass it scan_compiler_options() for the single-threaded dots).
  staged = isinstance(jnp.zeros(()), jax.core.Tracer)
  if staged or not scan_compiler_options():
    return _scan, 1
  return _scan_cpu, stream_groups(keys.shape[0])  # equal groups of streams, a thread each


def _pad(streams, groups, *trees):
  """Each tree's rows ([B] or, guided, [2B]: a stream's rows side by side) padded to a
  multiple of `groups` streams with copies of the last stream's rows: groups stay equal (one
  program), and the copies draw what that stream draws; `_unpad` drops them."""
  extra = -streams % groups
  if not extra:
    return trees

  def pad(a):
    if not jnp.ndim(a):
      return a
    rows = a.shape[0] // streams
    return jnp.concatenate([a] + [a[-rows:]] * extra)

  return tuple(jax.tree.map(pad, tree) for tree in trees)


def _unpad(streams, padded, tree):
  """`_pad`'s inverse on continue_from's (carry, classes): the first streams' rows."""
  return jax.tree.map(lambda a: a[:a.shape[0] // padded * streams] if jnp.ndim(a) else a, tree)


def _group(g, groups, *trees):
  """Group g of `groups` of each tree's rows: [B] or, guided, [2B] with a stream's two side
  by side, so a group takes 1/groups of each."""
  cut = lambda a: a[g * (a.shape[0] // groups):(g + 1) * (a.shape[0] // groups)] if jnp.ndim(a) else a
  return tuple(jax.tree.map(cut, tree) for tree in trees)


@full_precision
def _scan_samples(model: WaveNet, params, carry, keys, start, num_samples: int, gc_ids, temperature,
                  mu_law, top_k, top_p, lc, guidance=1.0, taps=None):
  gc = None if gc_ids is None else model.apply(params, gc_ids, method=WaveNet.global_condition)
  steps = start + jnp.arange(num_samples)
  shape = uniform_shape(model)
  stream = lambda k: jax.vmap(lambda t: jax.random.uniform(jax.random.fold_in(k, t), shape))(steps)
  uniforms = jnp.moveaxis(jax.vmap(stream)(keys), 1, 0)  # [N, B] or [N, B, 2]

  def body(carry, xs):
    u_t, lc_t, taps_t = xs
    queues, logits, *lpc_state = carry
    classes = draw(model, u_t, guide(logits, guidance), temperature, top_k, top_p)
    fed = classes if guidance == 1 else guided_rows(classes)  # both rows of a guided stream
    if taps_t is not None:  # the draw is x_t's excitation; x_t is the output
      fed, classes, *lpc_state, lc_t = linear_prediction.step(model, classes, *lpc_state, taps_t, lc_t, mu_law)
    logits, queues = model.apply(params, queues, class_to_input(model, fed, mu_law), gc, lc_t,
                                 method=WaveNet.step)
    return (queues, logits, *lpc_state), classes

  moved = lambda a: None if a is None else jnp.moveaxis(a, 1, 0)
  xs = (uniforms, moved(lc), moved(taps))
  carry, classes = jax.lax.scan(body, carry, xs)
  return carry, classes.T


_STATIC = ('model', 'num_samples', 'temperature', 'mu_law', 'top_k', 'top_p', 'guidance')
_scan = jax.jit(_scan_samples, static_argnames=_STATIC)
# The CPU sampling scan's options: neither changes the classes drawn, both make it faster.
# Single-threaded dots: the scan's dots are small ([B, 64] @ [64, 64] per layer) and waking
# a second thread for each costs more than it saves; training and prefill keep the threads
# (docs/performance.md#single-threaded-dots-in-the-sampling-scan).
# No gemv-rewriter: for one stream it leaves its column reshapes behind as copy kernels,
# where XLA's own gemv fuses with the bias add (docs/performance.md#without-the-gemv-rewriter).
CPU_SCAN_COMPILER_OPTIONS = {'xla_cpu_multi_thread_eigen': False,
                             'xla_disable_hlo_passes': 'gemv-rewriter'}
_scan_cpu = jax.jit(_scan_samples, static_argnames=_STATIC, compiler_options=CPU_SCAN_COMPILER_OPTIONS)


def stream_groups(batch_size: int) -> int:
  """How many equal groups of streams `continue_from` runs on the CPU, each group's scan on
  a thread of its own (`group_threads` of them at a time).

  One scan keeps about one core busy. Up to two streams per core, a group per stream (one
  stream's dots are XLA's cheap gemv kernels); from 16 streams per core, groups of 16 where
  B is a multiple of 16; else one group per core, B padded with copies of a stream so the
  groups stay equal and compile once. Measured choice: docs/performance.md#stream-groups-and-threads.
  """
  cores = xla_cpu.cores()
  if batch_size <= 2 * cores:
    return batch_size
  if batch_size >= 16 * cores and batch_size % 16 == 0:
    return batch_size // 16
  return cores


def group_threads(groups: int) -> int:
  """Threads `continue_from` scans its groups on: up to two per core, since a scan's caller
  waits while Eigen's pool runs its large dots (docs/performance.md#stream-groups-and-threads)."""
  return min(groups, 2 * xla_cpu.cores())


def scan_compiler_options():
  """The options the sampling scan compiles with on this backend (None: XLA's defaults),
  for a caller that wraps `continue_from` in a jit of its own."""
  return CPU_SCAN_COMPILER_OPTIONS if jax.default_backend() == 'cpu' else None


def generate(model: WaveNet, params, keys, num_samples: int, gc_ids=None, temperature=1.0,
             mu_law='ibab', prime_inputs=None, top_k=0, top_p=1.0, lc=None, guidance=1.0,
             null_id=None, prime_start=None):
  """B streams of `num_samples` draws after a prime, [B, num_samples]; keys [B]: mu-law classes,
  or a continuous head's 16-bit levels (`to_audio` makes either audio).

  prime_inputs: [B, P] network inputs (default: one sample of silence per stream);
  prime_start [B]: where each stream's own prime begins in its row, for primes of several
  lengths (`pad_primes`): a stream then draws what it draws generated alone.
  lc: [B, P + num_samples - 1, Lc], the local conditioning of every input (prime, then
  each generated sample but the last, which is never fed back).
  guidance: classifier-free guidance weight (`guide`; 1 = off), against the class null_id.
  """
  chunks = generate_chunks(model, params, keys, num_samples, num_samples, gc_ids, temperature, mu_law,
                           prime_inputs, top_k, top_p, lc, guidance, null_id, prime_start)
  return next(chunks)


def _fill(a, n):
  """a [B, <= n, ...] padded to n rows with its last (None stays None)."""
  return a if a is None or a.shape[1] == n else jnp.concatenate([a, jnp.repeat(a[:, -1:], n - a.shape[1], 1)], 1)


def generate_chunks(model: WaveNet, params, keys, num_samples: int, chunk_size: int, gc_ids=None,
                    temperature=1.0, mu_law='ibab', prime_inputs=None, top_k=0, top_p=1.0, lc=None,
                    guidance=1.0, null_id=None, prime_start=None, taps=None):
  """Yields [B, ≤chunk_size] chunks of draws; memory does not grow with num_samples.

  lc as in `generate`; it may be a host (numpy) array: only one chunk of it is on the
  device at a time. guidance != 1 runs two rows per stream (its class, null_id) and costs
  twice the compute. taps [B, 1 + num_samples - 1, order], read like lc: the vocoder's
  linear prediction (linear_prediction.py) from a one-sample prime; the chunks are then samples.
  """
  if guidance < 0:
    raise ValueError(f'guidance={guidance!r}: must be >= 0 (1 = off)')
  if (guidance != 1 or top_k or top_p < 1) and heads.continuous(model.output):
    raise ValueError(f'guidance, top_k and top_p cut a categorical distribution: the {model.output} '
                     'head samples with a temperature only')
  if guidance != 1 and (gc_ids is None or null_id is None):
    raise ValueError(f'guidance={guidance!r} needs class ids and a null class to guide against '
                     '(a model trained with model.gc_null_class and train.class_dropout > 0)')
  if prime_inputs is None:
    prime_inputs = silence(model, keys.shape[0], mu_law)
  p = prime_inputs.shape[1]
  if lc is not None and lc.shape[1] < p + num_samples - 1:
    raise ValueError(f'lc covers {lc.shape[1]} inputs; a prime of {p} and {num_samples} samples '
                     f'need {p + num_samples - 1}')
  if taps is not None and (p != 1 or guidance != 1 or lc is None):
    raise ValueError('linear prediction (taps) generates from a one-sample prime, with lc, unguided')
  rows = (lambda a: a) if guidance == 1 else guided_rows
  lc_of = lambda a, b: None if lc is None else rows(jnp.asarray(lc[:, a:b]))
  if guidance != 1:
    gc_ids, prime_inputs = guided_rows(gc_ids, null_id), guided_rows(prime_inputs)
    prime_start = None if prime_start is None else guided_rows(prime_start)
  if taps is None:
    carry = prime(model, params, prime_inputs, gc_ids, lc_of(0, p), prime_start)
  else:
    first = linear_prediction.first_lc(lc_of(0, 1))
    carry = linear_prediction.carry(prime(model, params, prime_inputs, gc_ids, first, prime_start), taps.shape[2])
  done = 0
  while done < num_samples:
    n = min(chunk_size, num_samples - done)
    # The chunk's last sample is fed back (with its lc) only once the next chunk starts:
    # pad the final chunk's lc with its last row, whose step output is never sampled.
    chunk_lc = _fill(lc_of(p + done, p + done + n), n)
    chunk_taps = None if taps is None else _fill(jnp.asarray(taps[:, p + done:p + done + n]), n)
    carry, classes = continue_from(model, params, carry, keys, done, n, gc_ids, temperature, mu_law,
                                   top_k, top_p, chunk_lc, guidance, chunk_taps)
    done += n
    yield classes

