"""What configs/speaker_id.py and configs/esc50.py share: the classifiers on the NSynth encoder.

Not a config to launch by itself. Variants (big_vision style, after the file name, comma
separated): `tiny` (a CPU-sized model: the tiny autoencoder's encoder, hop 64, 1,024-sample
crops), `autoencoder` (the "fine-tuned autoencoder": the whole autoencoder with a second,
classification head, loss = reconstruction CE + train.classification_weight · class CE;
without it the "fine-tuned encoder": encoder + head, class CE only).
"""
from configs import default
from wavenet_jax.models import nsynth


def parse(arg, allowed):
  """'tiny,fold=3' -> {'tiny': True, 'fold': '3'}; unknown words fail naming the file's options."""
  options = {}
  for word in filter(None, (arg or '').split(',')):
    key, _, value = word.partition('=')
    if key not in allowed:
      raise ValueError(f'unknown config variant {word!r} (variants: {", ".join(allowed)})')
    options[key] = value or True
  return options


def get_config(tiny=False, two_heads=False):
  c = default.get_config()
  classifier = c.model.classifier
  c.model = nsynth.tiny_config() if tiny else nsynth.h512_bo16_config()
  c.model.kind = 'nsynth_autoencoder_classifier' if two_heads else 'nsynth_classifier'
  c.model.gc_null_class = False
  c.model.classifier = classifier  # mean pooling, one hidden layer of 256, as default.py says
  c.data.silence_threshold = 0.01  # only the digital silence around clips
  c.data.sample_size = 16_384  # 1.024 s at 16 kHz: 32 embedding frames of magenta's hop 512
  c.data.shuffle_buffer = 256
  # Start from a pretrained autoencoder: magenta's released checkpoint prefix
  # (.../wavenet-ckpt/model.ckpt-200000 or the voice model) or one of our runs.
  c.train.init_from = ''
  c.train.encoder_training = 'fine_tune'  # or frozen, or lower_lr (x encoder_lr_scale)
  c.train.classification_weight = 1.0  # the two-head model's w (the classification study: a plain sum)
  c.train.batch_size = 32
  c.train.num_train_steps = 20_000
  c.train.adam_epsilon = 1e-8
  c.train.learning_rate = 1e-4  # fine-tuning: the pretrained encoder moves slowly
  c.train.log_every_steps = 100
  c.train.eval_every_steps = 1000
  c.train.checkpoint_every_steps = 1000
  c.eval.batch_size = 32
  c.eval.crops_per_example = 3
  if tiny:
    c.data.sample_size = 1024  # 16 frames of the tiny model's hop 64
    c.data.shuffle_buffer = 64
    c.model.classifier.hidden = (64,)
    c.train.batch_size = 8
    c.train.num_train_steps = 300
    c.train.learning_rate = 2e-3
    c.train.log_every_steps = 25
    c.train.eval_every_steps = 100
    c.train.checkpoint_every_steps = 100
    c.eval.batch_size = 8
    c.eval.crops_per_example = 2
  return c
