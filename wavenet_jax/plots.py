"""Pictures of audio: a log-magnitude spectrogram as a PNG or an image array."""
import numpy as np


def spectrogram_image(audio, sample_rate, title=''):
  """[T] float -> [H, W, 3] uint8 RGB image of its spectrogram (for PNGs and TensorBoard)."""
  import matplotlib
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt

  fig, ax = plt.subplots(figsize=(8, 3), dpi=100)
  n_fft = min(1024, max(16, len(audio) // 4))  # at least ~7 frames for short clips.
  ax.specgram(np.asarray(audio, np.float64) + 1e-9, NFFT=n_fft, Fs=sample_rate,
              noverlap=n_fft // 2, cmap='magma')
  ax.set_xlabel('seconds')
  ax.set_ylabel('Hz')
  ax.set_title(title)
  fig.tight_layout()
  fig.canvas.draw()
  image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
  plt.close(fig)
  return image


def save_spectrogram(path, audio, sample_rate, title=''):
  import os

  from PIL import Image
  tmp = path + '.tmp.png'
  Image.fromarray(spectrogram_image(audio, sample_rate, title)).save(tmp)
  os.replace(tmp, path)
