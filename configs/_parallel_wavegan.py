"""What configs/ljspeech_pwg.py, vctk_pwg.py and demo_pwg.py share: Parallel WaveGAN, kan-bayashi's LJSpeech recipe.

Not a config to launch by itself. kan-bayashi/ParallelWaveGAN's LJSpeech recipe (its v1 config):
log-mels of 80 bands (n_fft 1024, hop 256, fmin 80, fmax 7600 at 22,050 Hz; input/mel.py's
scale, shared with the autoregressive vocoder), the conv-in seeing 2 frames each side and four
stretch-and-conv stages of 4; the generator 30 non-causal layers in 3 stacks (kernel 3,
residual 64, gate 128, skip 64) driven by Gaussian noise; the discriminator 10 layers of 64
channels (leaky ReLU 0.2); the STFT loss at (1024, 120, 600), (2048, 240, 1200), (512, 50,
240), the adversarial loss x 4.0 from step 100,000 of 400,000. RAdam (eps 1e-6): the
generator at 1e-4 clipped to norm 10, the discriminator at 5e-5 clipped to 1, both halved
every 200,000 of their steps. Batches of 6 crops of 25,600 samples (100 frames).
"""
import ml_collections

from configs import default
from wavenet_jax.input import mel


def get_config():
  c = default.get_config()
  c.model.kind = 'parallel_wavegan'
  c.model.mel = mel.default_config()
  c.model.mel.fmin = 80.0
  c.model.upsample = ml_collections.ConfigDict(dict(scales=(4, 4, 4, 4), mode='stretch_conv', lookahead=2,
                                                    freq_kernel=1))
  c.model.generator = ml_collections.ConfigDict(dict(
      num_layers=30, stacks=3, filter_width=3, residual_channels=64, gate_channels=128, skip_channels=64))
  c.model.discriminator = ml_collections.ConfigDict(dict(num_layers=10, filter_width=3, channels=64,
                                                         negative_slope=0.2))
  c.data.sample_rate = 22050
  c.data.silence_threshold = 0.01
  c.data.sample_size = 25_600  # a multiple of the hop
  c.data.shuffle_buffer = 256
  c.train.batch_size = 6
  c.train.num_train_steps = 400_000
  c.train.optimizer = 'radam'  # the generator's (and the upsampler's) ...
  c.train.learning_rate = 1e-4
  c.train.adam_epsilon = 1e-6
  c.train.grad_clip_norm = 10.0
  c.train.lr_schedule = 'step'
  c.train.lr_decay_steps = 200_000
  c.train.lr_decay_rate = 0.5
  # ... and the discriminator's own: train.*'s settings with these in their place.
  c.train.discriminator = ml_collections.ConfigDict(dict(learning_rate=5e-5, grad_clip_norm=1.0))
  c.train.discriminator_start_steps = 100_000  # the STFT loss alone before it
  c.train.lambda_adv = 4.0  # the adversarial loss's weight in the generator's
  c.train.stft_resolutions = ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240))  # (fft size, hop, window length)
  c.train.checkpoint_every_steps = 5000
  c.train.eval_every_steps = 1000
  c.train.log_every_steps = 100
  c.eval.batch_size = 6
  c.generate.batch_size = 1  # chunks vocoded per call (more: no faster on a CPU, more memory)
  c.generate.chunk_size = 128 * 256  # samples per chunk (whole frames), each with the generator's halo
  return c
