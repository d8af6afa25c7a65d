"""The WaveNet of the speech/music write-up: ibab/tensorflow-wavenet's defaults.

    python launch.py --config=configs/default.py --workdir=runs/ibab \
        --config.data.corpus=vctk --config.data.source=/path/to/VCTK-Corpus/wav48

50 dilated layers (1..512 five times), 32 residual/dilation channels, 512 skip
channels, 256 mu-law classes, 16 kHz: receptive field 5,117 samples (0.32 s). Batch 1 of
100,000-sample crops, Adam 1e-3 (epsilon 1e-4), a checkpoint every 50 steps, as ibab's
train.py does. On a 2-core CPU a step takes a few seconds; use a GPU/TPU for real runs.
Other configs start from this one and change what differs.

`:mol` (here and in vctk.py, gtzan.py, demo.py): r9y9/wavenet_vocoder's output instead of
the 256-way softmax, a mixture of 10 logistics over 16-bit audio, fed the raw previous
sample through the wide first conv (`mixture_of_logistics`).
"""
import ml_collections

from wavenet_jax.models.wavenet import IBAB_DILATIONS


def get_config(arg=None):
  return variant(_base(), arg, 'configs/default.py')


def variant(c, arg, path):
  """A config's `:mol` variant (or the config itself); another word fails naming the file."""
  if arg == 'mol':
    return mixture_of_logistics(c)
  if arg:
    raise ValueError(f'{path}: unknown variant {arg!r} (use :mol or nothing)')
  return c


def mixture_of_logistics(c):
  """The discretized mixture of logistics head (wavenet_jax/models/heads.py), as r9y9's."""
  c.model.output = 'logistic_mixture'
  c.model.num_mixtures = 10
  c.model.scalar_input = True  # the previous sample as a scalar, through initial_filter_width taps
  c.train.grad_clip_norm = 1.0  # one sample far out under a narrow scale has a huge gradient
  return c


