"""Parallel WaveGAN on VCTK: one vocoder for every speaker (kan-bayashi's VCTK recipe, at 22,050 Hz).

    python launch.py --config=configs/vctk_pwg.py --workdir=runs/vctk_pwg \
        --config.data.source=/path/to/VCTK-Corpus-0.92
    python launch.py --config=configs/vctk_pwg.py --workdir=runs/vctk_pwg --mode=vocode \
        --config.vocode.input=mels/

VCTK as downloaded (either release, wavenet_jax/datasets/vctk.py), prepared at 22,050 Hz. The
vocoder is not told the speaker: the log-mels carry the voice (kan-bayashi's VCTK models are
likewise speaker-independent); --mode=eval reports the STFT loss per speaker. Everything else
is configs/_parallel_wavegan.py's.
"""
from configs import _parallel_wavegan


def get_config():
  c = _parallel_wavegan.get_config()
  c.data.corpus = 'vctk'
  c.data.source = ''  # Required: the VCTK tree or a prepared dir.
  return c
