"""A small Parallel WaveGAN that learns offline speech on a CPU: kan-bayashi's recipe, shrunk.

    python launch.py --config=configs/demo_pwg.py --workdir=runs/demo_pwg
    python launch.py --config=configs/demo_pwg.py --workdir=runs/demo_pwg --mode=eval
    python launch.py --config=configs/demo_pwg.py --workdir=runs/demo_pwg --mode=vocode \
        --config.vocode.input=speech.wav

The first run has eSpeak NG (the espeakng-loader wheel, no download) speak 30 sentences in
6 voices into data.cache_dir at 16 kHz (wavenet_jax/datasets/espeak.py), as
configs/demo_vocoder.py does, then trains configs/_parallel_wavegan.py's model, shrunk (10
non-causal layers of 32/64/32 channels, a 6-layer discriminator of 32), on them: 3,000 steps
of 4 x 8,192 samples (~15-17 min on a 2-core EPYC), the discriminator from step 2,000, RAdam
at 5e-3 (discriminator 2e-3) halved every 1,400 steps. Expect the validation STFT loss ~1.5
and, on recorded speech it never heard, PESQ ~1.13 and STOI ~0.74 against Griffin-Lim's 2.6
and 0.95: a step past the WaveNet vocoder demo, far from Griffin-Lim (docs/performance.md). Any
speech corpus works the same way: `--config.data.corpus=vctk
--config.data.source=/path/to/VCTK-Corpus` (or librispeech, ljspeech, folder).
"""
from configs import _parallel_wavegan


def get_config():
  c = _parallel_wavegan.get_config()
  c.data.corpus = 'espeak'
  c.data.source = ''
  c.data.sample_rate = 16000
  c.data.sample_size = 8192  # 32 frames
  c.data.shuffle_buffer = 64
  c.model.generator.update(dict(num_layers=10, stacks=1, residual_channels=32, gate_channels=64, skip_channels=32))
  c.model.discriminator.update(dict(num_layers=6, channels=32))
  c.train.batch_size = 4
  c.train.num_train_steps = 3000
  c.train.learning_rate = 5e-3
  c.train.discriminator.learning_rate = 2e-3
  c.train.lr_decay_steps = 1400
  c.train.discriminator_start_steps = 2000
  c.train.log_every_steps = 50
  c.train.eval_every_steps = 0
  c.train.checkpoint_every_steps = 100
  c.eval.batch_size = 4
  return c
