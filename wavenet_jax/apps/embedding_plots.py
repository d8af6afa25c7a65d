"""`launch.py --mode=embeddings`: a checkpoint's learnt vectors -> .npy, projector TSVs, PCA and t-SNE.

gc table  a globally conditioned WaveNet's class embedding [K, C], exactly the parameter
          array (EMA params if the run kept them); row i labelled by class i's name, the
          null class's row (model.gc_null_class) by 'null'. Saved as gc_embedding.*.
encoder   an NSynth autoencoder's or classifier's encoder on the first latent.max_examples
          clips of a split of the config's data, one crop each (the crops eval takes first),
          its frames mean-pooled over the crop's valid frames: [N, E], labelled by class.
          Saved as encoder_<split>.* (+ encoder_<split>_label_ids.npy).

Each NAME goes to latent.out_dir (default WORKDIR/latent) as NAME.npy, NAME.tsv and
NAME_labels.tsv (the TensorBoard projector's format: tab-separated vectors without a header,
one label per line — a one-column metadata file has no header row), NAME_pca.png and
NAME_tsne.png. The same images go to TensorBoard with that folder as a run of its own,
where the projector also finds projector_config.pbtxt, which lists every NAME there.
An unconditioned WaveNet has neither and fails in one line.
"""
import os
import re

import jax
import numpy as np

from wavenet_jax.checkpoints import checkpointing, trained
from wavenet_jax.common import config_checks, files, plots
from wavenet_jax.generation import encoding
from wavenet_jax.kinds import registry

MIN_TSNE_POINTS = 4  # below this t-SNE has nothing to arrange; the PCA plot says it all


# ------------------------------------------------------------------------- projections

def pca(vectors, k=2):
  """[N, D] -> (coordinates [N, k], explained variance ratio [k]), numpy SVD in float64.

  The centred vectors on their top-k principal axes. Each axis's sign makes its largest
  loading positive (sklearn's svd_flip convention), so a rerun draws the same picture;
  axes that do not exist (N or D < k) are 0.
  """
  x = np.asarray(vectors, np.float64)
  x = x - x.mean(axis=0)
  _, s, vt = np.linalg.svd(x, full_matrices=False)  # s [M], vt [M, D], M = min(N, D)
  m = min(k, len(s))
  vt = vt[:m]
  signs = np.sign(vt[np.arange(m), np.argmax(np.abs(vt), axis=1)])
  vt = vt * np.where(signs == 0, 1.0, signs)[:, None]
  coords, ratio = np.zeros((len(x), k)), np.zeros(k)
  coords[:, :m] = x @ vt.T
  total = np.sum(s**2)
  if total > 0:  # all vectors equal: no direction explains anything
    ratio[:m] = s[:m]**2 / total
  return coords, ratio


def tsne(vectors, perplexity, seed):
  """[N, D] -> (coordinates [N, 2] or None when N < MIN_TSNE_POINTS, a note or '').

  sklearn needs perplexity < N; it is clamped to (N - 1) / 3, where each point's 3·perplexity
  nearest neighbours (what sklearn's Barnes-Hut t-SNE looks at) still exist, and the note says so.
  """
  n = len(vectors)
  if n < MIN_TSNE_POINTS:
    return None, f't-SNE skipped: {n} points (it needs at least {MIN_TSNE_POINTS})'
  used, note = perplexity, ''
  if perplexity > (n - 1) / 3:
    used = (n - 1) / 3
    note = (f't-SNE perplexity {perplexity:g} clamped to {used:.3g} = (N - 1) / 3 for N = {n} points '
            f'(it must stay below the number of points)')
  try:
    from sklearn.manifold import TSNE
  except ImportError:
    raise config_checks.ConfigError('t-SNE needs scikit-learn: pip install scikit-learn '
                                    '(librosa, in requirements.txt, installs it)') from None
  x = np.asarray(vectors, np.float64)
  init = 'pca' if min(x.shape) >= 2 else 'random'  # PCA init needs two axes
  coords = TSNE(n_components=2, perplexity=used, init=init, learning_rate='auto',
                random_state=seed).fit_transform(x)
  return coords, note


# ------------------------------------------------------------------------- the vectors

