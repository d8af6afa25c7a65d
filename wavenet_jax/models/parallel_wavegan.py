"""Parallel WaveGAN's two players (Yamamoto et al. 2020), built from the WaveNet's layers.

Generator, the non-causal WaveNet: noise [B, T] ~ N(0, 1) and local conditioning lc [B, T, M]
(log-mels upsampled to the sample rate) -> a 1x1 to R channels -> L gated residual blocks
(layers.ResidualBlock with causal=False: kernel k centred, dilation 2^(l mod L/stacks),
x' = (x + W_d z)·√½), each conditioned by a 1x1 of lc -> the blocks' skips summed, ·√(1/L)
-> ReLU -> 1x1 -> ReLU -> 1x1 -> audio [B, T], every sample in one pass.
Discriminator: audio [B, T] -> 9 non-causal convs (kernel k, C channels, dilations 1, 1, 2,
..., 8), each followed by a leaky ReLU (slope 0.2) -> a last conv to one channel: a real/fake
score per sample [B, T].
ParallelVocoder: the generator conditioned on log-mel frames through the autoregressive
vocoder's upsampler (models/vocoder.MelConditioned): noise [B, F·hop] and frames
[B, F + 2·margin, M] -> audio [B, F·hop]; in training it carries the discriminator too, so
one module's params (and one checkpoint) hold both players.
"""
import math
from typing import Optional

import flax.linen as nn
import jax.numpy as jnp

from wavenet_jax.input import mel
from wavenet_jax.models import layers
from wavenet_jax.models.upsample import Upsampler
from wavenet_jax.models.vocoder import MelConditioned


class Generator(nn.Module):
  num_layers: int = 30
  stacks: int = 3
  filter_width: int = 3
  residual_channels: int = 64
  gate_channels: int = 128  # the filter and gate halves together (2D)
  skip_channels: int = 64
  lc_channels: int = 80

  @property
  def dilations(self):
    per_stack = self.num_layers // self.stacks
    return tuple(2 ** (i % per_stack) for i in range(self.num_layers))

  @property
  def halo(self) -> int:
    """Samples each side of a stretch that reach its output: give them, and the stretch's
    output equals the whole signal's there."""
    return sum((self.filter_width - 1) // 2 * d for d in self.dilations)

  def setup(self):
    r, d, s, n = self.residual_channels, self.gate_channels // 2, self.skip_channels, self.num_layers
    self.first = layers.Dense(1, r, name='first')
    self.blocks = [layers.ResidualBlock(r, d, self.filter_width, dilation, use_bias=True, causal=False,
                                        residual_scale=math.sqrt(0.5), name=f'layer_{i}')
                   for i, dilation in enumerate(self.dilations)]
    self.lc_proj = self.param('lc_proj', layers.glorot, (n, self.lc_channels, 2 * d))
    # The blocks' skip 1x1s, summed as they come: one [T, S] sum lives, not every block's z.
    self.skip_kernel = self.param('skip_kernel', layers.glorot, (n, d, s))
    self.skip_bias = self.param('skip_bias', layers.zeros, (s,))
    self.out1 = layers.Dense(s, s, name='out1')
    self.out2 = layers.Dense(s, 1, name='out2')

  def __call__(self, noise, lc, valid=None):  # [B, T], [B, T, M] (or w -> lc @ w), [B, T] bool -> [B, T]
    """lc: the local conditioning, or a function giving its product with a [M, 2D] matrix
    (ParallelVocoder's takes it at the frame rate). valid: the samples each row really has (a
    shorter signal padded in a batch); every layer sees zeros past them, as past the ends of a
    signal alone, so padding changes nothing."""
    project = lc if callable(lc) else lambda w: layers.affine(lc, w)
    x = self.first(noise[..., None])  # [B, T, R]
    skips = self.skip_bias
    for i, block in enumerate(self.blocks):
      if valid is not None:
        x = jnp.where(valid[..., None], x, 0.0)
      z, x = block(x, project(self.lc_proj[i]))  # [B, T, 2D] conditioning
      skips = skips + layers.affine(z, self.skip_kernel[i])  # [B, T, S]
    h = skips * math.sqrt(1.0 / self.num_layers)
    return self.out2(nn.relu(self.out1(nn.relu(h))))[..., 0]


class Discriminator(nn.Module):
  num_layers: int = 10
  filter_width: int = 3
  channels: int = 64
  negative_slope: float = 0.2

  @property
  def dilations(self):
    return (1,) + tuple(range(1, self.num_layers - 1))  # the last conv's, 1, after them

  @nn.compact
  def __call__(self, audio):  # [B, T] -> [B, T]
    x = audio[..., None]
    for i, dilation in enumerate(self.dilations):
      x = layers.CausalConv(x.shape[-1], self.channels, self.filter_width, dilation, use_bias=True,
                            causal=False, xla_conv=False, name=f'conv_{i}')(x)
      x = nn.leaky_relu(x, self.negative_slope)
    # Stacked taps, not XLA's convolution: with it the GAN's train step took 4x as long on a CPU.
    return layers.CausalConv(self.channels, 1, self.filter_width, 1, use_bias=True, causal=False,
                             xla_conv=False, name='last')(x)[..., 0]


class ParallelVocoder(MelConditioned, nn.Module):
  upsampler: Upsampler
  generator: Generator
  features: mel.Settings
  sample_rate: int
  discriminator: Optional[Discriminator] = None

  def __call__(self, noise, frames, valid=None):  # [B, F·hop], [B, F + 2·margin, M] -> [B, F·hop]
    audio = self.generator(noise, self.projected_condition(frames), valid)
    if self.discriminator is not None and self.is_initializing():
      self.discriminate(audio)  # init makes both players' params
    return audio

  def discriminate(self, audio):  # [B, T] -> real/fake scores [B, T]
    return self.discriminator(audio)
