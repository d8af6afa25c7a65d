"""Offline speech: English sentences spoken by eSpeak NG voices -> prepared dataset by voice.

What a speech model (the demo vocoder) can train on with nothing downloaded: the
`espeakng-loader` wheel ships the eSpeak NG library and its voice data, driven here
through ctypes. Each voice is a class (a multi-speaker corpus); every voice says each
of SENTENCES (the IEEE "Harvard" sentences, public domain) once, at a speaking rate and
pitch that are a pure function of (voice, sentence). eSpeak draws its own noise (breath,
flutter, aspiration), so two builds say the same things at the same rates but differ in
sample detail; a run builds it once into data.cache_dir and reuses it. eSpeak speaks at
22,050 Hz; the build resamples to sample_rate. Validation is drawn per voice by
folder.split_of (validation_fraction) over `<voice>/<NN>.wav`.

This is formant synthesis, not recorded speech: it has speech's structure (voicing,
formants, fricatives, prosody) but none of a microphone's; score a vocoder trained on
it on recordings (benchmarks/vocoder.py).
"""
import ctypes
import os
import tempfile
import zlib

import numpy as np
import soundfile

from wavenet_jax.datasets import building
from wavenet_jax.datasets import folder

# eSpeak NG voice names: a language and a variant (espeak-ng-data/voices/!v).
VOICES = ('en-us+m1', 'en-us+f2', 'en-gb-x-rp+m3', 'en-us+f4', 'en-gb-scotland+m7',
          'en-us+klatt2')
SENTENCES = (
    'The birch canoe slid on the smooth planks.',
    'Glue the sheet to the dark blue background.',
    "It's easy to tell the depth of a well.",
    'These days a chicken leg is a rare dish.',
    'Rice is often served in round bowls.',
    'The juice of lemons makes fine punch.',
    'The box was thrown beside the parked truck.',
    'The hogs were fed chopped corn and garbage.',
    'Four hours of steady work faced us.',
    'A large size in stockings is hard to sell.',
    'The boy was there when the sun rose.',
    'A rod is used to catch pink salmon.',
    'The source of the huge river is the clear spring.',
    'Kick the ball straight and follow through.',
    'Help the woman get back to her feet.',
    'A pot of tea helps to pass the evening.',
    'Smoky fires lack flame and heat.',
    'The soft cushion broke the man\'s fall.',
    'The salt breeze came across from the sea.',
    'The girl at the booth sold fifty bonds.',
    'The small pup gnawed a hole in the sock.',
    'The fish twisted and turned on the bent hook.',
    'Press the pants and sew a button on the vest.',
    'The swan dive was far short of perfect.',
    'The beauty of the view stunned the young boy.',
    'Two blue fish swam in the tank.',
    'Her purse was full of useless trash.',
    'The colt reared and threw the tall rider.',
    'It snowed, rained, and hailed the same morning.',
    'Read verse out loud for pleasure.',
)
RATES = (140, 190)  # words per minute, drawn per utterance
PITCHES = (30, 70)  # eSpeak's 0-100 base pitch, drawn per utterance

_AUDIO_OUTPUT_SYNCHRONOUS, _CHARS_UTF8, _RATE, _PITCH = 2, 1, 1, 3
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.c_void_p)


class Speaker:
  """eSpeak NG in this process, synchronous: say(text, voice, rate, pitch) -> int16 [T]."""

  def __init__(self):
    try:
      import espeakng_loader
    except ImportError:
      raise building.DataError('espeak: needs the espeakng-loader package '
                               '(pip install "wavenet_jax[speech]", or -r requirements.txt)') from None
    self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
    self._chunks = []
    self._callback = _CALLBACK(self._collect)  # kept: eSpeak holds only the pointer
    self.rate = self._lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                            espeakng_loader.get_data_path().encode(), 0)
    if self.rate <= 0:
      raise building.DataError(f'espeak: the eSpeak NG library did not start ({self.rate})')
    self._lib.espeak_SetSynthCallback(self._callback)

  def _collect(self, wav, n, events):
    del events
    if n > 0:
      self._chunks.append(np.ctypeslib.as_array(wav, (n,)).copy())
    return 0

  def say(self, text, voice, rate, pitch):
    if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
      raise building.DataError(f'espeak: no voice {voice!r} (see espeak-ng-data/voices/!v)')
    self._lib.espeak_SetParameter(_RATE, int(rate), 0)
    self._lib.espeak_SetParameter(_PITCH, int(pitch), 0)
    self._chunks = []
    data = text.encode() + b'\0'
    if self._lib.espeak_Synth(data, len(data), 0, 0, 0, _CHARS_UTF8, None, None) != 0:
      raise building.DataError(f'espeak: could not say {text!r} in voice {voice}')
    self._lib.espeak_Synchronize()
    return np.concatenate(self._chunks or [np.zeros(0, np.int16)])  # [T] int16


def utterances(voices=VOICES, sentences=SENTENCES):
  """[(voice, index, text, rate, pitch)], rate and pitch a pure function of (voice, index)."""
  out = []
  for voice in voices:
    for i, text in enumerate(sentences):
      rng = np.random.default_rng([zlib.crc32(voice.encode()), i])
      out.append((voice, i, text, int(rng.integers(*RATES)), int(rng.integers(*PITCHES))))
  return out


def build_espeak(out, sample_rate=16000, voices=VOICES, num_sentences=len(SENTENCES),
                 validation_fraction=0.1, overwrite=False):
  """Speaks num_sentences of SENTENCES in each voice, writes the dataset at `out`."""
  folder.check_options(sample_rate, validation_fraction)
  voices = tuple(v.strip() for v in voices.split(',')) if isinstance(voices, str) else tuple(voices)
  if not voices or not 1 <= num_sentences <= len(SENTENCES):
    raise building.DataError(f'espeak: needs >= 1 voice and 1..{len(SENTENCES)} sentences '
                             f'(got {len(voices)} voices, num_sentences={num_sentences})')
  speaker = Speaker()
  with tempfile.TemporaryDirectory() as spoken:
    files = []
    for voice, i, text, rate, pitch in utterances(voices, SENTENCES[:num_sentences]):
      relpath = f'{voice}/{i:02d}.wav'
      os.makedirs(os.path.join(spoken, voice), exist_ok=True)
      soundfile.write(os.path.join(spoken, relpath), speaker.say(text, voice, rate, pitch),
                      speaker.rate, subtype='PCM_16')
      files.append(folder.File(relpath, voice))
    return folder.build_files(
        spoken, out, files, [], sample_rate=sample_rate, validation_fraction=validation_fraction,
        description='English sentences spoken by eSpeak NG voices, made by wavenet_jax/datasets/espeak.py.',
        overwrite=overwrite)
