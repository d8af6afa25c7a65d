"""Speaker identification on LibriSpeech from the NSynth encoder.

    python launch.py --config=configs/speaker_id.py --workdir=runs/speaker_id \
        --config.data.source=/path/to/LibriSpeech \
        --config.train.init_from=/path/to/wavenet-voice-ckpt/model.ckpt-200000
    python launch.py --config=configs/speaker_id.py --workdir=runs/speaker_id --mode=eval ...

Variants after the file name: `:tiny` (CPU-sized), `:autoencoder` (two heads, the
"fine-tuned autoencoder"), `:tiny,autoencoder`. `data.source` is the LibriSpeech folder
(`<subset>/<speaker>/<chapter>/*.flac`; `--config.data.options='("subsets=dev-clean",)'`
picks subsets) or a prepared dir; each speaker's utterances are split train/validation
(data.validation_fraction). Label = speaker. Crops of 1.024 s; eval reports accuracy,
top-5, per-speaker accuracy and a confusion matrix (TensorBoard, eval_<split>.json).
`train.init_from` names the pretrained autoencoder (magenta's voice or instrument
checkpoint prefix, or a run of configs/nsynth_autoencoder.py); '' trains from scratch.
"""
from configs import _classifier


def get_config(arg=None):
  options = _classifier.parse(arg, ('tiny', 'autoencoder'))
  c = _classifier.get_config(tiny='tiny' in options, two_heads='autoencoder' in options)
  c.data.corpus = 'librispeech'
  c.data.source = ''  # Required: the LibriSpeech tree or a prepared dir.
  return c
