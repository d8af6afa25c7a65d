"""What configs/ljspeech_vocoder.py, vctk_vocoder.py and demo_vocoder.py share: r9y9's vocoder.

Not a config to launch by itself. r9y9/wavenet_vocoder's LJSpeech model: log-mel features
(80 bands, n_fft 1024, hop 256, fmin 125, fmax 7600 at 22,050 Hz; input/mel.py), upsampled
by four stretch-and-conv stages of 4 (freq kernel 3) after a conv-in seeing 2 frames each
side; 24 layers in 4 stacks of dilations 1..32, kernel 3, residual 128, gate 256 (128 + 128),
skip 128; a mixture of 10 logistics over 16-bit audio, the previous sample fed through a
1x1 conv. Adam 1e-3, weight EMA 0.9999, batches of 8 crops of 10,240 samples.
"""
import ml_collections

from configs import default
from wavenet_jax.input import mel


def get_config():
  c = default.mixture_of_logistics(default.get_config())
  c.model.kind = 'vocoder'
  c.model.mel = mel.default_config()
  c.model.upsample = ml_collections.ConfigDict(dict(
      scales=(4, 4, 4, 4), mode='stretch_conv', lookahead=2, freq_kernel=3))
  c.model.filter_width = 3
  c.model.dilations = tuple(2**i for i in range(6)) * 4
  c.model.residual_channels = 128
  c.model.dilation_channels = 128  # r9y9's gate_channels 256: the tanh and sigmoid halves
  c.model.skip_channels = 128
  c.model.initial_filter_width = 1
  c.model.gc_cardinality = 0
  c.model.lpc_order = 0  # > 0: LPCNet's linear prediction, the decoder models the excitation (categorical head)
  c.data.sample_rate = 22050
  c.data.silence_threshold = 0.01
  c.data.sample_size = 10_240  # a multiple of the hop
  c.data.shuffle_buffer = 256
  c.train.batch_size = 8
  c.train.num_train_steps = 1_000_000
  c.train.learning_rate = 1e-3
  c.train.adam_epsilon = 1e-8
  c.train.grad_clip_norm = 0.0
  c.train.ema_decay = 0.9999
  c.train.checkpoint_every_steps = 2000
  c.train.eval_every_steps = 10_000
  c.eval.batch_size = 8
  c.generate.batch_size = 8
  c.generate.chunk_size = 22_050
  return c


LPC_ORDER = 16  # LPCNet's


def head(c, arg, path):
  """The output head a config's variant names: mol (r9y9's mixture), gaussian, categorical
  (a 256-way mu-law softmax on one-hot input) or lpc (that softmax over the excitation of a
  linear predictor of order 16 from the log-mels, LPCNet's); no variant keeps the config's own."""
  if arg in ('mol', 'gaussian'):
    c.model.output, c.model.scalar_input = {'mol': 'logistic_mixture'}.get(arg, arg), True
  elif arg in ('categorical', 'lpc'):
    c.model.output, c.model.scalar_input = 'categorical', False
  elif arg:
    raise ValueError(f'{path}: unknown variant {arg!r} (use :mol, :gaussian, :categorical, :lpc or nothing)')
  if arg:
    c.model.lpc_order = LPC_ORDER if arg == 'lpc' else 0
  return c
