"""evaluation/speech_scores.py against hand computations on known signals, and datasets/espeak.py,
whose speech they are scored on (PESQ needs speech to find)."""
import librosa
import numpy as np
import pytest

from tests.corpus_trees import read_examples, report_of
from wavenet_jax.datasets import espeak
from wavenet_jax.evaluation import speech_scores
from wavenet_jax.input import mel

RATE = 16000
M = mel.settings(dict(mel.default_config(), n_fft=512, hop=128, win_length=512, num_mels=40))


@pytest.fixture(scope='module')
def speech():
  """One eSpeak sentence at 16 kHz, float64 [T]."""
  speaker = espeak.Speaker()
  x = speaker.say(espeak.SENTENCES[0], espeak.VOICES[0], 170, 50) / 32768.0
  return librosa.resample(x, orig_sr=speaker.rate, target_sr=RATE)


def test_identical_audio_scores_perfect_and_noise_scores_worse(speech):
  same = speech_scores.scores(speech, speech.copy(), M, RATE)
  assert same['lsd_db'] == 0 and same['mcd_db'] == 0
  assert same['pesq'] == pytest.approx(4.644, abs=1e-3)  # P.862.2's ceiling
  assert same['stoi'] == pytest.approx(1.0, abs=1e-6)
  rng = np.random.default_rng(0)
  rows = []
  for snr_db in (30, 10):
    noise = rng.standard_normal(speech.size)
    noise *= np.sqrt(np.mean(speech ** 2) / np.mean(noise ** 2) / 10 ** (snr_db / 10))
    rows.append(speech_scores.scores(speech, speech + noise, M, RATE))
  for quieter, louder in zip([same] + rows[:1], rows):
    assert louder['lsd_db'] > quieter['lsd_db'] and louder['mcd_db'] > quieter['mcd_db']
    assert louder['pesq'] < quieter['pesq'] and louder['stoi'] < quieter['stoi']
  mean = speech_scores.mean_scores(rows + [dict(rows[0], pesq=None)])  # None: no speech found
  assert mean['pesq'] == pytest.approx((rows[0]['pesq'] + rows[1]['pesq']) / 2)
  assert mean['stoi'] == pytest.approx((2 * rows[0]['stoi'] + rows[1]['stoi']) / 3)


def test_lsd_and_mcd_by_hand():
  rng = np.random.default_rng(1)
  x = rng.standard_normal(RATE // 2) * 0.1  # white: every bin well above the floor
  # Twice the amplitude: every bin's power x4, 10·log10(4) dB apart; the mel cepstra move
  # only in c_0 (a constant added to every log band), which MCD leaves out.
  assert speech_scores.lsd_db(x, 2 * x, M) == pytest.approx(10 * np.log10(4), rel=1e-9)
  assert speech_scores.mcd_db(x, 2 * x, M, RATE) == pytest.approx(0, abs=1e-9)

  y = x + 0.05 * rng.standard_normal(x.size)
  def cepstra(z):  # the DCT-II written out, on librosa's mel magnitudes
    kwargs = dict(n_fft=M.n_fft, hop_length=M.hop, n_mels=M.num_mels, fmin=M.fmin, fmax=M.fmax)
    logs = np.log(librosa.feature.melspectrogram(y=z, sr=RATE, power=1.0, **kwargs))  # [B, F]
    b = np.arange(M.num_mels)
    basis = np.sqrt(2 / M.num_mels) * np.cos(np.pi * np.arange(1, 25)[:, None] * (b + 0.5) / M.num_mels)
    return (basis @ logs).T  # [F, 24]
  frames = np.sqrt(2 * np.sum((cepstra(x) - cepstra(y)) ** 2, axis=1)) * 10 / np.log(10)
  assert speech_scores.mcd_db(x, y, M, RATE) == pytest.approx(frames.mean(), rel=1e-9)
  power = lambda z: np.abs(librosa.stft(z, n_fft=M.n_fft, hop_length=M.hop)) ** 2
  per_frame = np.sqrt(np.mean((10 * np.log10(power(x) / power(y))) ** 2, axis=0))
  assert speech_scores.lsd_db(x, y, M) == pytest.approx(per_frame.mean(), rel=1e-9)


def test_griffin_lim_inverts_the_log_mels(speech):
  x = speech[:RATE - RATE % M.hop]
  frames = np.asarray(mel.log_mel(x[None].astype(np.float32), M, RATE))[0]  # [F, M]
  y = speech_scores.griffin_lim(frames, M, RATE)
  assert y.shape == x.shape and y.dtype == np.float32
  again = np.asarray(mel.log_mel(y[None], M, RATE))[0]
  assert np.mean(np.abs(again - frames)) < 0.03  # ~3 dB on r9y9's 100 dB scale
  assert speech_scores.stoi(x, y, RATE) > 0.6  # intelligible, unlike noise of its spectrum


def test_espeak_corpus_is_spoken_offline_and_deterministic(tmp_path):
  kwargs = dict(sample_rate=RATE, voices='en-us+m1,en-us+f2', num_sentences=3)
  out = espeak.build_espeak(tmp_path / 'a', **kwargs)
  assert report_of(out)['class_names'] == ['en-us+f2', 'en-us+m1']
  assert report_of(out)['counts'] == {'train': {'en-us+f2': 2, 'en-us+m1': 2},
                                      'validation': {'en-us+f2': 1, 'en-us+m1': 1}}
  for name, ex in read_examples(out, 'train').items():
    assert 0.8 * RATE < ex['audio'].size < 4 * RATE, name  # a sentence, at 16 kHz
    voiced = librosa.feature.rms(y=ex['audio'] / 32768.0)[0] > 0.01
    assert voiced.mean() > 0.3, name  # spoken, not silence
  with pytest.raises(espeak.building.DataError, match="no voice 'xx-none'"):
    espeak.build_espeak(tmp_path / 'c', voices='xx-none')
  assert not (tmp_path / 'c').exists()


def test_resynthesis_without_the_scores_extra_is_one_line(monkeypatch):
  """pip install . without [scores]: --mode=eval of a vocoder says what to install, before vocoding."""
  import importlib.util
  import ml_collections
  from wavenet_jax.common.config_checks import ConfigError
  from wavenet_jax.evaluation import resynthesis
  real = importlib.util.find_spec
  monkeypatch.setattr(importlib.util, 'find_spec', lambda name, *a: None if name == 'pesq' else real(name, *a))
  c = ml_collections.ConfigDict({'eval': {'vocode_clips': 2}})
  with pytest.raises(ConfigError, match=r'^eval.vocode_clips=2: the resynthesis scores need pesq: '
                                        r'pip install "wavenet_jax\[scores\]", or set eval.vocode_clips=0$'):
    resynthesis.check_scorers(c)
  monkeypatch.setattr(importlib.util, 'find_spec', real)
  resynthesis.check_scorers(c)  # installed here: no error
