"""Parallel WaveGAN on LJSpeech: log-mels at 22,050 Hz -> speech in one pass (kan-bayashi's recipe).

    python launch.py --config=configs/ljspeech_pwg.py --workdir=runs/lj_pwg \
        --config.data.source=/path/to/LJSpeech-1.1
    python launch.py --config=configs/ljspeech_pwg.py --workdir=runs/lj_pwg --mode=eval
    python launch.py --config=configs/ljspeech_pwg.py --workdir=runs/lj_pwg --mode=vocode \
        --config.vocode.input=mels/   # .npy [frames, 80] from a TTS front end, or audio

`data.source` as for configs/ljspeech_vocoder.py (the corpus as downloaded, a prepared dir,
or TFDS's `ljspeech`); 5% of the utterances are held out. The model and its training are
configs/_parallel_wavegan.py's, the paper's: 1.4 M generator parameters, 400,000 steps, a
GPU/TPU job (the paper: ~3 days on two V100s).
"""
from configs import _parallel_wavegan


def get_config():
  c = _parallel_wavegan.get_config()
  c.data.corpus = 'ljspeech'
  c.data.source = ''  # Required: the LJSpeech-1.1 tree or a prepared dir.
  c.data.validation_fraction = 0.05
  return c
