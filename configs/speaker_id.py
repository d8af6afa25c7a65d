"""Speaker identification on LibriSpeech from the NSynth encoder.

    python launch.py --config=configs/speaker_id.py --workdir=runs/speaker_id \
        --config.data.source=/path/to/LibriSpeech \
        --config.train.init_from=/path/to/wavenet-voice-ckpt/model.ckpt-200000
    python launch.py --config=configs/speaker_id.py --workdir=runs/speaker_id --mode=eval ...

Variants after the file name (configs/_classifier.py): `:cpu` (the CPU recipe: 12-15 min on 2
cores, beats the MFCC baseline on 11 real speakers), `:tiny` (seconds; for tests),
`:autoencoder` (two heads, the "fine-tuned autoencoder"), `:pretrain` (the plain autoencoder
of that size on the same data, a start for `train.init_from`), combined as `:cpu,autoencoder`.
`data.source` is the LibriSpeech folder (`<subset>/<speaker>/<chapter>/*.flac`;
`--config.data.options='("subsets=dev-clean",)'` picks subsets) or a prepared dir, or with
`--config.data.corpus=folder` any folder of speaker folders; each speaker's utterances are
split train/validation (data.validation_fraction). Label = speaker. Crops of 1.024 s (`:cpu`
0.256 s); eval reports accuracy, top-5, per-speaker accuracy and a confusion matrix per crop
and per clip, beside the MFCC baseline (TensorBoard, eval_<split>.json).
`train.init_from` names the pretrained autoencoder (magenta's voice or instrument
checkpoint prefix, or a run of configs/nsynth_autoencoder.py); '' trains from scratch.
"""
from configs import _classifier


def get_config(arg=None):
  c, _ = _classifier.get_variant(arg)
  c.data.corpus = 'librispeech'
  c.data.source = ''  # Required: the LibriSpeech tree or a prepared dir.
  return c
