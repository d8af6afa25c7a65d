"""A speaker-conditioned WaveNet on VCTK: ibab/tensorflow-wavenet's own experiment.

    python launch.py --config=configs/vctk.py --workdir=runs/vctk \
        --config.data.source=/path/to/VCTK-Corpus

`data.source` is the corpus as downloaded, either release: 0.80's `wav48/pNNN/pNNN_MMM.wav`
or 0.92's `wav48_silence_trimmed/pNNN/pNNN_MMM_mic1.flac` (`--config.data.options="('mic=2',)"`
for the other microphone); the speaker folder is the label and speaker-info.txt is read
for gender/accent/age. It is prepared once into data.cache_dir at 16 kHz; or give a
directory made by `python data/prepare.py vctk --src=... --out=DIR`. ibab's defaults otherwise: silence
threshold 0.3, 100,000-sample crops, batch 1, Adam 1e-3; the speaker embedding has one row
per speaker found. Expect the loss to fall to ~2 nats over tens of thousands of steps.
"""
from configs import default


def get_config(arg=None):
  c = default.get_config()
  c.data.corpus = 'vctk'
  c.data.source = ''  # Required: the wav48 tree or a prepared dir.
  c.model.gc_cardinality = -1  # One embedding per speaker.
  return default.variant(c, arg, 'configs/vctk.py')
