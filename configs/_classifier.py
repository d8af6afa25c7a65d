"""What configs/speaker_id.py and configs/esc50.py share: the classifiers on the NSynth encoder.

Not a config to launch by itself. Variants (big_vision style, after the file name, comma
separated): `tiny` (a CPU-sized model: the tiny autoencoder's encoder, hop 64, 1,024-sample
crops; runs in seconds, learns little), `cpu` (the CPU recipe that learns: 12-15 minutes on 2
cores, see below), `autoencoder` (the "fine-tuned autoencoder": the whole autoencoder with a
second, classification head, loss = reconstruction CE + train.classification_weight · class
CE; without it the "fine-tuned encoder": encoder + head, class CE only), `pretrain` (the
plain autoencoder, kind nsynth_autoencoder, of the same size on the same data and crops:
the self-supervised start for `train.init_from`).

`cpu`, measured on 11 real speakers (docs/classification.md): the tiny encoder widened to 32
channels with a 16-channel bottleneck (magenta's), 4,096-sample crops (64 frames), statistics
pooling, 12,000 steps of batch 8 under a warmup-cosine rate from 2e-3, additive noise at
10-30 dB SNR on the training crops.
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


def get_config(tiny=False, two_heads=False, cpu=False, pretrain=False):
  c = default.get_config()
  classifier = c.model.classifier
  c.model = nsynth.tiny_config() if tiny or cpu else nsynth.h512_bo16_config()
  c.model.kind = 'nsynth_autoencoder_classifier' if two_heads else 'nsynth_classifier'
  if pretrain:
    c.model.kind = 'nsynth_autoencoder'
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
  if cpu:
    c.model.encoder.width = 32
    c.model.encoder.bottleneck = c.model.lc_channels = 16
    c.model.classifier.pooling = 'stats'
    c.model.classifier.hidden = (64,)
    c.data.sample_size = 4096  # 64 frames of hop 64: 0.256 s
    c.data.shuffle_buffer = 256
    c.data.augment.mode = 'additive'  # Gaussian noise at 10-30 dB SNR (data.augment.snr_db)
    c.train.batch_size = 8
    c.train.num_train_steps = 12_000
    c.train.learning_rate = 2e-3
    c.train.lr_schedule = 'warmup_cosine'
    c.train.warmup_steps = 500
    c.train.log_every_steps = 100
    c.train.eval_every_steps = 3000
    c.train.checkpoint_every_steps = 1000
    c.eval.batch_size = 8
    c.eval.crops_per_example = 2
  return c


def get_variant(arg, allowed=()):
  """A classifier config file's variants -> (its config, the other options): the words
  every classifier config takes (tiny, cpu, autoencoder, pretrain) plus the file's own."""
  options = parse(arg, ('tiny', 'cpu', 'autoencoder', 'pretrain') + tuple(allowed))
  if 'tiny' in options and 'cpu' in options:
    raise ValueError('config variants tiny and cpu: pick one')
  if 'pretrain' in options and 'autoencoder' in options:
    raise ValueError('config variants pretrain and autoencoder: pretrain trains the plain autoencoder')
  c = get_config(tiny='tiny' in options, two_heads='autoencoder' in options, cpu='cpu' in options,
                 pretrain='pretrain' in options)
  return c, options
