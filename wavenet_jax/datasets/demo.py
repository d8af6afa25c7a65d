"""The offline demo corpus: six classes of synthetic sounds, told apart by ear and spectrum.

It lets every mode (train, generate, classify) run end to end with no download. Each clip
is a pure function of (class, split, index), so two builds are identical and a test can
re-synthesise any clip it reads back. `nearest_class` judges whether generated
audio sounds like the class it was asked for (the nearest class spectrum).

  bell   inharmonic partials, each with its own exponential decay
  brass  saw-like tone, every harmonic up to 5 kHz, 110-220 Hz, slight onset glide
  chirp  one logarithmic sine sweep over the clip, up or down, between ~300 Hz and ~4 kHz
  drum   noise bursts with a low thump, fast decay, a few hits per second
  flute  near-sinusoid with two weak overtones, 500-900 Hz, vibrato
  pluck  Karplus-Strong string, 150-400 Hz
"""
import zlib

import numpy as np
import scipy.signal

from wavenet_jax.datasets import building
from wavenet_jax.input import audio

CLASS_NAMES = ('bell', 'brass', 'chirp', 'drum', 'flute', 'pluck')  # sorted, as ClassLabel


def synthesize(class_name, rng, num_samples, sample_rate=16000):
  """One clip of `class_name` -> float32 [T], peak amplitude drawn from [0.3, 0.7]."""
  if class_name not in _SYNTHS:
    raise building.DataError(f'demo class {class_name!r} is not one of {CLASS_NAMES}')
  x = _SYNTHS[class_name](rng, int(num_samples), float(sample_rate))  # [T] float64
  peak = rng.uniform(0.3, 0.7)
  return (x * (peak / max(np.abs(x).max(), 1e-12))).astype(np.float32)


def clip_rng(class_name, split, index):
  # crc32, not hash(): Python salts str hashes per process, which would break determinism.
  return np.random.default_rng([zlib.crc32(class_name.encode()), building.SPLITS.index(split),
                                index])