def _base():
  c = ml_collections.ConfigDict()
  c.seed = 0  # Parameters, data order, crops and dropout-free sampling all derive from it.

  c.data = ml_collections.ConfigDict()
  c.data.corpus = 'demo'  # demo | espeak | folder | gtzan | vctk | librispeech | ljspeech | esc50 | nsynth | tfds: how `source` is prepared.
  c.data.source = ''  # A prepared TFDS dir, or a raw tree prepared once into cache_dir; '' = demo.
  c.data.options = ()  # Options of data/prepare.py for a raw source, as 'key=value' strings ('mic=2').
  c.data.include = ()  # Classes of data.source to keep; () = all.
  c.data.exclude = ()  # Classes of data.source to leave out.
  c.data.rename = ()  # 'old=new' strings relabelling classes of data.source (several olds may share a new).
  # More sources mixed into the same run: dicts with `source`, `corpus` and optionally `options`,
  # `include`, `exclude`, `rename`, `train_split`, `eval_split`, e.g. the swap-a-speaker study:
  # data.exclude=('p225',), mix=({'source': GENRES, 'corpus': 'gtzan', 'include': ('blues',), 'rename': ('blues=p225',)},)
  c.data.mix = ()
  c.data.class_names_from = ''  # A run (workdir or step dir) whose class order comes first: transfer keeps embedding rows.
  c.data.cache_dir = '~/.cache/wavenet_jax'  # Where raw trees and the demo are prepared.
  c.data.sample_rate = 16000  # Hz; raw trees are resampled to it when prepared.
  c.data.pattern = ''  # corpus=folder: regex whose group 1 is the class, '' = the parent folder.
  c.data.validation_fraction = 0.1  # Share of each class held out when preparing a raw tree.
  c.data.train_split = 'train'
  c.data.eval_split = 'validation'
  c.data.silence_threshold = 0.3  # Frame RMS below it is leading/trailing silence (ibab); 0 = keep all.
  c.data.sample_size = 100_000  # Predicted samples per crop; each crop adds a receptive field of context.
  c.data.shuffle_buffer = 64  # Records shuffled together (on top of a per-epoch shard order).
  c.data.augment = ml_collections.ConfigDict()  # Noise added to crops; see wavenet_jax/input/augment.py.
  c.data.augment.mode = 'none'  # none | additive | multiplicative | both.
  c.data.augment.noise = 'gaussian'  # gaussian | laplacian | gmm (a zero-mean Gaussian mixture).
  c.data.augment.snr_db = (10.0, 30.0)  # Each crop's SNR is drawn uniformly from this range.
  c.data.augment.gmm_weights = (0.9, 0.1)  # gmm: component weights (sum to 1) ...
  c.data.augment.gmm_stds = (1.0, 5.0)  # ... and relative standard deviations (impulsive tails).
  c.data.augment.splits = ('train',)  # Splits it applies to.

  c.model = ml_collections.ConfigDict()
  # wavenet | nsynth_autoencoder (configs/nsynth_autoencoder.py) | nsynth_classifier (encoder + head)
  # | nsynth_autoencoder_classifier (autoencoder + head): configs/speaker_id.py, configs/esc50.py.
  c.model.kind = 'wavenet'
  c.model.filter_width = 2  # Taps of every dilated conv.
  c.model.dilations = IBAB_DILATIONS  # One residual block per entry.
  c.model.residual_channels = 32
  c.model.dilation_channels = 32  # Width of the gated tanh·sigmoid unit.
  c.model.skip_channels = 512
  c.model.quantization_channels = 256  # Mu-law classes = softmax size.
  c.model.mu_law = 'ibab'  # ibab | nsynth (magenta's floor-based 8-bit variant).
  c.model.use_biases = True
  c.model.scalar_input = False  # Feed raw samples through a wide first conv instead of one-hot.
  c.model.initial_filter_width = 32  # Width of that first conv when scalar_input.
  c.model.gc_cardinality = 0  # Global conditioning: 0 off, -1 = number of dataset classes, N explicit.
  c.model.gc_channels = 32  # Size of the class embedding.
  c.model.gc_null_class = False  # One more embedding row, the "no class" of unconditioned generation.
  c.model.lc_channels = 0  # Local-conditioning features per sample (set by models that use it).
  c.model.input_bias = False  # NSynth: a bias on the first (scalar-input) conv.
  c.model.input_skip = False  # NSynth: the first conv's output feeds the skip sum too.
  # The output distribution (wavenet_jax/models/heads.py): categorical (a softmax over the
  # mu-law classes) | logistic_mixture | gaussian (16-bit; both need scalar_input=True).
  c.model.output = 'categorical'
  c.model.num_mixtures = 10  # logistic_mixture: components (r9y9's 10).
  c.model.log_scale_min = -7.0  # Continuous heads: floor of the log scales (r9y9's -7).
  c.model.classifier = ml_collections.ConfigDict()  # The classification head of the nsynth_*classifier kinds.
  c.model.classifier.num_classes = -1  # -1 = the dataset's class count; a number must equal it.
  c.model.classifier.pooling = 'mean'  # mean | max | stats (mean + std) | attention: frames -> one vector.
  c.model.classifier.hidden = (256,)  # MLP widths (ReLU) between the pooled embedding and the logits.
  c.model.classifier.attention_channels = 64  # attention pooling: width of the frame scorer.

  c.train = ml_collections.ConfigDict()
  c.train.batch_size = 1  # Global, over all devices and hosts.
  c.train.num_train_steps = 100_000
  c.train.optimizer = 'adam'  # adam | sgd | rmsprop (ibab's three) | radam (Parallel WaveGAN's).
  c.train.learning_rate = 1e-3
  c.train.lr_schedule = 'constant'  # constant | cosine | warmup_cosine | piecewise | step
  c.train.lr_boundaries = ()  # piecewise: steps where the rate changes ...
  c.train.lr_values = ()  # ... and the rates: lr_values[0] first, lr_values[i] from lr_boundaries[i-1].
  c.train.warmup_steps = 0
  c.train.lr_decay_steps = 100_000  # step: the rate x lr_decay_rate every lr_decay_steps (torch's StepLR).
  c.train.lr_decay_rate = 0.5
  c.train.momentum = 0.9  # sgd and rmsprop.
  c.train.adam_epsilon = 1e-4  # ibab's, not optax's 1e-8.
  c.train.l2_regularization_strength = 0.0  # ibab: 0.5·strength·|w|² over non-bias weights.
  c.train.grad_clip_norm = 0.0  # Global-norm clipping; 0 = off.
  c.train.compute_dtype = 'float32'  # float32 | bfloat16: the train step's matmuls and activations (params stay f32).
  c.train.class_dropout = 0.0  # Share of examples trained under the null class (needs model.gc_null_class).
  c.train.ema_decay = 0.0  # EMA of the weights, used for eval when > 0 (NSynth: 0.9999).
  c.train.log_every_steps = 50
  c.train.eval_every_steps = 1000  # 0 = only at the end.
  c.train.checkpoint_every_steps = 50  # ibab's CHECKPOINT_EVERY.
  c.train.max_checkpoints_to_keep = 5
  c.train.generate_every_steps = 0  # Short generations per class to TensorBoard (audio + spectrogram); 0 = off.
  c.train.generate_num_samples = 16000  # Length of each of those (at generate.temperature).
  c.train.init_from = ''  # A run's workdir (or step dir), or an ibab WaveNet / magenta NSynth TF checkpoint prefix: start from its params, fresh optimizer.
  c.train.init_modules = ()  # Top-level modules taken from init_from ('encoder', 'decoder', 'head'); () = all it fits.
  c.train.encoder_training = 'fine_tune'  # NSynth kinds: fine_tune | frozen | lower_lr (the encoder's rate x encoder_lr_scale).
  c.train.encoder_lr_scale = 0.1
  c.train.classification_weight = 1.0  # nsynth_autoencoder_classifier: loss = reconstruction CE + w · class CE.

  c.eval = ml_collections.ConfigDict()
  c.eval.batch_size = 4
  c.eval.crops_per_example = 1  # Random but fixed crops per validation clip.
  c.eval.seed = 1234
  c.eval.step = 0  # --mode=eval: the checkpoint to evaluate; 0 = the latest.
  c.eval.baseline = True  # Classifiers: score MFCC statistics + logistic regression beside the model (cached).
  # Vocoders (model.kind='vocoder'): --mode=eval also resynthesises the split's first vocode_clips clips
  # (each cut to vocode_seconds) and scores them and Griffin-Lim from the same log-mels (LSD, MCD, PESQ, STOI).
  c.eval.vocode_clips = 4  # 0 = NLL only.
  c.eval.vocode_seconds = 4.0

  c.generate = ml_collections.ConfigDict()  # launch.py --mode=generate
  c.generate.checkpoint = ''  # A workdir or step dir; '' = the latest checkpoint of --workdir.
  c.generate.out_dir = ''  # '' = WORKDIR/generated.
  c.generate.num_samples = 16000  # Per stream, after the prime.
  c.generate.temperature = 1.0  # 0 = argmax.
  c.generate.top_k = 0  # Sample among the k likeliest classes; 0 = all.
  c.generate.top_p = 1.0  # Nucleus: the likeliest classes holding this much probability; 1 = all.
  # Classifier-free guidance weight against the null class (needs model.gc_null_class and
  # train.class_dropout > 0 in training); 1 = off, > 1 = more like the class, 2x the compute.
  c.generate.guidance = 1.0
  c.generate.class_ids = ()  # Conditioned models: the classes to generate, -1 = the null class; () = all (+ null).
  c.generate.primes = ()  # Wav files; each class is generated once from each prime (and () = silence).
  c.generate.unprimed_too = False  # With primes: each class also once from silence.
  c.generate.prime_silence_threshold = 0.1  # Trimming of primes (the swap-a-speaker study used 0.1).
  c.generate.streams_per_class = 1  # Different seeds per (class, prime).
  c.generate.seed = 0
  c.generate.batch_size = 16  # Streams generated together.
  c.generate.chunk_size = 16000  # Samples per scan; memory does not grow with num_samples.

  # launch.py --mode=encode | synthesize (NSynth autoencoders; wavenet_jax/apps/encode_synthesize.py).
  # synthesize samples with generate.temperature, top_k, top_p, seed (one key for every file),
  # batch_size (files generated together) and chunk_size.
  c.embeddings = ml_collections.ConfigDict()
  c.embeddings.checkpoint = ''  # A workdir, step dir or magenta TF checkpoint prefix; '' = latest of --workdir.
  c.embeddings.input = ''  # encode: audio folder (recursive) or file; synthesize: .npy folder or file ('' = WORKDIR/embeddings).
  c.embeddings.out_dir = ''  # '' = WORKDIR/embeddings (encode) or WORKDIR/synthesized (synthesize).
  c.embeddings.batch_size = 8  # encode: files of one length encoded together.
  c.embeddings.chunk_frames = 1024  # encode: frames per encoder pass (+ a halo); device memory does not grow with length.
  c.embeddings.interpolate = ()  # synthesize: ('A.npy', 'B.npy') mixes them instead of reading input.
  c.embeddings.interpolation_steps = 5  # Mixes (1 - a)·A + a·B for a in linspace(0, 1, steps).

  # launch.py --mode=vocode (wavenet_jax/apps/vocode.py): a vocoder's audio or log-mel .npy files -> speech,
  # sampled with generate.temperature, top_k, top_p, seed, batch_size and chunk_size.
  c.vocode = ml_collections.ConfigDict()
  c.vocode.checkpoint = ''  # A vocoder's workdir or step dir; '' = latest of --workdir.
  c.vocode.input = ''  # A file or folder (recursive) of audio or of .npy log-mels [frames, num_mels] in [0, 1].
  c.vocode.out_dir = ''  # '' = WORKDIR/vocoded.
  c.vocode.class_id = -1  # A multi-speaker vocoder's speaker (class id); -1 = unset (its speaker 0).
  # > 0: each file is cut into segments of fold_frames frames sampled side by side, generate.batch_size at a
  # time, then crossfaded (generation/folding.py): a long file up to ~segments x faster; 0 = one exact stream.
  c.vocode.fold_frames = 0
  c.vocode.overlap_frames = 8  # With fold_frames: each segment starts this early (half warm-up, half crossfade).

  # launch.py --mode=embeddings (wavenet_jax/apps/embedding_plots.py): a WaveNet's class embedding table, or an
  # NSynth encoder's vectors of a data split (eval.batch_size crops at a time), saved and plotted.
  c.latent = ml_collections.ConfigDict()
  c.latent.checkpoint = ''  # A workdir, step dir or magenta TF checkpoint prefix; '' = latest of --workdir.
  c.latent.out_dir = ''  # '' = WORKDIR/latent (also a TensorBoard run: the images and the projector).
  c.latent.split = ''  # NSynth encoders: the split whose crops are embedded; '' = data.eval_split.
  c.latent.max_examples = 2000  # NSynth encoders: the split's first clips, one crop (one vector) each.
  c.latent.tsne_perplexity = 30.0  # Clamped to (points - 1) / 3 for small sets; t-SNE's seed is `seed`.
  return c
