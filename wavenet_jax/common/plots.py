"""Pictures for PNGs and TensorBoard: a log-magnitude spectrogram, a confusion matrix, a labelled scatter.

Every figure is a `matplotlib.figure.Figure` on its own Agg canvas (`figure`): no pyplot, so
drawing neither picks nor changes matplotlib's global backend, and nothing needs closing.
"""
import numpy as np

from wavenet_jax.common import files


def figure(figsize, dpi=100, ncols=1, squeeze=True, nrows=1):
  """(Figure on an Agg canvas, its axes): one Axes, or nrows x ncols of them as Figure.subplots gives."""
  from matplotlib.backends.backend_agg import FigureCanvasAgg
  from matplotlib.figure import Figure

  fig = Figure(figsize=figsize, dpi=dpi)
  FigureCanvasAgg(fig)
  return fig, fig.subplots(nrows, ncols, squeeze=squeeze)


def save_figure(fig, path):
  """A figure -> a PNG at path (laid out tight), written whole or not at all."""
  fig.tight_layout()
  with files.atomic_path(path) as tmp:
    fig.savefig(tmp, format='png')


def _to_image(fig):
  """A figure from `figure` -> [H, W, 3] uint8 RGB."""
  fig.tight_layout()
  fig.canvas.draw()
  return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def spectrogram_image(audio, sample_rate, title=''):
  """[T] float -> [H, W, 3] uint8 RGB image of its spectrogram (for PNGs and TensorBoard)."""
  fig, ax = figure((8, 3))
  n_fft = min(1024, max(16, len(audio) // 4))  # at least ~7 frames for short clips.
  ax.specgram(np.asarray(audio, np.float64) + 1e-9, NFFT=n_fft, Fs=sample_rate,
              noverlap=n_fft // 2, cmap='magma')
  ax.set_xlabel('seconds')
  ax.set_ylabel('Hz')
  ax.set_title(title)
  return _to_image(fig)


def save_spectrogram(path, audio, sample_rate, title=''):
  save_image(path, spectrogram_image(audio, sample_rate, title))


def confusion_image(confusion, class_names, title=''):
  """[K, K] counts (rows true, columns predicted) -> [H, W, 3] uint8 image, rows normalised."""
  confusion = np.asarray(confusion, np.float64)
  rates = confusion / np.maximum(confusion.sum(1, keepdims=True), 1)
  k = len(class_names)
  size = min(4 + 0.3 * k, 16)
  fig, ax = figure((size, size))
  ax.imshow(rates, cmap='Blues', vmin=0, vmax=1)
  labelled = k <= 60  # beyond that the names would only overlap
  ax.set_xticks(range(k) if labelled else [])
  ax.set_yticks(range(k) if labelled else [])
  if labelled:
    ax.set_xticklabels(class_names, rotation=90, fontsize=7)
    ax.set_yticklabels(class_names, fontsize=7)
  if k <= 20:  # counts readable in the cells
    for i in range(k):
      for j in range(k):
        if confusion[i, j]:
          ax.text(j, i, int(confusion[i, j]), ha='center', va='center', fontsize=7,
                  color='white' if rates[i, j] > 0.5 else 'black')
  ax.set_xlabel('predicted')
  ax.set_ylabel('true')
  ax.set_title(title)
  return _to_image(fig)


def scatter_image(points, labels, title='', axis_labels=('', ''), annotate=False, classes=None):
  """[N, 2] points with N labels -> [H, W, 3] uint8 image, one colour per label.

  annotate: each point's label written beside it (a class embedding: a point per class);
  otherwise a legend (many points per class), left out beyond 30 classes where it would
  cover the plot. classes: the colour and legend order (default: first appearance).
  """
  import matplotlib

  points = np.asarray(points, np.float64).reshape(len(labels), 2)
  classes = list(dict.fromkeys(labels)) if classes is None else list(classes)
  k = len(classes)
  cmap = matplotlib.colormaps['tab10' if k <= 10 else 'tab20' if k <= 20 else 'turbo']
  colour = {c: cmap(i if k <= 20 else i / max(k - 1, 1)) for i, c in enumerate(classes)}
  legend = not annotate and k <= 30
  fig, ax = figure((8 + (2 if legend else 0), 7))
  labels = np.asarray(labels, dtype=object)
  for c in classes:
    at = points[labels == c]
    ax.scatter(at[:, 0], at[:, 1], s=40 if annotate else 12, color=colour[c], label=c,
               alpha=1.0 if annotate else 0.7, edgecolors='none')
  if annotate:
    for (x, y), name in zip(points, labels):
      ax.annotate(str(name), (x, y), xytext=(4, 4), textcoords='offset points', fontsize=8)
  if legend:
    ax.legend(loc='upper left', bbox_to_anchor=(1.01, 1.0), fontsize=7, markerscale=1.5, frameon=False)
  ax.set_xlabel(axis_labels[0])
  ax.set_ylabel(axis_labels[1])
  ax.set_title(title)
  return _to_image(fig)


def save_image(path, image):
  """[H, W, 3] uint8 -> a PNG at path, written whole or not at all."""
  from PIL import Image
  with files.atomic_path(path) as tmp:
    Image.fromarray(image).save(tmp, format='PNG')


def save_log_mel_pair(path, name, frames, out_frames, hop):
  """A vocoder's input log-mels [F, M] above its output's, on one scale -> a PNG at path."""
  fig, axes = figure((8, 5), nrows=2)
  for ax, (title, image) in zip(axes, [(f'{name}: input', frames), ('vocoded', out_frames)]):
    ax.imshow(np.asarray(image).T, origin='lower', aspect='auto', vmin=0, vmax=1, cmap='magma')
    ax.set_title(title)
    ax.set_ylabel('mel band')
  ax.set_xlabel(f'frame ({hop} samples)')
  save_figure(fig, path)