def _ramps(num_samples, sample_rate, attack, release):
  """1 inside, linear fades of attack/release seconds at the ends, so no clip clicks. [T]"""
  env = np.ones(num_samples)
  a = max(1, min(int(attack * sample_rate), num_samples // 2))
  r = max(1, min(int(release * sample_rate), num_samples // 2))
  env[:a] = np.linspace(0.0, 1.0, a, endpoint=False)
  env[num_samples - r:] *= np.linspace(1.0, 0.0, r)
  return env


def _harmonics(rng, freq, amplitudes, sample_rate):
  """Sum of amplitudes[k]·sin((k+1)·phase), dropping partials that would alias. [T]"""
  phase = 2 * np.pi * np.cumsum(freq) / sample_rate  # [T]
  top = freq.max()
  x = np.zeros_like(freq)
  for k, amp in enumerate(amplitudes, start=1):
    if k * top < 0.45 * sample_rate:
      x += amp * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
  return x


def _flute(rng, n, sr):
  t = np.arange(n) / sr
  vibrato = rng.uniform(0.004, 0.012) * np.sin(2 * np.pi * rng.uniform(4.5, 6.5) * t
                                               + rng.uniform(0, 2 * np.pi))
  freq = rng.uniform(500, 900) * (1 + vibrato)
  x = _harmonics(rng, freq, [1.0, rng.uniform(0.15, 0.35), rng.uniform(0.05, 0.15)], sr)
  x += 0.02 * rng.standard_normal(n)  # breath
  return x * _ramps(n, sr, rng.uniform(0.03, 0.08), rng.uniform(0.03, 0.08))


def _brass(rng, n, sr):
  t = np.arange(n) / sr
  f0 = rng.uniform(110, 220)
  freq = f0 * (1 - 0.03 * np.exp(-t / 0.03))  # lips settle onto the pitch
  count = int(min(5000, 0.45 * sr) // f0)
  x = _harmonics(rng, freq, [1.0 / k for k in range(1, count + 1)], sr)
  return x * _ramps(n, sr, rng.uniform(0.02, 0.06), rng.uniform(0.03, 0.08))


def _pluck(rng, n, sr):
  # Karplus-Strong: y[i] = x[i] + g/2·(y[i-N] + y[i-N-1]) with a one-period noise burst x,
  # as one IIR filter so scipy runs the recursion in C. Pitch = sr / (N + 1/2).
  period = max(2, int(round(sr / rng.uniform(150, 400) - 0.5)))
  gain = rng.uniform(0.990, 0.998)
  burst = np.zeros(n)
  burst[:period] = rng.uniform(-1, 1, size=period)[:n]
  burst[:period] -= burst[:period].mean()  # a DC offset would ring on as a 0 Hz 'note'
  feedback = np.zeros(period + 2)
  feedback[[0, period, period + 1]] = 1.0, -gain / 2, -gain / 2
  return scipy.signal.lfilter([1.0], feedback, burst)


def _bell(rng, n, sr):
  t = np.arange(n) / sr
  base = rng.uniform(250, 700)
  # Church-bell partials (hum, prime, tierce, quint, nominal, ...), slightly detuned.
  ratios = np.array([0.5, 1.0, 1.19, 1.5, 2.0, 2.5, 2.66, 3.0, 4.0])
  ratios *= 1 + rng.uniform(-0.01, 0.01, size=ratios.size)
  amplitudes = rng.uniform(0.2, 0.6, size=ratios.size)
  amplitudes[1] = 1.0  # the strike note (prime) leads, so the pitch heard is stable
  x = np.zeros(n)
  for ratio, amplitude in zip(ratios, amplitudes):
    if base * ratio < 0.45 * sr:
      decay = rng.uniform(0.15, 0.6) / np.sqrt(ratio)  # seconds; high partials die first
      x += amplitude * np.exp(-t / decay) * np.sin(
          2 * np.pi * base * ratio * t + rng.uniform(0, 2 * np.pi))
  return x * _ramps(n, sr, 0.002, 0.01)


def _drum(rng, n, sr):
  duration = n / sr
  hits = max(1, int(round(duration * rng.uniform(2, 4))))
  # The first hit opens the clip, so no clip starts with a long silence.
  onsets = np.concatenate([[rng.uniform(0, 0.02)],
                           rng.uniform(0, max(duration - 0.05, 0), size=hits - 1)])
  sos = scipy.signal.butter(2, min(rng.uniform(300, 2000), 0.45 * sr), 'low', fs=sr,
                            output='sos')
  x = np.zeros(n)
  for onset in onsets:
    start = min(int(onset * sr), n - 1)
    length = min(n - start, int(0.4 * sr))
    t = np.arange(length) / sr
    tau = rng.uniform(0.02, 0.07)
    noise = scipy.signal.sosfilt(sos, rng.standard_normal(length))
    noise /= max(np.abs(noise).max(), 1e-12)
    body = np.sin(2 * np.pi * rng.uniform(60, 120) * t * (1 + np.exp(-t / 0.02)))
    x[start:start + length] += rng.uniform(0.5, 1.0) * np.exp(-t / tau) * (0.7 * noise + 0.5 * body)
  return x


def _chirp(rng, n, sr):
  t = np.arange(n) / sr
  low, high = rng.uniform(250, 500), min(rng.uniform(2500, 4500), 0.45 * sr)
  progress = t / max(t[-1], 1e-9)  # 0 -> 1 over the clip
  if rng.random() < 0.5:
    progress = 1 - progress  # sweep down
  freq = low * (high / low) ** progress  # log sweep: every octave takes the same time
  x = np.sin(2 * np.pi * np.cumsum(freq) / sr + rng.uniform(0, 2 * np.pi))
  return x * _ramps(n, sr, 0.01, 0.01)


_SYNTHS = {'bell': _bell, 'brass': _brass, 'chirp': _chirp, 'drum': _drum, 'flute': _flute,
           'pluck': _pluck}


def mel_power_share(wav, sample_rate, n_mels=40):
  """[T] -> [n_mels]: the clip's mean mel power per band, as a share of its total.

  Linear power, not its log: generated audio carries a noise floor far above the clean
  clips', and a log-mel feature weighs that floor like the sound (on three test-size
  models it placed 25-29 of 96 generated streams in their class, the shares 62-76).
  64 ms windows at any rate, hop 16 ms.
  """
  import librosa  # slow to import; only quality checks need it
  n_fft = 1 << int(round(np.log2(0.064 * sample_rate)))
  mel = librosa.feature.melspectrogram(y=np.asarray(wav, np.float32), sr=sample_rate, n_fft=n_fft,
                                       hop_length=n_fft // 4, n_mels=n_mels)
  power = mel.astype(np.float64).mean(axis=1)
  return power / max(power.sum(), 1e-30)


def class_centroids(sample_rate, num_samples, per_class=32, n_mels=40):
  """[K, n_mels]: the mean mel_power_share of each class's first `per_class` training clips.

  The clips are re-synthesised (as build_demo writes them), so no dataset is read.
  """
  return np.stack([
      np.mean([mel_power_share(synthesize(c, clip_rng(c, 'train', i), num_samples, sample_rate),
                               sample_rate, n_mels) for i in range(per_class)], axis=0)
      for c in CLASS_NAMES])


def nearest_class(wavs, centroids, sample_rate):
  """[N, T] audio -> [N]: the index of the class centroid (L1) nearest each clip's feature.

  How the tests and benchmarks/demo_generation.py judge whether generated audio sounds like
  the class it was conditioned on. Even on real clips it tells bell from pluck poorly: their
  pitch ranges overlap, so their mean spectra do.
  """
  n_mels = centroids.shape[1]
  return np.array([int(np.argmin(np.abs(centroids - mel_power_share(w, sample_rate, n_mels)).sum(axis=1)))
                   for w in wavs])


def generated_nearest_classes(workdir, centroids, sample_rate, streams, num_samples, temperature,
                              settle=0, guidance=1.0):
  """-> (class names, [K, streams]): the nearest class of each stream a trained run generates.

  Every class of the run's latest checkpoint gets `streams` streams (keys 0..streams-1)
  from silence; the first `settle` samples, grown out of the silence, are not judged.
  guidance != 1: classifier-free guidance against the run's null class (generate.guide).
  """
  import jax  # the corpus itself needs none of the model's machinery
  import jax.numpy as jnp
  from wavenet_jax.checkpoints import trained
  from wavenet_jax.generation import generate
  model, params, meta = trained.load_wavenet(workdir)
  names = meta['class_names']
  ids = jnp.repeat(jnp.arange(len(names), dtype=jnp.int32), streams)
  keys = jnp.stack([jax.random.key(s) for _ in names for s in range(streams)])
  null = trained.check_guidance(guidance, meta)
  mu_law = meta['model']['mu_law']
  draws = generate.generate(model, params, keys, num_samples, ids, temperature, mu_law, guidance=guidance,
                            null_id=null)
  wavs = generate.to_audio(model, draws, mu_law)
  return names, nearest_class(wavs[:, settle:], centroids, sample_rate).reshape(len(names), streams)


class DemoCorpus(building.AudioBuilder, skip_registration=True):
  """Synthesises every clip in the generator: nothing is held in memory or on disk."""
  DESCRIPTION = 'wavenet_jax offline demo corpus: ' + ', '.join(CLASS_NAMES)

  def __init__(self, *, num_samples, per_class, **kwargs):
    self._num_samples = num_samples
    self._per_class = per_class  # split -> clips per class
    super().__init__(class_names=CLASS_NAMES, **kwargs)

  def _generate_examples(self, split):
    for name in CLASS_NAMES:
      for i in range(self._per_class[split]):
        x = synthesize(name, clip_rng(name, split, i), self._num_samples, self.sample_rate)
        filename = f'{name}/{name}_{split}_{i:03d}'
        yield filename, {'audio': audio.to_int16(x), 'label': name, 'filename': filename}


def build_demo(out, sample_rate=16000, clip_seconds=1.0, train_per_class=32,
               validation_per_class=4, num_shards=None, overwrite=False):
  """Writes the demo corpus as a prepared dataset at `out`; returns `out`.

  num_shards: files per split (default: one); several let multi-host reading be tested.
  """
  if sample_rate < 8000:
    raise building.DataError(f'sample_rate={sample_rate}: the demo needs >= 8000 Hz')
  num_samples = int(round(clip_seconds * sample_rate))
  if num_samples < 64:
    raise building.DataError(f'clip_seconds={clip_seconds}: too short for a clip')
  if train_per_class < 1 or validation_per_class < 1:
    raise building.DataError(f'train_per_class={train_per_class}, validation_per_class='
                             f'{validation_per_class}: each split needs >= 1 clip per class')
  if num_shards is not None and num_shards < 1:
    raise building.DataError(f'num_shards={num_shards}: must be >= 1')
  per_class = {'train': int(train_per_class), 'validation': int(validation_per_class)}
  return building.build(out, lambda tmp: DemoCorpus(
      num_samples=num_samples, per_class=per_class, sample_rate=sample_rate, data_dir=tmp),
                      overwrite=overwrite, num_shards=num_shards)
