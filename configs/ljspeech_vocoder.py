"""r9y9/wavenet_vocoder's LJSpeech vocoder: log-mels at 22,050 Hz -> speech, mixture of logistics.

    python launch.py --config=configs/ljspeech_vocoder.py --workdir=runs/lj \
        --config.data.source=/path/to/LJSpeech-1.1
    python launch.py --config=configs/ljspeech_vocoder.py --workdir=runs/lj --mode=eval
    python launch.py --config=configs/ljspeech_vocoder.py --workdir=runs/lj --mode=vocode \
        --config.vocode.input=mels/   # .npy [frames, 80] from a TTS front end, or audio

`data.source` is the corpus as downloaded (`LJSpeech-1.1/metadata.csv` + `wavs/`,
wavenet_jax/datasets/ljspeech.py), any corpus in that layout, a prepared dir, or TFDS's
`ljspeech` with `--config.data.corpus=tfds --config.data.source=ljspeech` (prepared by
`tfds build`). 5% of the utterances are held out. The model is configs/_vocoder.py's,
r9y9's size; its training is a GPU/TPU job (r9y9 trained ~1M steps). `:gaussian` and
`:categorical` swap the head (a single Gaussian; a 256-way mu-law softmax).
"""
from configs import _vocoder


def get_config(arg=None):
  c = _vocoder.get_config()
  c.data.corpus = 'ljspeech'
  c.data.source = ''  # Required: the LJSpeech-1.1 tree or a prepared dir.
  c.data.validation_fraction = 0.05
  return _vocoder.head(c, arg, 'configs/ljspeech_vocoder.py')