def class_labels(rows, meta):
  """A gc table's row names: class i's name, 'null' for meta's null_class_id, 'classI' beyond the names."""
  names, null = list(meta.get('class_names') or ()), meta.get('null_class_id')
  return ['null' if i == null else names[i] if i < len(names) else f'class{i}' for i in range(rows)]


def mean_pooled(frames, mask, hop):
  """Frames [B, F, E] and the sample mask [B, F·hop] -> (float32 [B, E], valid frames [B]).

  The mean over the frames holding any audio, as the classifier head's mean pooling counts
  them: the frames of a short clip's padding do not dilute its vector.
  """
  valid = np.asarray(mask).reshape(len(mask), -1, hop).max(axis=-1) > 0  # [B, F]
  count = valid.sum(axis=1)
  total = np.sum(np.where(valid[..., None], np.asarray(frames, np.float64), 0.0), axis=1)  # [B, E]
  return (total / np.maximum(count, 1)[:, None]).astype(np.float32), count


def split_crops(run, split, max_examples, batch_size):
  """Host batches {'audio': [b, C], 'mask': [b, C], 'label': [b]} of the first max_examples clips of `split`.

  One crop per clip, the ones Run.eval_batches(split) yields first (eval.seed, no context:
  the encoder has none), built from the same pieces because eval_batches decodes the whole
  split before its first batch and pads the last one. No noise augmentation: the vectors
  are of the data as recorded. Every process reads the whole split.
  """
  import tensorflow as tf

  from wavenet_jax.input import pipeline
  c = run.config
  columns, read = pipeline._labelled_records(run.sources, run.sources.host_reads(run.which(split)))
  ds = tf.data.Dataset.from_tensor_slices(tuple(columns)).flat_map(read)
  ds = ds.filter(lambda label, record: label >= 0).take(max_examples).enumerate()
  ds = ds.map(pipeline._crop_fn(seed=c.eval.seed, receptive_field=0, crop_length=c.data.sample_size,
                                      silence_threshold=c.data.silence_threshold,
                                      deserialize=run.sources.deserialize(), augment=None),
              num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  return ds.batch(batch_size).prefetch(1).as_numpy_iterator()


def encoder_vectors(model, batches, batch_size, chunk_frames):
  """(vectors [N, E] float32, label ids [N] int32, crops without audio) of every crop in `batches`."""
  vectors, labels, silent = [], [], 0
  for batch in batches:
    n = len(batch['label'])
    wavs = np.zeros((batch_size, batch['audio'].shape[1]), np.float32)  # one shape: one compile
    wavs[:n] = batch['audio']
    frames = encoding.encode(model, wavs, chunk_frames)[:n]  # [n, F, E]
    pooled, count = mean_pooled(frames, batch['mask'], model.hop)
    keep = count > 0  # a clip silent after trimming has no frame to pool
    silent += int(np.sum(~keep))
    vectors.append(pooled[keep])
    labels.append(np.asarray(batch['label'], np.int32)[keep])
  if not vectors:
    return np.zeros((0, model.channels), np.float32), np.zeros((0,), np.int32), silent
  return np.concatenate(vectors), np.concatenate(labels), silent


# ------------------------------------------------------------------------- files

def _tsv_label(name):
  """One metadata line: a tab would read as a second column (and make line 1 a header)."""
  return ' '.join(str(name).split()) or '?'


def write_vectors(out_dir, name, vectors, labels):
  """NAME.npy (the array as given), NAME.tsv (%.9g: float32 round-trips) and NAME_labels.tsv."""
  files.save_npy(os.path.join(out_dir, name + '.npy'), vectors)
  files.write_text(os.path.join(out_dir, name + '.tsv'),
              ''.join('\t'.join(f'{v:.9g}' for v in row) + '\n' for row in np.asarray(vectors, np.float64)))
  files.write_text(os.path.join(out_dir, name + '_labels.tsv'), ''.join(_tsv_label(l) + '\n' for l in labels))


def write_projector_config(out_dir):
  """projector_config.pbtxt naming every NAME.tsv + NAME_labels.tsv pair in out_dir (earlier runs' too)."""
  names = sorted(f[:-4] for f in os.listdir(out_dir)
                 if f.endswith('.tsv') and not f.endswith('_labels.tsv')
                 and os.path.exists(os.path.join(out_dir, f[:-4] + '_labels.tsv')))
  # Paths relative to the config: TensorBoard refuses assets outside its folder.
  files.write_text(os.path.join(out_dir, 'projector_config.pbtxt'), ''.join(
      f'embeddings {{\n  tensor_name: "{n}"\n  tensor_path: "{n}.tsv"\n  metadata_path: "{n}_labels.tsv"\n}}\n'
      for n in names))


def plot(out_dir, name, vectors, labels, what, perplexity, seed, annotate, classes=None):
  """NAME_pca.png and NAME_tsne.png; -> ({tag: image}, [notes]) for TensorBoard and the log."""
  coords, ratio = pca(vectors)
  images = {f'latent/{name}_pca': plots.scatter_image(
      coords, labels, f'{what}: PCA', (f'PC1 ({100 * ratio[0]:.1f}% of variance)',
                                       f'PC2 ({100 * ratio[1]:.1f}% of variance)'), annotate, classes)}
  notes = [f'PCA explains {100 * ratio[0]:.1f}% + {100 * ratio[1]:.1f}% of the variance']
  points, note = tsne(vectors, perplexity, seed)
  if note:
    notes.append(note)
  if points is not None:
    images[f'latent/{name}_tsne'] = plots.scatter_image(
        points, labels, f'{what}: t-SNE', ('t-SNE 1', 't-SNE 2'), annotate, classes)
  for tag, image in images.items():
    plots.save_image(os.path.join(out_dir, tag.split('/', 1)[1] + '.png'), image)
  return images, notes


# ------------------------------------------------------------------------- the mode

def _check_options(l):
  n = l.max_examples
  if not config_checks.positive_int(n):
    raise config_checks.ConfigError(f'latent.max_examples={n!r}: must be an integer >= 1')
  if isinstance(l.tsne_perplexity, bool) or not isinstance(l.tsne_perplexity, (int, float)) \
      or not l.tsne_perplexity > 0:
    raise config_checks.ConfigError(f'latent.tsne_perplexity={l.tsne_perplexity!r}: must be a number > 0')


def _load(path, config):
  """(kind, meta, gc table or None, trained.NSynthModel or None) of a run or a magenta TF prefix."""
  if os.path.exists(path + '.index'):  # magenta's released autoencoder: no meta, no gc table
    model = trained.load_nsynth(path, config)
    return model.kind, {'step': 0}, None, model
  meta = checkpointing.load_meta(path)
  kind = registry.name_of(meta.get('model'))
  if not registry.get(kind).supports('embeddings'):
    raise checkpointing.CheckpointError(
        f'{path}: a {kind} checkpoint (model.kind {kind!r}) has no embeddings to plot: --mode=embeddings takes '
        'a class-conditioned WaveNet or an NSynth autoencoder/classifier')
  if registry.get(kind).supports('encode'):  # check_config keeps these unconditioned
    return kind, meta, None, trained.load_nsynth(path, config, 'latent.checkpoint')
  state, meta = checkpointing.load(path, 'latent.checkpoint')
  params = checkpointing.eval_params(state)
  table = params['params'].get('gc_embedding')
  if table is None:
    raise checkpointing.CheckpointError(
        f'{path}: an unconditioned WaveNet (model.gc_cardinality 0) has no embedding to plot: '
        '--mode=embeddings needs a class-conditioned WaveNet or an NSynth autoencoder/classifier')
  return kind, meta, np.asarray(table), None


def plot_embeddings(config, workdir: str):
  """--mode=embeddings: the checkpoint's gc table or encoder vectors -> files; returns {NAME: {what: path}}.

  Reads latent.checkpoint (default: --workdir's latest), latent.out_dir, and for the encoder
  latent.split (default data.eval_split) and latent.max_examples, with the config's data,
  eval.batch_size and embeddings.chunk_frames; t-SNE uses latent.tsne_perplexity and seed.
  """
  from clu import metric_writers
  l = config.latent
  _check_options(l)
  workdir = config_checks.check_workdir(workdir)
  path = os.path.expanduser(l.checkpoint) if l.checkpoint else workdir
  kind, meta, table, model = _load(path, config)
  out_dir = os.path.abspath(os.path.expanduser(l.out_dir or os.path.join(workdir, 'latent')))
  items = []  # (NAME, vectors, labels, title, annotate, legend order, label ids)
  if table is not None and l.split:
    raise config_checks.ConfigError(f'latent.split={l.split!r}: a class-conditioned WaveNet\'s embedding is its '
                                    'class table, read from no split; leave it out')
  if table is not None:
    items.append(('gc_embedding', table, class_labels(len(table), meta),
                  f'{kind} class embedding ({table.shape[0]} x {table.shape[1]}), step {meta["step"]}',
                  True, None, None))
  else:
    items.append(_encoder_item(config, workdir, model, kind, meta))
  if jax.process_index() > 0:  # every process computed the same; one writes
    return {}
  os.makedirs(out_dir, exist_ok=True)
  writer = metric_writers.create_default_writer(out_dir, asynchronous=False)
  written = {}
  for name, vectors, labels, title, annotate, classes, ids in items:
    write_vectors(out_dir, name, vectors, labels)
    if ids is not None:
      files.save_npy(os.path.join(out_dir, name + '_label_ids.npy'), ids)
    images, notes = plot(out_dir, name, vectors, labels, title, l.tsne_perplexity, config.seed,
                         annotate, classes)
    writer.write_images(int(meta['step']), {tag: image[None] for tag, image in images.items()})
    written[name] = {k: os.path.join(out_dir, f'{name}{suffix}') for k, suffix in (
        ('npy', '.npy'), ('tsv', '.tsv'), ('labels', '_labels.tsv'))}
    written[name].update({tag.rsplit('_', 1)[1]: os.path.join(out_dir, tag.split('/', 1)[1] + '.png')
                          for tag in images})
    print(f'{name}: {len(vectors)} vectors of {vectors.shape[1]} -> {out_dir}/{name}.npy, .tsv, '
          f'_labels.tsv, ' + ', '.join(f'_{k}.png' for k in written[name] if k in ('pca', 'tsne'))
          + '; ' + '; '.join(notes), flush=True)
  writer.flush()
  writer.close()
  write_projector_config(out_dir)
  print(f'TensorBoard: tensorboard --logdir {out_dir} (images, and the projector tab)', flush=True)
  return written


def _encoder_item(config, workdir, model, kind, meta):
  """The encoder's mean-pooled vectors of latent.split, as plot_embeddings' item."""
  l = config.latent
  split = l.split or config.data.eval_split
  from wavenet_jax.training import run as run_lib  # TensorFlow's input pipeline: only for encoder vectors
  run = run_lib.open_run(config, workdir)  # the config's data (sources, class names), nothing trained
  if config.data.sample_size % model.hop:
    raise config_checks.ConfigError(f'data.sample_size={config.data.sample_size}: crops must be a '
                                    f'multiple of the checkpoint encoder\'s hop {model.hop}')
  if run.sources.sample_rate != model.sample_rate:
    raise config_checks.ConfigError(f'{model.path}: the encoder was trained at {model.sample_rate} Hz '
                                    f'but the data is at {run.sources.sample_rate} Hz (data.sample_rate)')
  e = config.embeddings
  if not isinstance(e.chunk_frames, int) or e.chunk_frames < 1:
    raise config_checks.ConfigError(f'embeddings.chunk_frames={e.chunk_frames!r}: must be an integer >= 1')
  batch_size = config.eval.batch_size
  vectors, ids, silent = encoder_vectors(model, split_crops(run, split, l.max_examples, batch_size),
                                         batch_size, e.chunk_frames)
  if not len(vectors):
    raise config_checks.ConfigError(f'latent.split={split!r}: no clip with audio to embed'
                                    + (f' ({silent} silent after trimming)' if silent else ''))
  if silent:
    print(f'warning: {silent} crops of {split} are silent after trimming (data.silence_threshold); '
          'left out', flush=True)
  names = run.class_names
  labels = [names[i] for i in ids]
  present = [n for i, n in enumerate(names) if i in set(ids.tolist())]
  counts = ', '.join(f'{n} {labels.count(n)}' for n in present)
  print(f'{split}: {len(vectors)} crops of {config.data.sample_size} samples ({counts})', flush=True)
  name = 'encoder_' + re.sub(r'[^\w.+-]', '_', split)
  title = (f'{kind} encoder, {split} crops mean-pooled ({len(vectors)} x {vectors.shape[1]}), '
           f'step {meta["step"]}')
  return name, vectors, labels, title, False, present, ids
