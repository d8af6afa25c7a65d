"""A small vocoder that learns offline speech on a CPU: r9y9's recipe, shrunk.

    python launch.py --config=configs/demo_vocoder.py --workdir=runs/demo_vocoder
    python launch.py --config=configs/demo_vocoder.py --workdir=runs/demo_vocoder --mode=eval
    python launch.py --config=configs/demo_vocoder.py --workdir=runs/demo_vocoder --mode=vocode \
        --config.vocode.input=speech.wav

The first run has eSpeak NG (the espeakng-loader wheel, no download) speak 30 sentences in
6 voices into data.cache_dir at 16 kHz (wavenet_jax/datasets/espeak.py), then trains a vocoder on them for
2,000 steps of 8 x 2,048-sample crops (~13 min on a 2-core Xeon, evaluation included):
r9y9's features and upsampler at 16 kHz, 16 layers (1..128 twice, 32/32/64 channels), the
8-bit softmax over the excitation of LPCNet's order-16 linear predictor from the log-mels
(`:lpc`; input/lpc.py). Of the three heads the softmax is the one that learns to use the
log-mels in this budget: after 600 steps its NLL is 0.23 bits/sample worse with the log-mels
zeroed, while the mixture of logistics (:mol) and the Gaussian (:gaussian) still ignore them
(0.0 bits) and make noise; the predictor then gives it the formants (docs/performance.md).
Expect validation ~5.4 bits/sample (of excitation) and, on the first 4 validation clips,
STOI ~0.7 and PESQ ~1.1 against Griffin-Lim's 0.93 and 2.4: the formants right, a noise
excitation. Trained 47x longer on a GPU it still does not pass Griffin-Lim on recorded speech
(docs/performance.md): that takes recorded speech, a larger net and far more training (r9y9:
LJSpeech, ~1M GPU steps); this config shows the whole path working, not that quality.
Any speech corpus works the same way: `--config.data.corpus=vctk
--config.data.source=/path/to/VCTK-Corpus` (or librispeech, ljspeech, folder).
"""
from configs import _vocoder


def get_config(arg=None):
  c = _vocoder.get_config()
  c.data.corpus = 'espeak'
  c.data.source = ''
  c.data.sample_rate = 16000
  c.data.sample_size = 2048
  c.model.dilations = tuple(2**i for i in range(8)) * 2
  c.model.filter_width = 2
  c.model.residual_channels = 32
  c.model.dilation_channels = 32
  c.model.skip_channels = 64
  c.model.output, c.model.scalar_input = 'categorical', False  # the head that learns fastest here
  c.model.lpc_order = 16  # it models the excitation of LPCNet's linear predictor (docs/performance.md)
  c.train.batch_size = 8
  c.train.num_train_steps = 2000
  c.train.learning_rate = 2e-3
  c.train.lr_schedule = 'cosine'
  c.train.ema_decay = 0.0
  c.train.log_every_steps = 50
  c.train.eval_every_steps = 0
  c.train.checkpoint_every_steps = 500
  c.eval.batch_size = 8
  c.generate.chunk_size = 16_000
  return _vocoder.head(c, arg, 'configs/demo_vocoder.py')
