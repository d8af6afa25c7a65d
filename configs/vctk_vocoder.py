"""A multi-speaker vocoder on VCTK: r9y9's model, conditioned on the speaker as well as the log-mels.

    python launch.py --config=configs/vctk_vocoder.py --workdir=runs/vctk_voc \
        --config.data.source=/path/to/VCTK-Corpus-0.92
    python launch.py --config=configs/vctk_vocoder.py --workdir=runs/vctk_voc --mode=vocode \
        --config.vocode.input=mels/ --config.vocode.class_id=3

VCTK as downloaded (either release, wavenet_jax/datasets/vctk.py), prepared at 22,050 Hz; one speaker
embedding per speaker found, and `vocode.class_id` picks the voice. Everything else is
configs/_vocoder.py's; `:gaussian` and `:categorical` swap the head.
"""
from configs import _vocoder


def get_config(arg=None):
  c = _vocoder.get_config()
  c.data.corpus = 'vctk'
  c.data.source = ''  # Required: the VCTK tree or a prepared dir.
  c.model.gc_cardinality = -1  # One embedding per speaker.
  c.model.gc_channels = 16
  return _vocoder.head(c, arg, 'configs/vctk_vocoder.py')
